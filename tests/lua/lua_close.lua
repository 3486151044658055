-- valgrind-only: what is still alive when Lua closes the state (at exit, on 5.2+) is freed
-- cleanly: valgrind reports any leak or invalid access during lua_close. Without valgrind
-- these tests prove nothing, so they run only under it (PUC Lua; LuaJIT exits without
-- closing its state).
local T = require "t"
require "enet"

T.test("hosts and peers left for lua_close", function()
  -- a connected pair, and a peer whose host is only reachable through it
  local server, client = T.pair()
  _G.KEEP = { server, client, enet.host_create(nil, 1):connect(server:get_socket_address()) }
  T.ok(#_G.KEEP == 3, "kept")
end)

T.test("hosts whose metatable lost __gc, left for lua_close", function()
  local h = assert(enet.host_create("127.0.0.1:*", 2))
  local mt = getmetatable(h)
  mt.__gc = nil
  _G.KEEP_TAMPERED = { h, enet.host_create(nil, 1) }
  T.ok(getmetatable(h).__gc == nil, "removed")
end)

T.test("a received event and peer data left for lua_close", function()
  local server, client, cpeer, speer = T.pair()
  cpeer:send(string.rep("x", 5000))
  local e = T.receive(server, 1, { client })[1]
  speer:set_data({ big = string.rep("y", 1000) })
  _G.KEEP_EVENT = { e, server, client }
  T.eq(#e.data, 5000, "event data")
end)

T.done()
