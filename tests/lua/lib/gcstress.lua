-- The one place that knows how to make each Lua run its collector, finalizers included, at
-- (nearly) every allocation, and how to put it back. The re-entrancy tests arm a finalizer and
-- call this so that the finalizer runs inside our calls (docs/contract.md §7); each Lua spells it
-- differently, and a copy that missed one Lua once failed CI.
local M = {}

-- A GC step at every allocation check, each step a whole cycle with its finalizers.
function M.eager()
  if _VERSION == "Lua 5.4" then
    collectgarbage("incremental", 100, 1000, 63)
  elseif _VERSION == "Lua 5.5" then
    -- 5.5 has no setpause/setstepmul. A switch from generational mode (lua.c's default) ends
    -- in the middle of a cycle, hence "incremental" first; a step multiplier of 0 makes a step a
    -- whole cycle (any other value stops a step at the atomic phase, before the finalizers).
    collectgarbage("incremental")
    collectgarbage("param", "pause", 0)
    collectgarbage("param", "stepmul", 0)
    collectgarbage("param", "stepsize", 60)
  else
    -- 5.1 and LuaJIT read a step multiplier of 0 as "no limit"; 5.2 and 5.3 raise anything
    -- below 40 to 40, so they get a huge one.
    collectgarbage("setpause", 0)
    collectgarbage("setstepmul", (_VERSION == "Lua 5.1") and 0 or 1000000000)
  end
  collectgarbage("restart")
end

-- Each Lua's default collector settings again.
function M.normal()
  if _VERSION == "Lua 5.4" then
    collectgarbage("incremental", 200, 100, 13)
  elseif _VERSION == "Lua 5.5" then
    collectgarbage("param", "pause", 200)
    collectgarbage("param", "stepmul", 200)
    collectgarbage("param", "stepsize", 9600) -- in bytes on 5.5
  else
    collectgarbage("setpause", 200)
    collectgarbage("setstepmul", 200)
  end
  collectgarbage("restart")
end

return M
