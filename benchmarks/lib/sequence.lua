-- wrk script: requests /<prefix><i><suffix> for i = start, start + 1, … and wraps at
-- count, so that a run streams distinct keys in order (the memory benchmark
-- fills a cache with it, and streams 10M distinct keys through one).
-- Arguments: prefix, start, count, and an optional suffix after the number
-- (webdis names a key /GET/<key>.txt: prefix "GET/m:", suffix ".txt").
local prefix, i, count, suffix = "", 0, 1, ""

function init(args)
  prefix = args[1]
  i = tonumber(args[2])
  count = tonumber(args[3])
  suffix = args[4] or ""
end

function request()
  local path = "/" .. prefix .. i .. suffix
  i = (i + 1) % count
  return wrk.format("GET", path)
end

-- The WRK_JSON line lib/wrk.ts reads (wrk-done.lua, beside this script).
done = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "wrk-done.lua")
