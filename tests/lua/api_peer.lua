-- Peer methods: getters and setters on a fresh slot, send results, every reachable state
-- string, ping, reset, throttle_configure, disconnect variants, tostring.
local T = require "t"
require "enet"
local unpack = table.unpack or unpack

-- Services `hosts` until `pred(host, event)` accepts an event; returns that event.
local function wait_for(hosts, pred, ms)
  local found
  T.pump(hosts, function() return found end, function(h, e)
    if not found and pred(h, e) then found = e end
  end, ms)
  return found
end

T.test("a fresh slot: the reference's defaults", function()
  local h = enet.host_create(nil, 4)
  local p = h:get_peer(3)
  T.eq(tostring(p), "0.0.0.0:0", "tostring")
  T.eq(p:state(), "disconnected", "state")
  T.eq(p:index(), 3, "index")
  T.eq(p:connect_id(), 0, "connect_id")
  T.eq(p:round_trip_time(), 500, "round_trip_time")
  T.eq(p:last_round_trip_time(), 500, "last_round_trip_time")
  T.eq(p:ping_interval(), 500, "ping_interval")
  local a, b, c = p:timeout()
  T.eq(a, 32, "timeout limit")
  T.eq(b, 5000, "timeout minimum")
  T.eq(c, 30000, "timeout maximum")
  T.eq(select("#", p:receive()), 0, "receive: nothing")
  T.eq(p:send("x"), -1, "send on a free slot is refused")
  T.eq(select("#", p:ping()), 0, "ping returns nothing")
  T.eq(select("#", p:reset()), 0, "reset returns nothing")
  T.eq(select("#", p:disconnect()), 0, "disconnect returns nothing")
  T.eq(select("#", p:disconnect_now()), 0, "disconnect_now returns nothing")
  T.eq(select("#", p:disconnect_later()), 0, "disconnect_later returns nothing")
  T.eq(p:state(), "disconnected", "still disconnected")
  h:destroy()
end)

T.test("round_trip_time and last_round_trip_time: get, set, nil is get", function()
  local h = enet.host_create(nil, 1)
  local p = h:get_peer(1)
  T.eq(p:round_trip_time(100), 100, "set returns the new value")
  T.eq(p:round_trip_time(), 100, "get")
  T.eq(p:round_trip_time(nil), 100, "nil is a getter")
  T.eq(p:last_round_trip_time(7), 7, "last set")
  T.eq(p:last_round_trip_time(nil), 7, "last nil is a getter")
  T.eq(p:round_trip_time(), 100, "independent fields")
  T.eq(p:round_trip_time("250"), 250, "numeric string")
  h:destroy()
end)

T.test("ping_interval: 0 means the default, get after set", function()
  local h = enet.host_create(nil, 1)
  local p = h:get_peer(1)
  T.eq(p:ping_interval(100), 100, "set 100")
  T.eq(p:ping_interval(), 100, "get")
  T.eq(p:ping_interval(nil), 100, "nil is a getter")
  T.eq(p:ping_interval(0), 500, "0 resets to 500")
  h:destroy()
end)

T.test("timeout: a pure getter without arguments, nil members mean the default", function()
  local h = enet.host_create(nil, 1)
  local p = h:get_peer(1)
  local function all(...) return table.concat({ ... }, ",") end
  T.eq(all(p:timeout(1, 2, 3)), "1,2,3", "set all three")
  T.eq(all(p:timeout()), "1,2,3", "timeout() changes nothing (docs/contract.md §8)")
  T.eq(all(p:timeout()), "1,2,3", "still")
  T.eq(all(p:timeout(nil, nil, nil)), "1,2,3", "all nil is absent: getter")
  T.eq(all(p:timeout(nil, 1000)), "32,1000,30000", "nil and absent members are defaults")
  T.eq(all(p:timeout(10)), "10,5000,30000", "one value")
  T.eq(all(p:timeout(0, 0, 0)), "32,5000,30000", "zeros are defaults")
  h:destroy()
end)

T.test("throttle_configure takes three numbers and returns nothing", function()
  local server, client, cpeer = T.pair()
  T.eq(select("#", cpeer:throttle_configure(5000, 2, 2)), 0, "returns nothing")
  cpeer:throttle_configure("1000", 4, 4)
  cpeer:send("after throttle")
  T.eq(T.receive(server, 1, { client })[1].data, "after throttle", "still talks")
  server:destroy() client:destroy()
end)

