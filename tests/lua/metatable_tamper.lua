-- valgrind: a script that removes or replaces fields of our shared metatables can neither leak
-- a host nor crash (docs/contract.md §7): the ENet host is owned by a core object whose finalizer
-- is in no table a script reaches without the debug library (debug_reachable.lua calls it).
-- The socket count proves it without valgrind too.
local T = require "t"
require "enet"

local function open_fds()
  -- sockets only: other descriptors (pipes of the test runner, valgrind's) come and go
  local p = io.popen("ls -l /proc/" .. (T.pid or "self") .. "/fd 2>/dev/null | grep -c socket:")
  if not p then return nil end
  local n = tonumber(p:read("*a"))
  p:close()
  return n
end

-- The Lua process's own pid (io.popen's shell is a child, so "self" there is the shell).
do
  local f = io.open("/proc/self/stat")
  if f then
    T.pid = f:read("*a"):match("^(%d+)")
    f:close()
  end
end

local function full_gc()
  for _ = 1, 4 do collectgarbage("collect") end
end

local keep = assert(enet.host_create(nil, 1)) -- one socket open all along
local mt = getmetatable(keep)
local saved_gc = mt.__gc

-- The socket count reads /proc: on Windows (and macOS) the two tests that need it are reported
-- as skipped; the third runs everywhere.
local count_sockets = T.test
if T.windows or not T.pid then
  count_sockets = function(name) T.skip(name, "counts the process's sockets in /proc, which is Linux's") end
end

count_sockets("hosts collected while their metatable has no __gc close their sockets", function()
  full_gc()
  local before = open_fds()
  T.ok(before and before > 0, "/proc lists our sockets")
  mt.__gc = nil
  -- in a function of its own, so that no stack slot still holds the last host
  local function make(n)
    for _ = 1, n do
      local h = assert(enet.host_create("127.0.0.1:*", 4))
      h:connect(h:get_socket_address())
    end
  end
  make(20)
  full_gc()
  T.eq(open_fds(), before, "open sockets after the hosts were collected")
  mt.__gc = saved_gc
end)

count_sockets("a __gc replaced by a function that raises changes nothing either", function()
  full_gc()
  local before = open_fds()
  mt.__gc = function() error("script finalizer") end
  local function make(n)
    for _ = 1, n do assert(enet.host_create("127.0.0.1:*", 2)) end
  end
  make(10)
  -- 5.1-5.3 and LuaJIT raise the finalizer's error from the collecting call; 5.4 warns
  for _ = 1, 4 do pcall(collectgarbage, "collect") end
  mt.__gc = saved_gc
  full_gc()
  T.eq(open_fds(), before, "open sockets")
end)

T.test("a host whose __index is gone cannot be used, and is still freed", function()
  local index = mt.__index
  mt.__index = nil
  local h = assert(enet.host_create("127.0.0.1:*", 2))
  T.ok(not pcall(function() return h:service(0) end), "no methods without __index")
  mt.__index = index
  T.eq(select("#", h:service(0)), 0, "the methods are back")
  h = nil
  full_gc()
end)

T.done()
