-- Peer methods called on a free slot (a peer object of a host that is not connected) must not
-- poison the next connection through that slot. ENet queued THROTTLE_CONFIGURE on a
-- disconnected peer; it went out ahead of the next CONNECT (from a client) or VERIFY_CONNECT
-- (from a server), the other side dropped the whole datagram, and the connection never
-- completed (lua-enet and upstream ENet behave the same). Patch 0012 of vendor/enet.
local T = require "t"
require "enet"

-- Every peer method a script can call on a free slot, the ones that only store a value last
-- (a reset or disconnect would clear what an earlier call queued, hiding the problem).
local function poke(peer)
  T.eq(peer:state(), "disconnected", "a free slot")
  peer:reset()
  peer:disconnect(1)
  peer:disconnect_later(2)
  peer:disconnect_now(3)
  peer:ping()
  T.eq(peer:send("not connected"), -1, "send on a free slot is refused")
  peer:timeout(16, 4000, 9000)
  peer:ping_interval(700)
  peer:round_trip_time(200)
  peer:throttle_configure(4000, 3, 4)
  T.eq(peer:state(), "disconnected", "still a free slot")
end

-- Connects client to server and checks a round trip, within 3 s.
local function round_trip(server, client)
  local cpeer = client:connect(server:get_socket_address(), 2)
  local speer, answered
  T.pump({ server, client }, function()
    return speer ~= nil and cpeer:state() == "connected"
  end, function(h, e)
    if h == server and e.type == "connect" then speer = e.peer end
  end, 3000)
  cpeer:send("ping?")
  T.pump({ server, client }, function() return answered end, function(h, e)
    if h == server and e.type == "receive" then
      T.eq(e.data, "ping?", "the server receives")
      e.peer:send("pong!")
    elseif h == client and e.type == "receive" then
      T.eq(e.data, "pong!", "the client receives")
      answered = true
    end
  end, 3000)
  return cpeer, speer
end

T.test("commands on a client's free slots do not block its next connection", function()
  local server = assert(enet.host_create("127.0.0.1:*", 4, 2))
  local client = assert(enet.host_create(nil, 3, 2))
  for i = 1, client:peer_count() do poke(client:get_peer(i)) end
  local cpeer = round_trip(server, client)
  -- and once more through a slot that was connected and is free again
  cpeer:disconnect_now()
  poke(cpeer)
  round_trip(server, client)
  server:destroy()
  client:destroy()
end)

T.test("commands on a server's free slots do not block the next incoming connection", function()
  local server = assert(enet.host_create("127.0.0.1:*", 3, 2))
  local client = assert(enet.host_create(nil, 1, 2))
  for i = 1, server:peer_count() do poke(server:get_peer(i)) end
  round_trip(server, client)
  server:destroy()
  client:destroy()
end)

T.test("throttle_configure on a connected peer still works", function()
  local server = assert(enet.host_create("127.0.0.1:*", 2, 2))
  local client = assert(enet.host_create(nil, 1, 2))
  local cpeer, speer = round_trip(server, client)
  cpeer:throttle_configure(3000, 5, 6)
  speer:throttle_configure(3000, 5, 6)
  local got = 0
  for i = 1, 20 do cpeer:send("m" .. i) end
  T.pump({ server, client }, function() return got == 20 end, function(h, e)
    T.ok(e.type == "receive", "only receive events, got " .. e.type)
    got = got + 1
    T.eq(e.data, "m" .. got, "in order")
  end, 3000)
  T.eq(cpeer:state(), "connected", "client still connected")
  server:destroy()
  client:destroy()
end)

T.done()
