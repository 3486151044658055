-- Additions beyond lua-enet (docs/api.md, "Additions"): statistics, tunables, disconnect reasons,
-- per-peer data, graceful shutdown. Every scenario runs over a real loopback connection.
local T = require "t"
require "enet"

local function wait_disconnect(hosts, ms)
  local got = {}
  T.pump(hosts, function() return got.event end, function(h, e)
    if e.type == "disconnect" then got.event, got.host = e, h end
  end, ms)
  return got.event, got.host
end

T.test("statistics follow the traffic", function()
  local server, client, cpeer, speer = T.pair()
  local before = speer:stats()
  for i = 1, 20 do T.eq(cpeer:send(string.rep("x", i)), 0, "send " .. i) end
  T.receive(server, 20, { client })
  local after = speer:stats()
  T.eq(after.messages_received - before.messages_received, 20, "messages received")
  T.eq(after.bytes_received - before.bytes_received, 210, "bytes received")
  local sent = cpeer:stats()
  T.eq(sent.messages_sent, 20, "client messages sent")
  T.eq(sent.bytes_sent, 210, "client bytes sent")
  T.ok(after.packet_loss >= 0 and after.packet_loss <= 1, "packet_loss is a ratio")
  T.eq(speer:packet_loss(), after.packet_loss, "packet_loss getter")
  T.eq(speer:mtu(), after.mtu, "mtu getter")
  T.eq(speer:channel_count(), 2, "negotiated channels")
  T.eq(after.connect_id, speer:connect_id(), "connect id")
  T.ok(after.round_trip_time_variance == speer:round_trip_time_variance(), "rtt variance")
  local ip, port = speer:address()
  T.eq(ip .. ":" .. port, tostring(speer), "address() matches tostring")
  local sip, sport = server:get_socket_ip_port()
  T.eq(sip .. ":" .. sport, server:get_socket_address(), "socket ip and port")
  T.eq(server:connected_peers(), 1, "connected peers")
  T.ok(server:total_received_packets() > 0 and client:total_sent_packets() > 0, "packet totals")
  local t = {}
  T.ok(speer:stats(t) == t and t.messages_received == after.messages_received, "stats fills t")
  -- broadcasts count on every receiving peer
  server:broadcast("to all", 1)
  T.receive(client, 1, { server })
  T.eq(speer:stats().messages_sent, 1, "broadcast counted on the peer")
end)

T.test("stats(t) and service(0, t) write raw: a __newindex that destroys the host never runs", function()
  local server, client, cpeer, speer = T.pair()
  local calls = 0
  local mt = { __newindex = function() calls = calls + 1; server:destroy() end }
  local trap = setmetatable({}, mt)
  T.ok(speer:stats(trap) == trap, "stats fills t")
  T.ok(rawget(trap, "round_trip_time") ~= nil, "fields set")
  cpeer:send("x")
  local event = setmetatable({}, mt)
  local got
  for _ = 1, 2000 do
    client:service(1)
    got = server:service(1, event)
    if got and got.type == "receive" then break end
  end
  T.ok(got == event and rawget(event, "data") == "x", "service filled the table")
  T.eq(calls, 0, "__newindex never ran")
end)

T.test("a lowered maximum packet size refuses larger sends", function()
  local server, client, cpeer = T.pair()
  T.eq(client:maximum_packet_size(), 32 * 1024 * 1024, "ENet default")
  T.eq(client:maximum_packet_size(100), 100, "lowered")
  T.eq(cpeer:send(string.rep("x", 101)), -1, "101 bytes refused")
  T.eq(cpeer:send(string.rep("x", 100)), 0, "100 bytes queued")
  T.eq(T.receive(server, 1, { client })[1].data, string.rep("x", 100), "100 bytes arrive")
  T.raises("maximum_packet_size must be", client.maximum_packet_size, client, 0)
  T.eq(client:maximum_waiting_data(4096), 4096, "maximum waiting data")
  T.raises("mtu must be 576..4096", client.mtu, client, 100)
  T.eq(client:mtu(1000), 1000, "mtu")
end)