T.test("send: 0 when queued, -1 when refused, flags", function()
  local server, client, cpeer, speer = T.pair()
  T.eq(cpeer:send("r", 0, "reliable"), 0, "reliable")
  T.eq(cpeer:send("u", 0, "unreliable"), 0, "unreliable")
  T.eq(cpeer:send("s", 0, "unsequenced"), 0, "unsequenced")
  T.eq(cpeer:send("n", nil, nil), 0, "nil channel and flag are defaults")
  T.eq(cpeer:send("x", 5), -1, "channel out of range")
  T.eq(cpeer:send("x", 255), -1, "channel 255 out of range")
  local got = T.receive(server, 4, { client })
  local seen = {}
  for _, e in ipairs(got) do seen[e.data] = true end
  T.ok(seen.r and seen.u and seen.s and seen.n, "all four arrived")
  local big = string.rep("b", 5000) -- fragmented
  T.eq(cpeer:send(big, 1, "unreliable"), 0, "large unreliable")
  local e = T.receive(server, 1, { client })[1]
  T.eq(e.data, big, "large packet intact")
  T.eq(e.channel, 1, "large packet channel")
  T.eq(speer:send(string.rep("z", 32 * 1024 * 1024 + 1)), -1, "above the maximum packet size")
  cpeer:disconnect_now()
  T.eq(cpeer:send("late"), -1, "after disconnect")
  server:destroy() client:destroy()
end)

T.test("states: disconnected, connecting, acknowledging_connect, connected", function()
  local server = assert(enet.host_create("127.0.0.1:*", 4))
  local client = enet.host_create(nil, 1)
  local sp = server:get_peer(1)
  T.eq(sp:state(), "disconnected", "disconnected")
  local cp = client:connect(server:get_socket_address())
  T.eq(cp:state(), "connecting", "connecting")
  client:flush()
  server:service(20)
  T.eq(sp:state(), "acknowledging_connect", "server answered, waiting for the ack")
  T.pump({ server, client }, function() return sp:state() == "connected" and cp:state() == "connected" end)
  T.eq(sp:state(), "connected", "connected")
  server:destroy() client:destroy()
end)

T.test("states: disconnect_later waits for the queue, then disconnecting", function()
  local server, client, cpeer, speer = T.pair()
  cpeer:send("last words")
  cpeer:disconnect_later(31)
  T.eq(cpeer:state(), "disconnect_later", "disconnect_later")
  T.eq(cpeer:send("too late"), -1, "no sends while disconnecting later")
  local data, disc
  T.pump({ server, client }, function() return disc end, function(h, e)
    if h == server and e.type == "receive" then data = e.data end
    if h == server and e.type == "disconnect" then disc = e end
  end)
  T.eq(data, "last words", "the queued packet went first")
  T.eq(disc.data, 31, "then the disconnect with its data")
  T.ok(disc.peer == speer, "disconnect peer")
  server:destroy() client:destroy()
end)

T.test("states: disconnecting until acknowledged", function()
  local server, client, cpeer = T.pair()
  cpeer:disconnect(1)
  T.eq(cpeer:state(), "disconnecting", "disconnecting")
  cpeer:disconnect(2) -- no-op while disconnecting
  local sd, cd
  T.pump({ server, client }, function() return sd and cd end, function(h, e)
    if e.type == "disconnect" then if h == server then sd = e else cd = e end end
  end)
  T.eq(sd.data, 1, "the first disconnect's data")
  T.eq(cpeer:state(), "disconnected", "disconnected after the ack")
  server:destroy() client:destroy()
end)

T.test("states: zombie and acknowledging_disconnect on the server side", function()
  local server = assert(enet.host_create("127.0.0.1:*", 4, 1))
  local client = enet.host_create(nil, 3, 1)
  local addr = server:get_socket_address()
  local a = client:connect(addr)
  T.pump({ server, client }, function() return a:state() == "connected" end)
  T.pump({ server, client }, function() return server:get_peer(1):state() == "connected" end)
  local sa = server:get_peer(1)

  -- A's reliable DISCONNECT and B's ack of its handshake reach the server in one service: the
  -- handshake ack makes an event that returns before A's DISCONNECT is acknowledged.
  local b = client:connect(addr)
  client:flush()
  server:service(20) -- CONNECT from B answered
  local sb = server:get_peer(2)
  T.eq(sb:state(), "acknowledging_connect", "B half way")
  a:disconnect(3)
  local ce
  for _ = 1, 100 do -- sends A's DISCONNECT, then returns B's connect event before acking it
    ce = client:service(10)
    if ce then break end
  end
  T.eq(ce and ce.type, "connect", "client: B connected")
  T.ok(ce.peer == b, "for B")
  client:flush() -- B's ack of the server's verify
  local se = server:service(20)
  T.eq(se and se.type, "connect", "server: B's connect event")
  T.ok(se.peer == sb, "for sb")
  T.eq(sa:state(), "acknowledging_disconnect", "A's DISCONNECT received, not yet acked")
  local sd = wait_for({ server, client }, function(h, e) return h == server and e.type == "disconnect" end)
  T.ok(sd.peer == sa and sd.data == 3, "A's disconnect event")

  -- two unsequenced DISCONNECTs read in one service: the second peer waits as a zombie
  local c = client:connect(addr)
  wait_for({ server, client }, function(h, e) return h == server and e.type == "connect" end)
  T.pump({ server, client }, function() return c:state() == "connected" end)
  -- both of the client's peers leave at once
  b:disconnect_now(10)
  c:disconnect_now(20)
  local first
  for _ = 1, 100 do
    first = server:service(10)
    if first then break end
  end
  T.eq(first and first.type, "disconnect", "first disconnect")
  local other = first.data == 10 and 20 or 10
  local zombie
  for i = 1, server:peer_count() do
    if server:get_peer(i):state() == "zombie" then zombie = server:get_peer(i) end
  end
  T.ok(zombie, "the other peer is a zombie until its event is dispatched")
  local second = server:check_events()
  T.eq(second and second.type, "disconnect", "its event")
  T.ok(second.peer == zombie, "for the zombie")
  T.eq(second.data, other, "with its data")
  T.eq(zombie:state(), "disconnected", "reset once dispatched")
  server:destroy() client:destroy()
end)

