-- valgrind: the lifetimes of docs/contract.md §7. Peers after destroy, hosts kept alive by their
-- peers, stale peers never alias a new host, destroy twice, events outliving their host, peer
-- identity.
local T = require "t"
require "enet"

local PEER_METHODS = {
  connect_id = {}, disconnect = { 1 }, disconnect_now = { 1 }, disconnect_later = { 1 },
  index = {}, ping = {}, ping_interval = { 10 }, reset = {}, send = { "x" }, state = {},
  receive = {}, round_trip_time = { 1 }, last_round_trip_time = { 1 },
  throttle_configure = { 1, 1, 1 }, timeout = { 1, 2, 3 },
}
local unpack = table.unpack or unpack

local function full_gc()
  for _ = 1, 4 do collectgarbage("collect") end
end

T.test("a peer after host:destroy(): a clear error; tostring keeps the last address", function()
  local server, client, cpeer, speer = T.pair()
  local caddr, saddr = tostring(cpeer), tostring(speer)
  T.ok(caddr:match("^127%.0%.0%.1:%d+$"), "connected address " .. caddr)
  client:destroy()
  for name, args in pairs(PEER_METHODS) do
    local msg = T.raises("enet: peer of a destroyed host", function() cpeer[name](cpeer, unpack(args)) end)
    T.ok(not msg:find("Tried to index", 1, true), name .. ": the peer's own message")
  end
  T.eq(tostring(cpeer), caddr, "tostring after destroy")
  full_gc()
  T.eq(tostring(cpeer), caddr, "tostring after destroy and a collection")
  -- the other side is untouched
  T.eq(speer:state(), "connected", "the server's peer does not know yet")
  server:destroy()
  T.eq(tostring(speer), saddr, "server peer tostring after destroy")
  T.raises("enet: peer of a destroyed host", function() speer:state() end)
end)

T.test("a host kept alive by its peer: enet.host_create():connect(addr)", function()
  local server = assert(enet.host_create("127.0.0.1:*", 4))
  local addr = server:get_socket_address()
  local weak = setmetatable({}, { __mode = "k" })
  local p
  do
    local hh = enet.host_create(nil, 2)
    weak[hh] = true
    p = hh:connect(addr)
  end
  for _ = 1, 10 do
    full_gc()
    T.eq(p:state(), "connecting", "peer still works after collections")
    T.eq(tostring(p), addr, "tostring")
    T.eq(p:index(), 1, "index")
    T.eq(table.concat({ p:timeout() }, ","), "32,5000,30000", "timeout")
    T.eq(p:send("x"), -1, "send (not connected yet)")
    T.ok(next(weak) ~= nil, "the host is still alive")
  end
  local hh = next(weak)
  T.ok(hh:get_peer(1) == p, "the kept host hands out the same peer object")
  hh = nil
  p = nil
  full_gc()
  T.eq(next(weak), nil, "host collected once its last peer is gone")
  server:destroy()
end)

T.test("an unnamed host and its peer are collected together", function()
  local server = assert(enet.host_create("127.0.0.1:*", 4))
  local weak = setmetatable({}, { __mode = "v" })
  local p = enet.host_create(nil, 1):connect(server:get_socket_address())
  full_gc()
  T.eq(p:state(), "connecting", "still connecting: connect() sends nothing by itself")
  T.eq(select("#", server:service(10)), 0, "nothing reached the server")
  weak[1] = p
  p = nil
  full_gc()
  T.eq(weak[1], nil, "peer (and its host) collected")
  server:destroy()
end)

T.test("stale peers of a destroyed host never equal a new host's peers", function()
  local old = {}
  local h1 = enet.host_create(nil, 8)
  for i = 1, 8 do old[i] = h1:get_peer(i) end
  h1:destroy()
  h1 = nil
  full_gc()
  for _ = 1, 20 do
    local h2 = enet.host_create(nil, 8)
    for i = 1, 8 do
      local q = h2:get_peer(i)
      for j = 1, 8 do
        T.ok(not rawequal(q, old[j]), "new peer is not a stale one")
        T.ok(q ~= old[j], "== too")
      end
      T.eq(q:state(), "disconnected", "new peer works")
    end
    h2:destroy()
  end
  for i = 1, 8 do
    T.raises("enet: peer of a destroyed host", function() old[i]:state() end)
  end
end)

