-- Attack review 2: host:connect to a broadcast address under pressure. A peer connecting to
-- 255.255.255.255 takes datagrams for its slot's id from any address (stock ENet: whoever
-- answers the broadcast), so its id is in use by every endpoint. enet_host_connect avoided only
-- the ids the target endpoint uses (vendor patch 0024), and a broadcast target uses none: the
-- connecting peer could take the free slot a record reserves (or the id an aliased peer is
-- known by), and the record's client's echo then went to it instead of to the record. The client
-- was told it joined (VERIFY_CONNECT), its handshake never completed, and it was never told
-- DISCONNECT (the record was never heard, so it ended quietly): docs/handshake.md guarantee 1.
local T = require "t"
require "enet"

local stuck = require "stuck"

T.test("a broadcast connect does not take the slot a record offers a client", function()
  -- 3 slots, 2 held by unverified peers: under pressure, so the client gets a record offering
  -- the third, which it reserves.
  local server = assert(enet.host_create("127.0.0.1:*", 3, 2))
  server:flood_defence(true, 64, 1000)
  local s1, s2 = stuck(server), stuck(server)
  T.pump({ server }, function() return true end, nil, 50)
  local client = assert(enet.host_create(nil, 1, 2))
  client:connect(server:get_socket_address(), 2)
  client:flush()
  -- the server answers from a record (VERIFY_CONNECT); the client is not serviced yet
  for _ = 1, 20 do server:service(1) end
  local answered = server:flood_statistics()
  T.ok(answered >= 3, "the client was answered from a record (" .. answered .. " answers)")
  -- the application starts a LAN discovery: a connect to the broadcast address
  local ok, bpeer = pcall(server.connect, server, "255.255.255.255:9", 2)
  -- now the client echoes; it must end up joined on both sides, or be told DISCONNECT
  local client_connected, client_disconnected, server_connected = false, false, false
  local hosts = { server, client }
  local t = 0
  while t < 5000 and not (client_connected and server_connected) and not client_disconnected do
    for _, h in ipairs(hosts) do
      local e = h:service(1)
      while e do
        if h == client then
          if e.type == "connect" then client_connected = true end
          if e.type == "disconnect" then client_disconnected = true end
        elseif e.type == "connect" then
          server_connected = true
        end
        e = h:check_events()
      end
    end
    t = t + 2
  end
  T.ok(client_connected, "the client was told it joined")
  T.ok(server_connected or client_disconnected,
       "the server has the client's peer, or told it DISCONNECT (broadcast connect "
       .. (ok and tostring(bpeer) or "failed") .. ")")
  if ok and bpeer then
    T.ok(tostring(bpeer) == "255.255.255.255:9" or bpeer:state() == "disconnected",
         "the broadcast peer was not taken over by the client: " .. tostring(bpeer))
  end
  s1:destroy(); s2:destroy(); client:destroy(); server:destroy()
end)

T.test("a broadcast connect does not take the datagrams of a peer aliased as its slot", function()
  local server = assert(enet.host_create("127.0.0.1:*", 3, 2))
  server:flood_defence(true, 64, 5000)
  local s1, s2 = stuck(server), stuck(server)
  T.pump({ server }, function() return true end, nil, 50)
  local client = assert(enet.host_create(nil, 1, 2))
  local cpeer = client:connect(server:get_socket_address(), 2)
  client:flush()
  for _ = 1, 20 do server:service(1) end
  -- an outgoing connect takes the slot the record offered (the only free one); the client's
  -- echo then gets a stuck client's slot, aliased as the offered id
  local other = assert(enet.host_create("127.0.0.1:*", 1, 2))
  local opeer = assert(server:connect(other:get_socket_address(), 2))
  local speer
  T.pump({ server, client }, function() return speer ~= nil end, function(h, e)
    if h == server and e.type == "connect" and e.peer ~= opeer then speer = e.peer end
  end, 3000)
  T.ok(speer:index() ~= opeer:index(), "the client's peer lives in another slot than its id")
  -- the outgoing connect goes; a broadcast connect takes its slot, the aliased peer's id
  opeer:reset()
  local bpeer = assert(server:connect("255.255.255.255:9", 2))
  T.eq(bpeer:index(), opeer:index(), "the broadcast peer holds the alias's slot")
  -- the client's messages still reach its peer
  local got = {}
  for i = 1, 5 do cpeer:send("m" .. i) end
  T.pump({ server, client }, function() return #got == 5 end, function(h, e)
    if h == server and e.type == "receive" then got[#got + 1] = e.peer == speer and e.data or "wrong peer" end
  end, 3000)
  T.eq(table.concat(got, ","), "m1,m2,m3,m4,m5", "the aliased peer's messages")
  T.eq(tostring(bpeer), "255.255.255.255:9", "the broadcast peer kept its address")
  s1:destroy(); s2:destroy(); client:destroy(); other:destroy(); server:destroy()
end)

T.done()
