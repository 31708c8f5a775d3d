-- The Lua of the nginx peer (nginx.conf): GET /<key> answers Redis's value
-- of <key>, 404 when it has none, 503 when Redis fails.
--   hit():  a per-worker lua-resty-lrucache in front of Redis (TTL as
--           shardcache's CACHE_TTL_MS); no coalescing, no invalidation.
--   miss(): no cache, one lua-resty-redis GET per request over a pooled
--           keepalive connection.
local lrucache = require "resty.lrucache"
local redis = require "nginx.redis" -- Debian's lua-nginx-redis (lua-resty-redis)

local ngx = ngx
local null = ngx.null

local M = {}
local redis_port, capacity, ttl
local cache

function M.configure(port, cap, ttl_seconds)
  redis_port, capacity, ttl = port, cap, ttl_seconds
end

function M.init_worker()
  local c, err = lrucache.new(math.max(capacity, 1))
  if not c then error("lrucache: " .. err) end
  cache = c
end

-- One GET through the worker's keepalive pool; nil and a status on failure.
local function fetch(key)
  local red = redis:new()
  red:set_timeout(1000)
  local ok, err = red:connect("127.0.0.1", redis_port)
  if not ok then return nil, 503, err end
  local value
  value, err = red:get(key)
  if err then return nil, 503, err end
  red:set_keepalive(60000, 256)
  if value == null then return nil, 404 end
  return value
end

local function answer(value)
  ngx.header["Cache-Control"] = "max-age=" .. ttl
  ngx.header["Content-Length"] = #value
  ngx.print(value)
end

function M.hit()
  local key = ngx.var.uri:sub(2)
  local value = cache:get(key)
  if value == nil then
    local status, err
    value, status, err = fetch(key)
    if value == nil then
      if err then ngx.log(ngx.ERR, "redis: ", err) end
      return ngx.exit(status)
    end
    cache:set(key, value, ttl)
  end
  answer(value)
end

function M.miss()
  local value, status, err = fetch(ngx.var.uri:sub(2))
  if value == nil then
    if err then ngx.log(ngx.ERR, "redis: ", err) end
    return ngx.exit(status)
  end
  answer(value)
end

return M
