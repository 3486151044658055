-- Timing helpers of the background-mode scripts (tests/lua/background*.lua).
local enet = require "enet"

local M = {}

-- Spins (no call into the module) for `seconds` of this process's CPU time.
function M.stall(seconds)
  local t0, spin = os.clock(), 0
  while os.clock() - t0 < seconds do spin = spin + 1 end
  return spin
end

-- A wall clock in milliseconds: ENet's service time of a host of its own.
local clock
function M.now()
  clock = clock or assert(enet.host_create(nil, 1))
  clock:service(0)
  return clock:service_time()
end

-- Calls fn() until it returns a true value, spinning between calls, for at most `seconds`.
function M.within(seconds, fn)
  local t0 = M.now()
  repeat
    local v = fn()
    if v then return v end
    M.stall(0.001)
  until M.now() - t0 > seconds * 1000
  error("not within " .. seconds .. " s", 2)
end

return M