T.test("peers of two live hosts are never equal, even on the same slot", function()
  local a, b = enet.host_create(nil, 2), enet.host_create(nil, 2)
  T.ok(a:get_peer(1) ~= b:get_peer(1), "different hosts")
  local keys = { [a:get_peer(1)] = "a", [b:get_peer(1)] = "b" }
  T.eq(keys[a:get_peer(1)], "a", "table key a")
  T.eq(keys[b:get_peer(1)], "b", "table key b")
  a:destroy() b:destroy()
end)

T.test("destroy twice, __gc after destroy, destroy after __gc-like use", function()
  local hh = enet.host_create("127.0.0.1:*")
  hh:destroy()
  hh:destroy()
  getmetatable(hh).__gc(hh)
  hh:destroy()
  T.raises("Tried to index a nil host!", function() hh:flush() end)
end)

T.test("events kept after destroy stay plain tables", function()
  local server, client, cpeer = T.pair()
  cpeer:send("payload", 1)
  local e = T.receive(server, 1, { client })[1]
  local speer = e.peer
  local addr = tostring(speer)
  server:destroy()
  client:destroy()
  e.extra = true -- writable: a plain table
  full_gc()
  local keys = {}
  for k in pairs(e) do keys[#keys + 1] = k end
  table.sort(keys)
  T.eq(table.concat(keys, ","), "channel,data,extra,peer,type", "fields")
  T.eq(getmetatable(e), nil, "no metatable")
  T.eq(e.type, "receive", "type")
  T.eq(e.data, "payload", "data")
  T.eq(e.channel, 1, "channel")
  T.ok(e.peer == speer, "same peer object")
  T.eq(tostring(e.peer), addr, "peer tostring")
  T.raises("enet: peer of a destroyed host", function() e.peer:send("x") end)
end)

T.test("identity: connect, get_peer and events give one object per slot", function()
  local server, client, cpeer, speer = T.pair({ server_peers = 4, client_peers = 3 })
  T.ok(client:get_peer(cpeer:index()) == cpeer, "connect() == get_peer()")
  T.ok(server:get_peer(speer:index()) == speer, "event peer == get_peer()")
  T.ok(rawequal(server:get_peer(speer:index()), speer), "rawequal")
  local seen = {}
  seen[cpeer] = "client side"
  seen[speer] = "server side"
  cpeer:send("hi")
  local e = T.receive(server, 1, { client })[1]
  T.eq(seen[e.peer], "server side", "event peer finds the table key")
  -- identity survives collections while referenced
  full_gc()
  T.ok(server:get_peer(speer:index()) == speer, "after gc")
  -- and the slot's object represents later connections on that slot
  local id = cpeer:connect_id()
  cpeer:disconnect_now()
  local again = client:connect(server:get_socket_address(), 2)
  T.ok(again == cpeer, "same slot, same object")
  T.pump({ server, client }, function() return cpeer:state() == "connected" end)
  T.ok(cpeer:connect_id() ~= id, "new connection id")
  server:destroy() client:destroy()
end)

T.test("a peer object stays its slot's one object while the host lives, then goes with it", function()
  -- lua-enet's cache was weak; ours holds the peers of a live host (one small object per slot),
  -- so that a finalizer that keeps a peer cannot split its identity (peer_identity_resurrected)
  local hh = enet.host_create(nil, 2)
  local weak = setmetatable({}, { __mode = "v" })
  weak[1] = hh:get_peer(2)
  full_gc()
  T.ok(weak[1] ~= nil, "kept while its host lives")
  T.ok(rawequal(weak[1], hh:get_peer(2)), "the same object")
  T.eq(weak[1]:index(), 2, "its slot")
  hh:destroy()
  hh = nil
  full_gc()
  T.eq(weak[1], nil, "collected with its host")
end)

T.done()