T.test("ping and ping_interval on a live connection update the round trip time", function()
  local server, client, cpeer = T.pair()
  T.eq(cpeer:ping_interval(10), 10, "short ping interval")
  cpeer:round_trip_time(1000)
  cpeer:last_round_trip_time(1000)
  cpeer:ping()
  T.pump({ server, client }, function() return cpeer:last_round_trip_time() < 1000 end)
  T.ok(cpeer:round_trip_time() < 1000, "round trip measured")
  T.eq(math.type and math.type(cpeer:round_trip_time()) or "integer", "integer", "integer result")
  server:destroy() client:destroy()
end)

T.test("reset: silent, back to defaults; the remote times out", function()
  local server, client, cpeer, speer = T.pair()
  speer:timeout(1, 100, 300)
  cpeer:timeout(5, 6, 7)
  cpeer:ping_interval(20)
  cpeer:reset()
  T.eq(cpeer:state(), "disconnected", "state")
  T.eq(cpeer:connect_id(), 0, "connect_id")
  T.eq(table.concat({ cpeer:timeout() }, ","), "32,5000,30000", "timeouts reset")
  T.eq(cpeer:ping_interval(), 500, "ping interval reset")
  T.eq(cpeer:round_trip_time(), 500, "rtt reset")
  speer:send("are you there?")
  local local_events = 0
  local sd = wait_for({ server, client }, function(h, e)
    if h == client then local_events = local_events + 1 end
    return h == server and e.type == "disconnect"
  end)
  T.eq(sd.data, 0, "timeout disconnect carries 0")
  T.eq(local_events, 0, "no event on the resetting side")
  server:destroy() client:destroy()
end)

T.test("an unreachable server ends in a disconnect event with data 0", function()
  local silent = assert(enet.host_create("127.0.0.1:*", 1))
  local client = enet.host_create(nil, 1)
  local p = client:connect(silent:get_socket_address())
  p:timeout(1, 100, 300)
  local e = wait_for({ client }, function() return true end, 5000)
  T.eq(e.type, "disconnect", "type")
  T.eq(e.data, 0, "data")
  T.ok(e.peer == p, "peer")
  T.eq(p:state(), "disconnected", "state")
  silent:destroy() client:destroy()
end)

T.test("disconnect on a handshaking peer resets it at once, no local event", function()
  local server = assert(enet.host_create("127.0.0.1:*", 2))
  local client = enet.host_create(nil, 1)
  local p = client:connect(server:get_socket_address())
  p:disconnect(9)
  T.eq(p:state(), "disconnected", "reset at once")
  local any = 0
  for _ = 1, 10 do
    if client:service(2) then any = any + 1 end
  end
  T.eq(any, 0, "no local event")
  server:destroy() client:destroy()
end)

T.test("tostring: the resolved address, kept after disconnect", function()
  local h = enet.host_create(nil, 2)
  local p = h:connect("localhost:5678")
  T.eq(tostring(p), "127.0.0.1:5678", "localhost resolved")
  p:reset()
  T.eq(tostring(p), "127.0.0.1:5678", "kept after reset")
  local q = h:connect("*:9")
  T.eq(tostring(q), "0.0.0.0:9", "any host")
  h:destroy()
end)

T.test("connect_id: distinct per connection, same on both ends", function()
  local server, client, cpeer, speer = T.pair()
  local first = cpeer:connect_id()
  T.eq(speer:connect_id(), first, "both ends")
  cpeer:disconnect_now()
  local p2 = client:connect(server:get_socket_address())
  T.ok(p2 == cpeer, "the slot's object again")
  T.pump({ server, client }, function() return cpeer:state() == "connected" end)
  T.ok(cpeer:connect_id() ~= first, "a new connection has a new id")
  server:destroy() client:destroy()
end)

T.done()
