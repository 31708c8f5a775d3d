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

function done(summary, latency, requests)
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
