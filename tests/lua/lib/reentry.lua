-- How the re-entrancy tests (tests/lua/matrix/reentrancy.lua, one process per method and
-- finalizer action; tests/lua/reentrancy_extra.lua) arm a finalizer to run at the first
-- allocation inside one of our calls (docs/contract.md §7), and check that it did. One copy for
-- both: a copy that missed a step of one Lua once let that Lua's finalizer run after the call,
-- where it proves nothing.
local gcstress = require "gcstress"
local M = {}

local unpack = table.unpack or unpack

local STACK = {}
for i = 1, 200 do STACK[i] = i end
local function deep(n)
  if n == 0 then return select("#", unpack(STACK)) end
  return deep(n - 1) + 1 -- not a tail call: one call frame per level
end

-- Arms `finalizer` to run at the next allocation that checks the GC: a collected object with
-- a finalizer, and GC settings that make one step a whole cycle. The caller then calls the
-- function under test with nothing allocated in between, and M.disarm() after it.
function M.arm(finalizer)
  -- Lua 5.5 leaves a switch from generational mode (lua.c's default) in the middle of a cycle,
  -- which a step would finish without finalizing anything new: switch first, then collect.
  if _VERSION == "Lua 5.5" then collectgarbage("incremental") end
  collectgarbage("collect")
  collectgarbage("collect")
  collectgarbage("stop")
  -- Grow the Lua stack and the list of call frames now, while the collector is stopped (it
  -- shrinks both): a call that had to grow them would check the GC at its entry, before our
  -- function runs.
  deep(30)
  if _VERSION == "Lua 5.1" then
    local proxy = newproxy(true)
    getmetatable(proxy).__gc = finalizer
    proxy = nil
  else
    setmetatable({}, { __gc = finalizer })
  end
  gcstress.eager()
end

-- Each Lua's default collector settings again.
M.disarm = gcstress.normal

-- Called by the finalizer: whether one of the functions given is on the call stack (the
-- finalizer runs inside that call). Pass every function the call may show as: LuaJIT's
-- `tostring` is a fast function that tail-calls the `__tostring` metamethod, so only the
-- metamethod is on the stack there. Call it from the finalizer itself. nil when this Lua shows
-- no frame below the finalizer's own
-- (LuaJIT 2.1 ROLLING as built for Windows by tests/windows/run): there it cannot be told.
function M.inside(...)
  local wanted = {}
  for i = 1, select("#", ...) do wanted[select(i, ...)] = true end
  for level = 2, 60 do
    local info = debug.getinfo(level, "f")
    if not info then
      if level == 3 then return nil end -- level 2 is the finalizer that called us
      return false
    end
    if wanted[info.func] then return true end
  end
  return false
end

-- Whether a call that allocates `allocations` times ("once" or "many") must run an armed
-- finalizer inside itself on this Lua. Lua 5.2 checks the collector before an allocation, not
-- after it, so a call that allocates only once cannot run a finalizer inside itself there;
-- every other flavour (5.1, 5.3, 5.4, 5.5, LuaJIT) must.
function M.must_fire(allocations)
  assert(allocations == "once" or allocations == "many", "once or many")
  return allocations == "many" or _VERSION ~= "Lua 5.2"
end

return M
