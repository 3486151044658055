-- The flood defence's record path (vendor patches 0023-0028, docs/contract.md §10) from Lua, without raw
-- datagrams: clients that send CONNECT and never service again are unverified half-open peers,
-- which put a small server under pressure, so the next clients join through records. Checksums and
-- compression on both ends, settings changed mid-handshake, and wrong-typed arguments.
local T = require "t"
require "enet"

local stuck = require "stuck"

local function configure(h, opts)
  if opts.checksum then h:checksum(true) end
  if opts.compression then h:compression(true) end
  return h
end

-- `n` clients join `server` (after stuck ones put it under pressure); returns the server peers.
local function join(server, n, opts, ms)
  local clients, connected, speers = {}, 0, {}
  for i = 1, n do
    clients[i] = configure(assert(enet.host_create(nil, 1, 2)), opts)
    clients[i]:connect(server:get_socket_address(), 2)
  end
  local hosts = { server }
  for _, c in ipairs(clients) do hosts[#hosts + 1] = c end
  T.pump(hosts, function() return connected == n and #speers == n end, function(h, e)
    if e.type == "connect" then
      if h == server then speers[#speers + 1] = e.peer else connected = connected + 1 end
    elseif e.type == "receive" and h == server then
      e.peer:send(e.data)
    end
  end, ms or 3000)
  return clients, speers, hosts
end

for _, opts in ipairs({ {}, { checksum = true }, { compression = true }, { checksum = true, compression = true } }) do
  local name = (opts.checksum and "checksum " or "") .. (opts.compression and "compression " or "")
  T.test("clients join through records with " .. (name ~= "" and name or "nothing on"), function()
    local server = configure(assert(enet.host_create("127.0.0.1:*", 4, 2)), opts)
    local s1, s2 = stuck(server), stuck(server)
    T.pump({ server }, function() return server:connected_peers() == 0 end, nil, 100)
    local before = { server:flood_statistics() }
    local clients, speers, hosts = join(server, 2, opts)
    local after = { server:flood_statistics() }
    T.ok(after[1] > before[1], "answered from records")
    -- data both ways on each
    local echoed = 0
    for i, c in ipairs(clients) do
      assert(c:get_peer(1)):send(string.rep("x", 300) .. i)
    end
    T.pump(hosts, function() return echoed == 2 end, function(h, e)
      if h == server and e.type == "receive" then e.peer:send(e.data)
      elseif h ~= server and e.type == "receive" then echoed = echoed + 1 end
    end, 2000)
    s1:destroy(); s2:destroy()
    for _, c in ipairs(clients) do c:destroy() end
    server:destroy()
  end)
end

T.test("settings changed mid-handshake under pressure", function()
  local server = assert(enet.host_create("127.0.0.1:*", 4, 2))
  local s1, s2 = stuck(server), stuck(server)
  T.pump({ server }, function() return true end, nil, 50)
  local c = assert(enet.host_create(nil, 1, 2))
  c:connect(server:get_socket_address(), 2)
  c:flush()
  -- the server answers from a record, then its table goes (limit changed) before the ACK
  local e = server:service(50)
  server:flood_defence(true, 4)
  server:flood_defence(true, 0)
  server:flood_defence(false)
  server:flood_defence(true)
  server:flood_defence(true, 262144, 60000)
  -- the client still joins (its CONNECT retransmission gets an answer again)
  local connected = false
  T.pump({ server, c }, function() return connected end, function(h, ev)
    if h == c and ev.type == "connect" then connected = true end
  end, 8000)
  s1:destroy(); s2:destroy(); c:destroy(); server:destroy()
end)

-- Attack review (branch `attack`), finding 2: flood_defence's timeout applies at once to
-- handshakes under way (enet_protocol_handshake_expired reads host -> connectTimeout). A client
-- whose VERIFY_CONNECT has arrived (it raised `connect`) but whose acknowledgement has not yet
-- reached the server is then forgotten without a word when the timeout is lowered below its
-- handshake's age: the unverified peer was never heard, so it ends quietly, and the client's
-- acknowledgement and data are dropped (no record, no alias). The client believes it is
-- connected until its own peer timeout. docs/api.md: handshakes under way "finish as they
-- began", and only a client "that sent nothing at all on its slot for the handshake's whole
-- life (5 s)" is forgotten without a word; docs/handshake.md guarantee 1.
T.test("a timeout lowered mid-handshake does not strand a client told it joined", function()
  local server = assert(enet.host_create("127.0.0.1:*", 4, 2))
  local c = assert(enet.host_create(nil, 1, 2))
  c:connect(server:get_socket_address(), 2)
  c:flush()
  -- the server answers the CONNECT from an unverified half-open peer (no pressure)
  T.pump({ server }, function() return server:get_peer(1):state() == "acknowledging_connect" end, nil, 500)
  -- the client is told it joined; its acknowledgement is queued, not sent yet
  local told = false
  T.pump({ c }, function() return told end, function(_, e)
    if e.type == "connect" then told = true end
  end, 1000)
  -- the server's app lowers the timeout (allowed: 1..60000 ms), services for 20 ms, and
  -- sets it back
  server:flood_defence(true, 32768, 1)
  local t0 = server:service_time()
  while server:service_time() - t0 < 20 do server:service(5) end
  server:flood_defence(true, 32768, 5000)
  -- now the client talks: the server must take it as a peer or tell it DISCONNECT
  assert(c:get_peer(1)):send("hello", 0, "reliable")
  local established, refused = false, false
  pcall(T.pump, { server, c }, function() return established or refused end, function(h, e)
    if h == server and e.type == "connect" then established = true end
    if h == c and e.type == "disconnect" then refused = true end
  end, 2000)
  T.ok(established or refused, "the client told it joined is either the server's peer or told DISCONNECT (client peer " ..
       c:get_peer(1):state() .. ", server peer " .. server:get_peer(1):state() .. ")")
  c:destroy(); server:destroy()
end)

-- Attack review (branch `attack`), finding 4: data crosses between connections on a
-- simultaneous open. A 2-slot server under pressure (a stuck CONNECT holds slot 0 unverified)
-- answers client C's CONNECT from a record that offers (reserves) slot 1; the server's app then
-- connects to C's endpoint (peer-to-peer hosts open both ways at once), and enet_host_connect,
-- finding no unreserved free slot, takes the reserved slot 1 without checking that C's endpoint
-- uses id 1 already. C's datagrams to id 1 now match the server's CONNECTING peer (same
-- endpoint; a connecting peer checks no session), so the record is never heard, and once that
-- peer is connected (both sides chose session 0 on fresh slots) the messages C sends on its
-- own connection arrive on the server's outgoing one. Stock ENet gives the CONNECT slot 1 and
-- has no slot left for host:connect. Expected: what C sends on its connection never arrives on
-- another, and C is either served on it or told DISCONNECT.
T.test("an outgoing connect under pressure never takes an id its endpoint uses", function()
  local server = assert(enet.host_create("127.0.0.1:*", 2, 2))
  local s1 = stuck(server)
  T.pump({ server }, function() return server:get_peer(1):state() == "acknowledging_connect" end, nil, 500)
  local c = assert(enet.host_create("127.0.0.1:*", 2, 2))
  local c0 = c:connect(server:get_socket_address(), 2)
  c:flush()
  server:service(20)
  -- The only free slot's id is the one C's record offers C: the outgoing connection gets none.
  local made, out = pcall(server.connect, server, c:get_socket_address(), 2)
  T.ok(made or tostring(out):match("Failed to create peer"), "connect: " .. tostring(out))
  if not made then out = nil end
  local crossed, served, refused, sent = false, false, false, false
  pcall(T.pump, { server, c }, function() return crossed or served or refused end, function(h, e)
    if h == c and e.type == "connect" and e.peer == c0 and not sent then
      c0:send("from-c0", 0, "reliable"); sent = true
    elseif h == c and e.type == "disconnect" and e.peer == c0 then
      refused = true
    elseif h == server and e.type == "receive" and e.data == "from-c0" then
      if e.peer == out then crossed = true else served = true end
    end
  end, 3000)
  T.ok(sent, "C was told it joined")
  T.ok(not crossed, "C's message on its own connection arrived on the server's outgoing connection to C")
  T.ok(served or refused, "C's connection is served or refused")
  s1:destroy(); c:destroy(); server:destroy()
end)

T.test("a host of one peer, and the host destroyed mid-handshake", function()
  local server = assert(enet.host_create("127.0.0.1:*", 1, 2))
  local s1 = stuck(server)
  T.pump({ server }, function() return true end, nil, 50)
  local c = assert(enet.host_create(nil, 1, 2))
  c:connect(server:get_socket_address(), 2)
  c:flush()
  server:service(20)
  c:service(20)
  server:destroy()
  c:destroy(); s1:destroy()
end)

T.test("flood_defence refuses wrong arguments", function()
  local h = assert(enet.host_create("127.0.0.1:*", 2, 2))
  T.raises("records", h.flood_defence, h, true, 262145)
  T.raises("", h.flood_defence, h, true, -1)
  T.raises("timeout", h.flood_defence, h, true, nil, 0)
  T.raises("timeout", h.flood_defence, h, true, nil, 60001)
  T.raises("", h.flood_defence, h, true, 0 / 0)
  T.raises("", h.flood_defence, h, true, "x")
  T.raises("", h.flood_defence, h, true, math.huge)
  T.raises("", h.flood_defence, h, true, nil, 0 / 0)
  T.raises("", h.flood_defence, h, true, {})
  local on, records, timeout = h:flood_defence(true, 7, 1)
  T.eq(records, 4, "7 rounds down to 4")
  on, records = h:flood_defence(true, 3)
  T.eq(records, 2, "3 rounds down to 2")
  on, records = h:flood_defence(true, 1)
  T.eq(records, 1, "1 keeps one")
  on, records = h:flood_defence(true, 0)
  T.eq(records, 0, "0 keeps none")
  h:destroy()
  T.raises("", h.flood_defence, h, true)
end)

T.done()
