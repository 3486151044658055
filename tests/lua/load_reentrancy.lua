-- Finalizers that run while `require "enet"` itself runs (docs/contract.md §7 "Finalizers and
-- errors inside our calls", §3 "Loading the module twice ... is safe", §4 errors are plain
-- strings).
--
-- The re-entrancy matrix arms a finalizer inside every method, but not inside the module's
-- loader (luaopen_enet). Every allocation the loader makes can run a `__gc`: mlua's state
-- initialisation (get_or_init_from_ptr), then exec_raw and `open`. This script arms a chain of
-- finalizers that fire at (nearly) every GC check and, at the K-th one that runs inside
-- `require`, either raise or `require "enet"` again. Each K runs in a child process of the same
-- interpreter (mlua initialises once per state, so one process cannot retry), and every K from
-- 1 to the number of finalizer runs seen inside `require` is tried.
--
-- What it proves on main (2026-12, mlua 0.12.2):
--   * raise:   on Lua 5.1, 5.2, 5.3 and LuaJIT the process aborts: mlua's initialisation
--              turns the Lua error into a Rust panic ("mlua internal error: Error during Lua
--              initialization"), which cannot unwind out of luaopen_enet ("Rust panics must be
--              rethrown, aborting" / abort). Lua 5.4 only warns about finalizer errors.
--   * require: a finalizer that requires the module while it is being loaded crashes the
--              process (SIGSEGV on lua5.1 and LuaJIT, or an mlua panic "called
--              `Option::unwrap()` on a `None` value" in protect_lua_closure::do_call).
--   * when the raise lands after mlua's initialisation, `require` fails with mlua's wrapped
--              error userdata ("runtime error: ...<traceback>"), not a plain string.
local T = require "t"

if love or not (arg and arg[-1] and io.popen and os.tmpname) then
  -- LÖVE has no interpreter to spawn; the LuaJIT run covers these cases
  T.skip("load_reentrancy", "needs an interpreter to spawn (LÖVE has none)")
  T.done()
  return
end

local interp = arg[-1]

local CHILD = [=[
local gcstress = require "gcstress" -- tests/lua/lib, found through LUA_PATH
local K = tonumber(os.getenv("ENET_K") or "0")
local ACTION = os.getenv("ENET_ACTION") or "raise"
local inside, armed, mk = 0, true, nil
local function fin()
  if not armed then return end
  mk() -- re-arm: the next GC cycle runs another finalizer
  -- 5.5 names it "in global 'require'", older versions "in function 'require'"
  if debug.traceback():find("in %a+ 'require'") then
    inside = inside + 1
    if inside == K then
      if ACTION == "raise" then
        error("finalizer raised")
      else
        package.loaded.enet = nil
        pcall(require, "enet")
      end
    end
  end
end
if _VERSION == "Lua 5.1" then
  mk = function() local p = newproxy(true); getmetatable(p).__gc = fin end
else
  mk = function() setmetatable({}, { __gc = fin }) end
end
collectgarbage("collect")
gcstress.eager()
mk()
collectgarbage("stop")
collectgarbage("restart")
-- not a tail call, and called from Lua, so that the traceback names 'require'
local ok, err = pcall(function() local m = require("enet"); return m end)
armed = false
gcstress.normal()
print("INSIDE " .. inside)
print("REQUIRE " .. tostring(ok) .. " " .. type(err) .. " " .. (ok and "" or string.format("%q", tostring(err):sub(1, 60))))
-- the module is usable afterwards (a second require, then a host)
package.loaded.enet = nil
local ok2, m = pcall(require, "enet")
if ok2 then
  local h = m.host_create(nil, 1)
  h:destroy()
end
print("SECOND " .. tostring(ok2))
collectgarbage("collect")
print("END")
]=]

local name = os.tmpname()
local f = assert(io.open(name, "w"))
f:write(CHILD)
f:close()

local function run(k, action)
  local cmd = string.format("RUST_BACKTRACE=0 ENET_K=%d ENET_ACTION=%s %q %q 2>&1", k, action, interp, name)
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  p:close()
  return out
end

local probe = run(0, "none")
local count = tonumber(probe:match("INSIDE (%d+)"))

T.test("the probe sees finalizers run inside require", function()
  T.ok(count and count > 0, "finalizer runs inside require: " .. probe)
end)

local string_errors = {}
for _, action in ipairs({ "raise", "require" }) do
  T.test("a finalizer that does '" .. action .. "' inside require never crashes the process", function()
    local crashed = {}
    for k = 1, count or 0 do
      local out = run(k, action)
      if not out:find("\nEND\n", 1, true) then
        crashed[#crashed + 1] = k
        if #crashed == 1 then crashed.first = out:sub(1, 400) end
      end
      local how = out:match("REQUIRE false (%a+)")
      if how and how ~= "string" then string_errors[#string_errors + 1] = k .. ":" .. how end
      local text = out:match("REQUIRE false string (%b\"\")")
      if text and text:find("runtime error", 1, true) then string_errors[#string_errors + 1] = k .. ":" .. text end
    end
    T.ok(#crashed == 0, #crashed .. " of " .. tostring(count) .. " positions crashed the process (K = " ..
      table.concat(crashed, ",", 1, math.min(#crashed, 20)) .. "); first said:\n" .. tostring(crashed.first))
  end)
end

T.test("require fails with a plain string when a finalizer raises inside it", function()
  T.ok(#string_errors == 0, "non-string or wrapped errors from require at K = " ..
    table.concat(string_errors, ", ", 1, math.min(#string_errors, 10)))
end)

os.remove(name)
T.done()
