"""The Lua scripts RedisLimits runs: each reservation and settlement is one script on Redis's
clock, so every process of a fleet sees one state (see esi_client.shared_limits)."""

from __future__ import annotations

NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) + tonumber(t[2]) / 1000000 "

ERROR_RESERVE = (
    NOW
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local inflight = redis.call('ZCARD', KEYS[2])
local remain = tonumber(redis.call('HGET', KEYS[1], 'remain'))
local reset_at = tonumber(redis.call('HGET', KEYS[1], 'reset_at')) or 0
if remain and now >= reset_at then remain = nil redis.call('HDEL', KEYS[1], 'remain') end
local allowed
if remain == nil then allowed = inflight < tonumber(ARGV[4])
else allowed = remain - inflight > tonumber(ARGV[3]) end
if allowed then
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
  redis.call('EXPIRE', KEYS[2], math.ceil(tonumber(ARGV[2])) + 60)
  return '0'
end
if remain and inflight == 0 then return tostring(math.max(reset_at - now, tonumber(ARGV[5]))) end
return ARGV[5]
"""
)

ERROR_SETTLE = (
    NOW
    + """
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] == '' then return 0 end
local remain = tonumber(ARGV[2])
local reset_at = now + math.min(math.max(tonumber(ARGV[3]), 0), tonumber(ARGV[4]))
local current = tonumber(redis.call('HGET', KEYS[1], 'remain'))
local current_reset = tonumber(redis.call('HGET', KEYS[1], 'reset_at')) or 0
if current == nil or reset_at > current_reset + 1.5 then
  redis.call('HSET', KEYS[1], 'remain', remain, 'reset_at', reset_at)
else
  redis.call('HSET', KEYS[1], 'remain', math.min(current, remain))
end
redis.call('EXPIRE', KEYS[1], 86400)
return 0
"""
)

ERROR_EXHAUSTED = (
    NOW
    + """
redis.call('HSET', KEYS[1], 'remain', 0, 'reset_at', now + tonumber(ARGV[1]))
redis.call('EXPIRE', KEYS[1], 86400)
return 0
"""
)

RATE_RESERVE = (
    NOW
    + """
local paused = tonumber(redis.call('HGET', KEYS[1], 'paused_until')) or 0
if paused > now + 86400 then paused = 0 redis.call('HDEL', KEYS[1], 'paused_until') end
if paused > now then return tostring(paused - now) end
local limit = tonumber(redis.call('HGET', KEYS[1], 'limit')) or tonumber(ARGV[3])
local window = tonumber(redis.call('HGET', KEYS[1], 'window')) or tonumber(ARGV[4])
if limit < 1 or window <= 0 then limit = tonumber(ARGV[3]) window = tonumber(ARGV[4]) end
local remaining = tonumber(redis.call('HGET', KEYS[1], 'remaining'))
local old = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now - window)
if #old > 0 then
  for _, member in ipairs(old) do
    local tokens = tonumber(string.match(member, ':(%d+)$')) or 0
    if remaining then remaining = math.min(limit, remaining + tokens) end
    redis.call('ZREM', KEYS[4], member)
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - window)
  if remaining then redis.call('HSET', KEYS[1], 'remaining', remaining) end
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local inflight = redis.call('ZCARD', KEYS[2])
local keep = math.max(math.floor(limit * tonumber(ARGV[5])), 5)
local function take()
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
  redis.call('EXPIRE', KEYS[2], math.ceil(tonumber(ARGV[2])) + 60)
  return '0:' .. ARGV[1]
end
if remaining and remaining - 2 * inflight <= keep then
  if inflight > 0 then return ARGV[6] end
  local oldest = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  if #oldest == 0 then ARGV[1] = 'probe:' .. ARGV[1] return take() end
  return tostring(math.max(tonumber(oldest[2]) + window - now, tonumber(ARGV[6])))
end
return take()
"""
)

RATE_SETTLE = (
    NOW
    + """
local leased = tonumber(redis.call('ZSCORE', KEYS[2], ARGV[1]))
local reserved_at = leased and (leased - tonumber(ARGV[6])) or now
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'limit', ARGV[4], 'window', ARGV[5]) end
if ARGV[2] ~= '' then
  local reported = tonumber(ARGV[2])
  local current = tonumber(redis.call('HGET', KEYS[1], 'remaining'))
  -- answers arrive out of order: only the lowest is believed, but a probe went alone
  if not current or string.sub(ARGV[1], 1, 6) == 'probe:' or reported < current then
    redis.call('HSET', KEYS[1], 'remaining', reported)
    -- the answer's count is the bucket's now: tokens it may already count as given back
    -- (reserved a window or more ago) must not be given back a second time
    -- (KEYS[4] holds the spends by reservation: found without reading them all)
    local window = tonumber(redis.call('HGET', KEYS[1], 'window')) or tonumber(ARGV[5])
    for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now - window)) do
      redis.call('ZREM', KEYS[3], member) redis.call('ZREM', KEYS[4], member)
    end
  end
  if ARGV[3] ~= '' and tonumber(ARGV[3]) > 0 then
    local member = ARGV[1] .. ':' .. string.format('%.3f', reserved_at) .. ':' .. ARGV[3]
    redis.call('ZADD', KEYS[3], now, member) redis.call('ZADD', KEYS[4], reserved_at, member)
  end
end
local keep = math.ceil(tonumber(ARGV[5])) + 60
redis.call('EXPIRE', KEYS[1], keep) redis.call('EXPIRE', KEYS[3], keep) redis.call('EXPIRE', KEYS[4], keep)
return 0
"""
)

RATE_PAUSE = (
    NOW
    + """
local resume_at = now + tonumber(ARGV[1])
local paused = tonumber(redis.call('HGET', KEYS[1], 'paused_until')) or 0
redis.call('HSET', KEYS[1], 'paused_until', math.max(paused, resume_at))
redis.call('HDEL', KEYS[1], 'remaining')
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1])) + 3600)
return 0
"""
)
