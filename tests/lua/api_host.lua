-- Host methods in normal use over a real loopback connection: lua-enet's behaviour where we keep
-- it (docs/contract.md §1.1), and our deliberate differences (§8: docs/api.md, "Differences from
-- lua-enet").
local T = require "t"
require "enet"
local unpack = table.unpack or unpack

local function port_of(addr) return tonumber(addr:match(":(%d+)$")) end

-- Waits about `ms` milliseconds without busy looping (a spare host's service blocks).
local napper = enet.host_create()
local function nap(ms) napper:service(ms) end

-- Collects every event of `host` for a while (servicing `others` too), as a list.
local function drain(host, others, rounds)
  local got = {}
  for _ = 1, rounds or 20 do
    for _, o in ipairs(others or {}) do
      local e = o:service(1)
      while e do e = o:check_events() end
    end
    local e = host:service(1)
    while e do
      got[#got + 1] = e
      e = host:check_events()
    end
  end
  return got
end

T.test("a fresh host: counters, peer_count, no events", function()
  local h = enet.host_create()
  T.eq(h:peer_count(), 64, "default peer_count")
  T.eq(h:total_sent_data(), 0, "total_sent_data")
  T.eq(h:total_received_data(), 0, "total_received_data")
  T.eq(h:service_time(), 0, "service_time before any service")
  T.eq(select("#", h:service()), 0, "service returns nothing")
  T.eq(select("#", h:service(0)), 0, "service(0) returns nothing")
  T.eq(select("#", h:service(nil)), 0, "service(nil) is service()")
  T.eq(select("#", h:check_events()), 0, "check_events returns nothing")
  T.eq(select("#", h:check_events("ignored")), 0, "check_events ignores extras")
  T.eq(enet.host_create(nil, 5):peer_count(), 5, "peer_count as created")
  h:destroy()
end)

T.test("get_socket_address: bound, any, unbound, after the first send", function()
  local b = assert(enet.host_create("127.0.0.1:*"))
  local a = b:get_socket_address()
  T.ok(a:match("^127%.0%.0%.1:%d+$"), "bound address " .. a)
  T.ok(port_of(a) > 0, "ephemeral port chosen")
  local any = assert(enet.host_create("*:*"))
  T.ok(any:get_socket_address():match("^0%.0%.0%.0:%d+$"), "any address")
  T.ok(port_of(any:get_socket_address()) > 0, "any: port chosen")
  local zero = assert(enet.host_create("0:*"))
  T.ok(zero:get_socket_address():match("^0%.0%.0%.0:%d+$"), "'0' host is 0.0.0.0")
  local c = enet.host_create()
  T.eq(c:get_socket_address(), "0.0.0.0:0", "unbound before any traffic")
  c:connect(a)
  c:flush()
  local after = c:get_socket_address()
  T.ok(after:match("^0%.0%.0%.0:%d+$") and port_of(after) > 0, "after first send " .. after)
  T.eq(c:get_socket_address("extra"), after, "extra arguments ignored")
  b:destroy() any:destroy() zero:destroy() c:destroy()
end)

T.test("binding a port in use fails with the OS cause, as nil, message", function()
  local a = assert(enet.host_create("127.0.0.1:*"))
  local h, msg = enet.host_create(a:get_socket_address())
  T.eq(h, nil, "second bind")
  T.eq(type(msg), "string", "message")
  T.ok(msg:find("enet: failed to create host (", 1, true), "prefix in " .. msg)
  T.ok(msg:lower():find("in use", 1, true), "the OS error text in " .. msg)
  if T.windows then -- WSAEADDRINUSE in words (src/os.rs), as Linux says EADDRINUSE
    T.ok(msg:find(": Address already in use (os error 10048))", 1, true), "the WSA code in words: " .. msg)
  end
  a:destroy()
end)

T.test("destroy frees the port", function()
  local a = assert(enet.host_create("127.0.0.1:*"))
  local addr = a:get_socket_address()
  a:destroy()
  local b, msg = enet.host_create(addr)
  T.ok(b, "rebind after destroy: " .. tostring(msg))
  b:destroy()
end)

T.test("host_create: peer_count limits and the failure message names the cause", function()
  local h = enet.host_create(nil, 4095)
  T.ok(h, "4095 peers")
  T.eq(h:peer_count(), 4095, "peer_count 4095")
  h:destroy()
  for _, n in ipairs({ 4096, -1, 0 }) do
    local r, msg = enet.host_create(nil, n)
    T.eq(r, nil, "peer_count " .. n)
    T.eq(type(msg), "string", "message for " .. n)
    T.ok(msg:find("^enet: failed to create host %("), "prefix: " .. msg)
    T.ok(msg:find("peer_count", 1, true), "names peer_count: " .. msg)
    T.ok(not msg:find("already listening", 1, true), "not the reference's catch-all: " .. msg)
  end
  T.eq(select("#", enet.host_create(nil, 4096)), 2, "nil and a message")
end)

T.test("the loopback session of reference §14", function()
  local server = assert(enet.host_create("127.0.0.1:*", 8, 2))
  local client = assert(enet.host_create(nil, 2, 4))
  local addr = server:get_socket_address()
  local cpeer = client:connect(addr, 3, 42)
  T.eq(cpeer:state(), "connecting", "client peer starts connecting")
  T.eq(cpeer:index(), 1, "first slot")
  T.eq(tostring(cpeer), addr, "tostring shows the target")
  local cevent, sevent
  T.pump({ server, client }, function() return cevent and sevent end, function(h, e)
    if h == client then cevent = e else sevent = e end
  end)
  T.eq(cevent.type, "connect", "client event")
  T.eq(cevent.data, 0, "client connect data")
  T.ok(cevent.peer == cpeer, "client event peer is the connect() object")
  T.eq(cevent.channel, nil, "no channel in connect events")
  T.eq(getmetatable(cevent), nil, "event is a plain table")
  T.eq(sevent.type, "connect", "server event")
  T.eq(sevent.data, 42, "server connect data")
  T.eq(tostring(sevent.peer), "127.0.0.1:" .. port_of(client:get_socket_address()),
    "server sees the client's address")
  T.eq(sevent.peer:connect_id(), cpeer:connect_id(), "same connect_id on both ends")
  T.ok(cpeer:connect_id() ~= 0, "connect_id set")
  T.eq(cpeer:state(), "connected", "client connected")
  T.eq(sevent.peer:state(), "connected", "server connected")
  local speer = sevent.peer
  T.ok(server:get_peer(speer:index()) == speer, "get_peer(index()) is the same object")

  -- channels: 0 and 1 exist; 2 is beyond the server's limit of 2; 256 wraps to 0
  T.eq(cpeer:send("c0", 0), 0, "send on 0")
  T.eq(cpeer:send("c1", 1), 0, "send on 1")
  T.eq(cpeer:send("c2", 2), -1, "channel 2 refused (server limit 2)")
  T.eq(cpeer:send("c256", 256), 0, "channel 256 is 0")
  T.eq(cpeer:send(""), 0, "empty string")
  T.eq(cpeer:send("a\0b\255"), 0, "binary")
  T.eq(cpeer:send(5), 0, "number coerced")
  local got = T.receive(server, 6, { client })
  local seen = {}
  for _, e in ipairs(got) do
    T.eq(e.type, "receive", "type")
    T.ok(e.peer == speer, "receive peer identity")
    seen[#seen + 1] = e.data .. "@" .. e.channel
  end
  local want = { "c0@0", "c1@1", "c256@0", "@0", "a\0b\255@0", "5@0" }
  table.sort(seen)
  table.sort(want)
  T.eq(table.concat(seen, ","), table.concat(want, ","), "what arrived where")

  -- broadcast on channel 1
  T.eq(select("#", server:broadcast("bc", 1)), 0, "broadcast returns nothing")
  local b = T.receive(client, 1, { server })[1]
  T.eq(b.data, "bc", "broadcast data")
  T.eq(b.channel, 1, "broadcast channel")
  T.ok(b.peer == cpeer, "broadcast arrives from the client's server peer")

  -- graceful disconnect with data
  cpeer:disconnect(77)
  T.eq(cpeer:state(), "disconnecting", "disconnecting")
  local cd, sd
  T.pump({ server, client }, function() return cd and sd end, function(h, e)
    if e.type == "disconnect" then if h == client then cd = e else sd = e end end
  end)
  T.eq(sd.data, 77, "server disconnect data")
  T.eq(cd.data, 0, "client disconnect data")
  T.ok(cd.peer == cpeer and sd.peer == speer, "disconnect peers")
  T.eq(cpeer:state(), "disconnected", "client state")
  T.eq(speer:state(), "disconnected", "server state")
  T.eq(cpeer:connect_id(), 0, "connect_id reset")
  T.eq(tostring(sd.peer), tostring(speer), "address kept after disconnect")
  T.ok(tostring(speer):match("^127%.0%.0%.1:%d+$"), "old address still shown")

  -- reconnect reuses the same client peer object; -1 data arrives as 4294967295
  local again = client:connect(addr, 1, -1)
  T.ok(again == cpeer, "reconnect reuses the slot's object")
  local sdata
  T.pump({ server, client }, function() return sdata and cpeer:state() == "connected" end,
    function(h, e) if h == server and e.type == "connect" then sdata = e.data end end)
  T.eq(sdata, 4294967295, "connect data -1 wraps to uint32")

  -- disconnect_now: local state at once, remote gets the data, no local event
  cpeer:disconnect_now(5)
  T.eq(cpeer:state(), "disconnected", "disconnect_now is immediate")
  local sd2, local_events = nil, 0
  T.pump({ server, client }, function() return sd2 end, function(h, e)
    if h == server and e.type == "disconnect" then sd2 = e.data end
    if h == client then local_events = local_events + 1 end
  end)
  T.eq(sd2, 5, "remote disconnect data")
  T.eq(local_events, 0, "no local event for disconnect_now")
  T.ok(client:total_sent_data() > 0, "client counted sent bytes")
  T.ok(server:total_received_data() > 0, "server counted received bytes")
  T.ok(server:total_sent_data() > 0, "server counted sent bytes")
  T.ok(client:total_received_data() > 0, "client counted received bytes")
  server:destroy()
  client:destroy()
end)

T.test("one datagram, several packets: service then check_events, and peer:receive", function()
  local server, client, cpeer, speer = T.pair()
  drain(server, { client }, 5)
  for i = 1, 6 do cpeer:send("m" .. i) end
  client:flush()
  local first
  for _ = 1, 200 do
    first = server:service(10)
    if first then break end
  end
  T.eq(first and first.data, "m1", "service returns the first")
  local rest = {}
  local e = server:check_events()
  while e do
    rest[#rest + 1] = e.data
    e = server:check_events()
  end
  T.eq(table.concat(rest, ","), "m2,m3,m4,m5,m6", "check_events returns the rest, in order")
  T.eq(select("#", server:check_events()), 0, "then nothing")

  for i = 1, 3 do cpeer:send("r" .. i, i == 2 and 1 or 0) end
  client:flush()
  first = nil
  for _ = 1, 200 do
    first = server:service(10)
    if first then break end
  end
  T.eq(first.data, "r1", "first via service")
  local d, ch = speer:receive()
  T.eq(d, "r2", "second via peer:receive")
  T.eq(ch, 1, "its channel")
  d, ch = speer:receive(7) -- the channel argument has no effect
  T.eq(d, "r3", "third via peer:receive")
  T.eq(ch, 0, "its channel")
  T.eq(select("#", speer:receive()), 0, "queue empty: nothing")
  T.eq(select("#", speer:receive(nil)), 0, "receive(nil) is receive()")
  T.eq(select("#", server:check_events()), 0, "each packet delivered once")
  server:destroy()
  client:destroy()
end)

T.test("compress_with_range_coder on both ends still talks", function()
  local server = assert(enet.host_create("127.0.0.1:*", 4, 1))
  local client = assert(enet.host_create(nil, 1, 1))
  T.eq(server:compress_with_range_coder(), true, "server")
  T.eq(client:compress_with_range_coder("extra"), true, "client")
  local cpeer = client:connect(server:get_socket_address())
  T.pump({ server, client }, function() return cpeer:state() == "connected" end)
  local text = string.rep("compress me please ", 50)
  cpeer:send(text)
  local got = T.receive(server, 1, { client })
  T.eq(got[1].data, text, "payload intact")
  server:destroy()
  client:destroy()
end)

T.test("compression on one end only: the connection never completes", function()
  local server = assert(enet.host_create("127.0.0.1:*", 4, 1))
  local client = assert(enet.host_create(nil, 1, 1))
  client:compress_with_range_coder()
  local cpeer = client:connect(server:get_socket_address())
  cpeer:timeout(1, 200, 400)
  local ev
  T.pump({ server, client }, function() return ev end, function(h, e)
    if h == client then ev = e end
  end, 5000)
  T.eq(ev.type, "disconnect", "the client gives up")
  server:destroy()
  client:destroy()
end)

T.test("flush sends without servicing and updates service_time", function()
  local server = assert(enet.host_create("127.0.0.1:*"))
  local client = enet.host_create()
  client:connect(server:get_socket_address())
  T.eq(client:service_time(), 0, "before")
  T.eq(select("#", client:flush()), 0, "flush returns nothing")
  T.ok(client:service_time() ~= 0, "service_time updated by flush")
  T.ok(client:total_sent_data() > 0, "the CONNECT went out")
  T.eq(server:get_peer(1):state(), "disconnected", "server has not serviced yet")
  server:service(20)
  T.eq(server:get_peer(1):state(), "acknowledging_connect", "server received the CONNECT")
  server:destroy()
  client:destroy()
end)

T.test("channel_limit affects later connections", function()
  local server = assert(enet.host_create("127.0.0.1:*", 4, 4))
  T.eq(select("#", server:channel_limit(1)), 0, "returns nothing")
  local server2, client, cpeer = server, enet.host_create(nil, 1), nil
  cpeer = client:connect(server2:get_socket_address(), 3)
  T.pump({ server, client }, function() return cpeer:state() == "connected" end)
  T.eq(cpeer:send("x", 0), 0, "channel 0 exists")
  T.eq(cpeer:send("x", 1), -1, "channel 1 does not (limit 1)")
  cpeer:disconnect_now()
  server:channel_limit(0) -- 0 means the maximum, 255
  local c2 = enet.host_create(nil, 1)
  local p2 = c2:connect(server:get_socket_address(), 255)
  T.pump({ server, c2 }, function() return p2:state() == "connected" end)
  T.eq(p2:send("x", 254), 0, "channel 254 exists with limit 0 = 255")
  server:destroy() client:destroy() c2:destroy()
end)

T.test("host_create channel_count: 0 means 255, 1 means one channel", function()
  for _, case in ipairs({ { 0, 254, 0 }, { 1, 1, -1 }, { 300, 254, 0 } }) do
    local server = assert(enet.host_create("127.0.0.1:*", 2, case[1]))
    local client = enet.host_create(nil, 1)
    local p = client:connect(server:get_socket_address(), 255)
    T.pump({ server, client }, function() return p:state() == "connected" end)
    T.eq(p:send("x", case[2]), case[3], "channel_count " .. case[1] .. ", send on " .. case[2])
    server:destroy() client:destroy()
  end
end)

T.test("connect channel_count: default 1, 0 means 1", function()
  local server = assert(enet.host_create("127.0.0.1:*", 4, 8))
  local client = enet.host_create(nil, 4)
  local a = client:connect(server:get_socket_address())
  local b = client:connect(server:get_socket_address(), 0)
  T.ok(a ~= b, "connecting twice gives two peers")
  T.pump({ server, client }, function() return a:state() == "connected" and b:state() == "connected" end)
  T.eq(a:send("x", 1), -1, "default one channel")
  T.eq(b:send("x", 1), -1, "0 means one channel")
  T.eq(a:send("x", 0), 0, "channel 0")
  server:destroy() client:destroy()
end)

T.test("bandwidth_limit: one value sets both, the third argument is read", function()
  local server, client, cpeer = T.pair()
  T.eq(select("#", server:bandwidth_limit(1000)), 0, "one value")
  T.eq(select("#", server:bandwidth_limit(1000, 2000)), 0, "two values")
  T.eq(select("#", server:bandwidth_limit(0, nil)), 0, "nil outgoing = incoming")
  T.raises("bad argument #2 to 'bandwidth_limit' (number expected, got string)",
    function() server:bandwidth_limit(1, "x") end)
  server:bandwidth_limit(0, 0)
  cpeer:send("still works")
  T.eq(T.receive(server, 1, { client })[1].data, "still works", "traffic after the change")
  server:destroy() client:destroy()
end)

T.test("get_peer: 1-based, every slot, identity", function()
  local h = enet.host_create(nil, 4)
  for i = 1, 4 do
    local p = h:get_peer(i)
    T.eq(p:index(), i, "index of slot " .. i)
    T.ok(h:get_peer(i) == p, "same object each time")
    T.eq(p:state(), "disconnected", "fresh slot state")
  end
  T.ok(h:get_peer(1) ~= h:get_peer(2), "different slots, different objects")
  T.ok(h:get_peer("2") == h:get_peer(2), "numeric string index")
  h:destroy()
end)

T.test("connect: no free slot raises Failed to create peer", function()
  local server = assert(enet.host_create("127.0.0.1:*"))
  local c = enet.host_create(nil, 1)
  c:connect(server:get_socket_address())
  T.raises("Failed to create peer", function() c:connect(server:get_socket_address()) end)
  server:destroy() c:destroy()
end)

T.test("service on a socket error returns nil, message and the loop goes on", function()
  local c = enet.host_create()
  local p = c:connect("127.0.0.1:*") -- port 0: sendto fails
  local r1, r2
  local n = 0
  for _ = 1, 5 do
    local ok, a, b = pcall(c.service, c, 10)
    T.ok(ok, "service never raises: " .. tostring(a))
    if a == nil and b then r1, r2 = a, b n = n + 1 end
  end
  T.ok(n > 0, "at least one failure reported")
  T.eq(r1, nil, "first value")
  T.eq(type(r2), "string", "message")
  T.ok(r2:find("^enet: "), "message prefix: " .. r2)
  T.ok(#r2 > #"enet: ", "message has a cause: " .. r2)
  T.eq(tostring(p), "127.0.0.1:0", "the target")
  c:destroy()
end)

-- LuaSocket as the stranger (outside LÖVE: its bundled copy's sendto is refused there). Debian
-- has no LuaSocket for Lua 5.5: there tests/network's hostile cases send strangers' datagrams.
local has_socket, socket = pcall(require, "socket")
if not love and not has_socket and os.getenv("CI") and _VERSION ~= "Lua 5.5" then
  T.test("LuaSocket is installed (tests/install-deps installs lua-socket)", function()
    error("require 'socket' failed: " .. tostring(socket))
  end)
elseif not love and not has_socket and _VERSION == "Lua 5.5" then
  print("SKIPPED: no LuaSocket for Lua 5.5; tests/network's hostile cases send the strangers' datagrams")
elseif not love and not has_socket then
  print("SKIPPED: stranger-datagram test needs LuaSocket (apt-get install lua-socket)")
end
if not love and has_socket and type(socket) == "table" and socket.udp then
  T.test("a stranger's oversized or garbage datagram is skipped, the host keeps serving", function()
    local server = assert(enet.host_create("127.0.0.1:*", 4))
    local port = tonumber(server:get_socket_address():match(":(%d+)$"))
    local u = assert(socket.udp())
    assert(u:sendto(string.rep("x", 5000), "127.0.0.1", port))
    assert(u:sendto(string.rep("\255", 3000), "127.0.0.1", port))
    assert(u:sendto("\0\1", "127.0.0.1", port))
    for _ = 1, 5 do
      local ok, a, b = pcall(server.service, server, 5)
      T.ok(ok, "service does not raise: " .. tostring(a))
      T.eq(a, nil, "no event from garbage")
      T.eq(b, nil, "no failure either: the datagrams are skipped")
    end
    u:close()
    local client = enet.host_create(nil, 1)
    local p = client:connect(server:get_socket_address())
    T.pump({ server, client }, function() return p:state() == "connected" end)
    p:send("after the garbage")
    T.eq(T.receive(server, 1, { client })[1].data, "after the garbage", "still serving")
    server:destroy() client:destroy()
  end)
end

T.test("events kept in a table stay plain data after the host is gone", function()
  local server, client, cpeer = T.pair()
  cpeer:send("keep me", 1)
  local e = T.receive(server, 1, { client })[1]
  server:destroy()
  client:destroy()
  collectgarbage()
  T.eq(e.type, "receive", "type")
  T.eq(e.data, "keep me", "data")
  T.eq(e.channel, 1, "channel")
  T.ok(tostring(e.peer):match("^127%.0%.0%.1:%d+$"), "peer tostring")
  T.raises("destroyed", function() e.peer:state() end)
end)

T.test("destroy: every host method raises Tried to index a nil host!, destroy twice is fine", function()
  local h = enet.host_create("127.0.0.1:*")
  T.eq(select("#", h:destroy()), 0, "destroy returns nothing")
  T.eq(select("#", h:destroy()), 0, "second destroy")
  local calls = {
    service = { 0 }, check_events = {}, compress_with_range_coder = {},
    connect = { "127.0.0.1:1" }, flush = {}, broadcast = { "x" }, channel_limit = { 1 },
    bandwidth_limit = { 1, 1 }, total_sent_data = {}, total_received_data = {},
    service_time = {}, peer_count = {}, get_peer = { 1 }, get_socket_address = {},
  }
  for name, args in pairs(calls) do
    local msg = T.raises("Tried to index a nil host!", function() h[name](h, unpack(args)) end)
    T.ok(not msg:find("bad argument", 1, true), name .. ": not an argument error")
  end
  getmetatable(h).__gc(h) -- __gc after destroy is harmless too
end)

T.test("__gc destroys the host and frees the port", function()
  local addr
  do
    local h = assert(enet.host_create("127.0.0.1:*"))
    addr = h:get_socket_address()
  end
  collectgarbage()
  collectgarbage()
  local again, msg = enet.host_create(addr)
  T.ok(again, "port free after collection: " .. tostring(msg))
  again:destroy()
end)

if _VERSION == "Lua 5.4" or _VERSION == "Lua 5.5" then
  T.test("__close: a <close> host is destroyed at the end of its scope", function()
    local chunk = assert(load([[
      local enet = ...
      local addr, outer
      do
        local h <close> = assert(enet.host_create("127.0.0.1:*"))
        addr = h:get_socket_address()
        outer = h
      end
      return addr, outer
    ]]))
    local addr, h = chunk(enet)
    T.raises("Tried to index a nil host!", function() h:service() end)
    local again = assert(enet.host_create(addr), "port free after __close")
    again:destroy()
    h:destroy()
  end)
end

napper:destroy()
T.done()
