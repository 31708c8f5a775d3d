-- wrk script: requests the paths listed in a file (one per line), cycling, each
-- thread from its own starting point. Requests are formatted once, at start-up,
-- so the generator spends its CPU on the socket, not in Lua.
-- Optional third argument: the index to start from (a hit-ratio scenario
-- continues each target where its last run stopped; see replay.ts).
-- Optional second argument: the mean delay in ms between a connection's
-- requests (paced load for the latency run; wrk has no open-loop mode).
-- Each delay is drawn uniformly from 0.5x to 1.5x the mean: with one fixed
-- delay, every connection wakes on the same timer tick and the "paced" load
-- arrives as bursts of 64 requests at full speed, which measures the burst's
-- queue (bare node:http showed a 3 ms p99 that way), not latency at the rate.
-- wrk's timers take whole milliseconds, so the fraction is rounded at random
-- to keep the mean exact.
-- WRK_HEADERS: "Name: value" lines sent with every request (Authorization for
-- ACCESS_FILE), formatted into the requests once like the rest.
local reqs, n, i, pause = {}, 0, 0, 0

function init(args)
  local headers = {}
  for name, value in (os.getenv("WRK_HEADERS") or ""):gmatch("([^:\n]+): ([^\n]*)\n") do
    headers[name] = value
  end
  for line in io.lines(args[1]) do
    n = n + 1
    reqs[n] = wrk.format("GET", line, headers)
  end
  math.randomseed(os.time() + tonumber(tostring(reqs):sub(-6), 16))
  i = math.random(n) - 1
  if args[3] ~= nil then i = tonumber(args[3]) % n end
  pause = tonumber(args[2] or "0")
end

function request()
  i = i % n + 1
  return reqs[i]
end

if tonumber((os.getenv("WRK_PAUSE_MS") or "0")) > 0 then
  function delay()
    local d = pause * (0.5 + math.random())
    local whole = math.floor(d)
    if math.random() < d - whole then whole = whole + 1 end
    return whole
  end
end

-- The WRK_JSON line lib/wrk.ts reads (wrk-done.lua, beside this script).
done = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk-done.lua")