T.test("disconnect reasons: remote and local", function()
  local server, client, cpeer = T.pair()
  cpeer:disconnect(7)
  local seen = {}
  T.pump({ server, client }, function() return seen[server] and seen[client] end, function(h, e)
    if e.type == "disconnect" then seen[h] = e.reason .. "/" .. e.data end
  end)
  T.eq(seen[server], "remote/7", "server side")
  T.eq(seen[client], "local/0", "client side")
end)

T.test("disconnect reason: timeout when the other side vanishes", function()
  local server, client, cpeer, speer = T.pair()
  speer:timeout(1, 200, 400)
  client:destroy() -- no goodbye
  speer:send("anyone there?")
  local e = wait_disconnect({ server }, 5000)
  T.eq(e.reason, "timeout", "reason")
  T.ok(e.peer == speer, "same peer")
end)

T.test("disconnect reason: refused when nobody answers, and refuse_connections", function()
  local server = assert(enet.host_create("127.0.0.1:*", 4))
  T.eq(server:refuse_connections(true), true, "refusing")
  local client = enet.host_create(nil, 1)
  local p = client:connect(server:get_socket_address())
  p:timeout(1, 200, 400)
  local e = wait_disconnect({ server, client }, 5000)
  T.eq(e.reason, "refused", "reason")
  T.eq(server:connected_peers(), 0, "nobody got in")
  T.eq(server:refuse_connections(false), false, "accepting again")
  local p2 = client:connect(server:get_socket_address())
  T.pump({ server, client }, function() return p2:state() == "connected" end)
end)

T.test("a host created without an address refuses connections until told otherwise", function()
  local server = assert(enet.host_create("127.0.0.1:*", 4))
  local unbound = assert(enet.host_create(nil, 4))
  T.eq(server:refuse_connections(), false, "a bound host accepts")
  T.eq(unbound:refuse_connections(), true, "an unbound host refuses")
  T.eq(unbound:duplicate_peers(), 4095, "duplicate peers keeps its default meanwhile")
  -- the unbound host gets a port from the OS when it first sends: a connection of its own
  local up = unbound:connect(server:get_socket_address())
  T.pump({ server, unbound }, function() return up:state() == "connected" end)
  local _, port = unbound:get_socket_ip_port()
  local stranger = assert(enet.host_create(nil, 1))
  local p = stranger:connect("127.0.0.1:" .. port)
  p:timeout(1, 200, 400)
  local e, h = wait_disconnect({ server, unbound, stranger }, 5000)
  T.ok(h == stranger and e.reason == "refused", "the stranger was refused")
  T.eq(unbound:connected_peers(), 1, "only its own connection")
  T.eq(unbound:refuse_connections(false), false, "accepting")
  local p2 = stranger:connect("127.0.0.1:" .. port)
  local joined
  T.pump({ server, unbound, stranger }, function() return joined and p2:state() == "connected" end,
    function(host, ev) if host == unbound and ev.type == "connect" then joined = true end end)
  T.eq(unbound:connected_peers(), 2, "the stranger got in")
end)

T.test("peer data lives through the disconnect event, not into the next connection", function()
  local server, client, cpeer, speer = T.pair()
  speer:set_data({ name = "bob" })
  T.eq(speer:get_data().name, "bob", "set")
  cpeer:disconnect()
  local name
  T.pump({ server, client }, function() return name end, function(h, ev)
    if h == server and ev.type == "disconnect" then name = ev.peer:get_data().name end
  end)
  T.eq(name, "bob", "in the disconnect event")
  collectgarbage()
  -- a new connection on the same slot starts without data
  local again = client:connect(server:get_socket_address(), 2)
  local newpeer
  T.pump({ server, client }, function() return newpeer end, function(h, ev)
    if h == server and ev.type == "connect" then newpeer = ev.peer end
  end)
  T.eq(newpeer:index(), speer:index(), "same slot reused")
  T.eq(newpeer:get_data(), nil, "no data from the old connection")
  newpeer:set_data(false)
  T.eq(newpeer:get_data(), false, "false is a value")
end)

