-- valgrind: every peer method on an unverified half-open peer, under memcheck too.
-- Attack review 2: what the application can make a server send to an address that has not
-- completed its handshake (docs/handshake.md, guarantee 3: at most three bytes out per byte in,
-- on the wire). A client that sends one CONNECT and is never serviced again (its address could
-- be forged) leaves an unverified half-open peer, which the application sees through
-- host:get_peer as "acknowledging_connect". Every peer method is called on it, many times, and
-- the server's bytes out are compared with its bytes in. The methods that end the peer are
-- called last (one DISCONNECT, which the credit kept back pays for).
local T = require "t"
require "enet"

local stuck_host = require "stuck"
local function stuck(server) return stuck_host(server, "127.0.0.1:*") end

local function unverified_peer(server)
  for i = 1, server:peer_count() do
    local p = server:get_peer(i)
    if p:state() == "acknowledging_connect" then return p end
  end
end

-- Services `server` until it holds an unverified peer; returns it.
local function wait_unverified(server)
  local p
  T.pump({ server }, function() p = unverified_peer(server); return p ~= nil end, nil, 2000)
  return p
end

local calls = {
  { "ping", function(p) p:ping() end },
  { "ping_interval", function(p) p:ping_interval(10) end },
  { "timeout", function(p) p:timeout(1, 1, 1) end },
  { "throttle_configure", function(p) p:throttle_configure(100, 3, 4) end },
  { "send", function(p) p:send("data") end },
  { "round_trip_time", function(p) p:round_trip_time(0) end },
  { "last_round_trip_time", function(p) p:last_round_trip_time(0) end },
  { "set_data", function(p) p:set_data({}) end },
  { "queries", function(p) p:state(); p:index(); p:connect_id(); p:address(); p:mtu(); p:stats() end },
}

for _, call in ipairs(calls) do
  T.test("peer:" .. call[1] .. " on an unverified peer sends nothing beyond its credit", function()
    local server = assert(enet.host_create("127.0.0.1:*", 8, 2))
    local s = stuck(server)
    local p = wait_unverified(server)
    T.ok(p, "an unverified half-open peer")
    for _ = 1, 40 do
      pcall(call[2], p)
      server:flush()
      server:service(1)
    end
    local sent, received = server:total_sent_data(), server:total_received_data()
    T.ok(sent <= 3 * received, string.format("%d bytes sent for %d received (%s)", sent, received, call[1]))
    s:destroy()
    server:destroy()
  end)
end

T.test("the handshake still completes after every method was called on the unverified peer", function()
  local server = assert(enet.host_create("127.0.0.1:*", 8, 2))
  local client = assert(enet.host_create(nil, 1, 2))
  local cpeer = client:connect(server:get_socket_address(), 2)
  client:flush()
  local p = wait_unverified(server)
  for _, call in ipairs(calls) do pcall(call[2], p) end
  p:timeout(0, 0, 0) -- the defaults again
  local joined, got = false, nil
  T.pump({ server, client }, function() return joined and got end, function(h, e)
    if h == server and e.type == "connect" then joined = true; e.peer:send("hello") end
    if h == client and e.type == "receive" then got = e.data end
  end, 3000)
  T.eq(got, "hello", "data after the handshake")
  -- the client's disconnect reaches the server as a normal one
  cpeer:disconnect()
  local gone = false
  T.pump({ server, client }, function() return gone end, function(h, e)
    if h == server and e.type == "disconnect" then gone = true end
  end, 3000)
  client:destroy()
  server:destroy()
end)

for _, ending in ipairs({ "disconnect", "disconnect_now", "disconnect_later", "reset" }) do
  T.test("peer:" .. ending .. " on an unverified peer frees it and sends at most one DISCONNECT", function()
    local server = assert(enet.host_create("127.0.0.1:*", 8, 2))
    local s = stuck(server)
    local p = wait_unverified(server)
    local sent0 = server:total_sent_packets()
    p[ending](p)
    T.eq(p:state(), "disconnected", ending .. " frees the slot")
    for _ = 1, 20 do server:service(1) end
    T.ok(server:total_sent_packets() - sent0 <= 1, "at most one datagram")
    T.ok(server:total_sent_data() <= 3 * server:total_received_data(), "within the credit")
    -- the slot is usable again
    local c = assert(enet.host_create(nil, 1, 2))
    c:connect(server:get_socket_address(), 2)
    local joined = false
    T.pump({ server, c }, function() return joined end, function(h, e)
      if h == c and e.type == "connect" then joined = true end
    end, 3000)
    s:destroy(); c:destroy(); server:destroy()
  end)
end

T.done()
