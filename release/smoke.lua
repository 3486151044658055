-- The smoke test of a prebuilt binary, run by release/smoke in the Lua it was built for, or
-- inside LÖVE: the file loads the way a player loads it, is the version we built, and a host
-- talks to another over 127.0.0.1.
-- Arguments: <require|loadlib> <library file> <expected flavour> <expected enet.version>
local how, file, want_flavour, want_version = ...
local flavour = jit and "luajit" or (_VERSION:gsub("^Lua 5%.", "lua5"))
assert(flavour == want_flavour,
  ("this interpreter is %s (%s), the file is for %s"):format(flavour, _VERSION, want_flavour))

local enet
if how == "require" then
  enet = require "enet"
else
  enet = assert(package.loadlib(file, "luaopen_enet"))()
end
assert(enet.version == want_version,
  ("loaded enet %s, expected %s: another enet was found first"):format(tostring(enet.version), want_version))

local server = assert(enet.host_create("127.0.0.1:*", 1))
local client = assert(enet.host_create(nil, 1))
local peer = client:connect(server:get_socket_address())
local received
for _ = 1, 400 do -- at most about 4 seconds
  local event = server:service(5)
  if event and event.type == "connect" then event.peer:send("hello from the server") end
  event = client:service(5)
  if event and event.type == "receive" then
    received = event.data
    break
  end
end
assert(received == "hello from the server", "no message over 127.0.0.1 within 4 s")
peer:disconnect_now()
client:destroy()
server:destroy()
print(("smoke ok: %s is enet %s (ENet %s), %s in %s"):format(file, enet.version,
  enet.linked_version(), how == "require" and "required" or "loaded with package.loadlib",
  jit and jit.version or _VERSION))