T.test("checksums and compression, on both ends, on and off", function()
  local server = assert(enet.host_create("127.0.0.1:*", 4, 2))
  local client = enet.host_create(nil, 1, 2)
  for _, h in ipairs({ server, client }) do
    T.eq(h:checksum(), false, "off by default")
    T.eq(h:checksum(true), true, "checksum on")
    T.eq(h:compression(true), true, "compression on")
  end
  local p = client:connect(server:get_socket_address(), 2)
  T.pump({ server, client }, function() return p:state() == "connected" end)
  p:send(string.rep("compressible ", 50))
  T.eq(T.receive(server, 1, { client })[1].data, string.rep("compressible ", 50), "data intact")
  for _, h in ipairs({ server, client }) do
    T.eq(h:compression(false), false, "compression off")
  end
  p:send("plain")
  T.eq(T.receive(server, 1, { client })[1].data, "plain", "still talking after compression off")
  local r, s = server:socket_buffer_sizes(65536, 65536)
  T.ok(r >= 65536 and s >= 65536, "buffer sizes granted: " .. r .. ", " .. s)
  T.eq(server:duplicate_peers(), 4095, "duplicate peers default")
  T.eq(server:duplicate_peers(2), 2, "duplicate peers set")
end)

T.test("checksums on: datagrams without a valid checksum are dropped, good clients served", function()
  local server = assert(enet.host_create("127.0.0.1:*", 4, 1))
  server:checksum(true)
  local good = enet.host_create(nil, 1, 1)
  good:checksum(true)
  local bad = enet.host_create(nil, 1, 1) -- no checksum: every datagram fails the server's check
  local gp = good:connect(server:get_socket_address(), 1)
  local bp = bad:connect(server:get_socket_address(), 1)
  bp:timeout(1, 300, 600)
  local bad_reason, received, server_connects = nil, 0, 0
  T.pump({ server, good, bad }, function() return bad_reason and received == 20 end, function(h, e)
    if h == server and e.type == "connect" then server_connects = server_connects + 1 end
    if h == server and e.type == "receive" then received = received + 1 end
    if h == good and e.type == "connect" then
      for i = 1, 20 do e.peer:send("checked " .. i) end
    end
    if h == bad and e.type == "disconnect" then bad_reason = e.reason end
  end)
  T.eq(bad_reason, "refused", "the unchecked client never got in")
  T.eq(server_connects, 1, "only the good client connected")
  T.eq(received, 20, "the good client's messages all arrived")
end)

-- shutdown blocks while it waits for acknowledgements, so the other side must run elsewhere:
-- a second interpreter process (not available inside LÖVE, which has no interpreter to spawn).
if arg and arg[-1] and not love then
  T.test("shutdown delivers queued reliable data, then disconnects", function()
    local client = enet.host_create(nil, 1, 1)
    local probe = assert(enet.host_create("127.0.0.1:*"))
    local port_hint = probe:get_socket_address()
    probe:destroy()
    local script = [[
      require "enet"
      local h = assert(enet.host_create(...))
      local got, reason = 0, nil
      for _ = 1, 1000 do
        local e = h:service(10)
        if e and e.type == "receive" then got = got + 1 end
        if e and e.type == "disconnect" then reason = e.reason .. "/" .. e.data break end
      end
      print(got, reason)
    ]]
    local name = os.tmpname()
    local f = assert(io.open(name, "w"))
    f:write(script)
    f:close()
    local child = assert(io.popen(T.command(arg[-1], name, port_hint)))
    local peer = client:connect(port_hint, 1)
    T.pump({ client }, function() return peer:state() == "connected" end)
    for i = 1, 100 do peer:send("m" .. i) end
    local clean, forced = client:shutdown(3000, 9)
    T.eq(clean, 1, "clean disconnects")
    T.eq(forced, 0, "forced")
    local out = child:read("*a")
    child:close()
    os.remove(name)
    T.eq(out, "100\tremote/9\n", "the remote got every message, then the goodbye")
  end)
end

T.done()
