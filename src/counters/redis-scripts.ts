/**
 * One Lua script per decision. Each touches one key, reads the clock with `TIME` inside Redis
 * (gateway clock skew cannot move a limit), and mirrors algorithms.ts. Redis truncates Lua
 * numbers to integers: GCRA answers whole microseconds, the others fractional values as strings.
 */

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
`;

/**
 * KEYS[1] TAT; ARGV emissionMs, burst, cost → one integer, microseconds: `newTat - now` (>= 0)
 * when admitted, `-(allowAt - now)` (< 0) when refused; `gcraDecision` turns it into the
 * decision (one integer is the cheapest reply to send and parse).
 */
export const GCRA_SCRIPT = `${NOW}
local T = tonumber(ARGV[1])
local cost = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local newTat = tat + cost * T
local allowAt = newTat - tonumber(ARGV[2]) * T
if allowAt > now + 1e-6 then
  return math.floor((now - allowAt) * 1000)
end
redis.call('SET', KEYS[1], string.format('%.6f', newTat), 'PX', math.max(1, math.ceil(newTat - now)))
return math.floor((newTat - now) * 1000)
`;

/** KEYS[1] hash {window index → count}; ARGV windowMs, limit, cost → as GCRA */
export const WINDOW_SCRIPT = `${NOW}
local w = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local idx = math.floor(now / w)
local cur = tonumber(redis.call('HGET', KEYS[1], tostring(idx)) or '0')
local prev = tonumber(redis.call('HGET', KEYS[1], tostring(idx - 1)) or '0')
local elapsed = now - idx * w
local estimate = prev * ((w - elapsed) / w) + cur
local resetMs = w - elapsed
if estimate + cost > limit then
  local retry
  local room = limit - cur - cost
  if room >= 0 and prev > 0 then
    retry = w * (1 - room / prev) - elapsed
  else
    retry = resetMs
    local roomNext = limit - cost
    if cur > 0 and roomNext >= 0 then retry = retry + w * (1 - roomNext / cur) end
  end
  if retry < 1 then retry = 1 end
  return {0, 0, tostring(retry), tostring(resetMs)}
end
redis.call('HINCRBY', KEYS[1], tostring(idx), cost)
redis.call('HDEL', KEYS[1], tostring(idx - 2))
redis.call('PEXPIRE', KEYS[1], math.ceil(2 * w - elapsed))
return {1, math.floor(limit - estimate - cost), '0', tostring(resetMs)}
`;

/** KEYS[1] TAT; ARGV emissionMs, burst, delayFree → {allowed, delayMs, retryAfterMs} */
export const RESERVE_SCRIPT = `${NOW}
local T = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local free = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local queued = tat - now
if queued > burst * T + 1e-6 then
  return {0, '0', tostring(queued - burst * T)}
end
local newTat = tat + T
redis.call('SET', KEYS[1], string.format('%.6f', newTat), 'PX', math.max(1, math.ceil(newTat - now)))
local delay = queued - free * T
if delay < 0 then delay = 0 end
return {1, tostring(delay), '0'}
`;

/** KEYS[1] counter; ARGV cost, limit, ttlMs → {allowed, count} */
export const INCREMENT_SCRIPT = `
local cost = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local c = tonumber(redis.call('GET', KEYS[1]) or '0')
if c + cost > limit then return {0, c} end
c = redis.call('INCRBY', KEYS[1], cost)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, c}
`;
