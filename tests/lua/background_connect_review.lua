-- Attack review of vendor/enet patch 0041 (a peer the background thread connects is
-- CONNECTED at once, flagged CONNECT_PENDING, its connect event dispatched later). Every way
-- such a peer can change before Lua takes its connect event, and many clients joining a
-- background server while its Lua is busy: exactly one connect per peer, first, with its data;
-- its messages in order; its disconnect last.
local T = require "t"
local enet = require "enet"
local timing = require "timing"

local SLOW = os.getenv("ENET_TEST_SLOW") ~= nil

local function show(e)
  if e.type == "receive" then return "receive:" .. e.data end
  if e.type == "disconnect" then return "disconnect:" .. tostring(e.data) .. ":" .. tostring(e.reason) end
  return e.type .. ":" .. tostring(e.data)
end

-- Every event of every host in `hosts` within `ms` (or until cond()), as one string per host
-- (a table keyed by host). Pumping never drops an event.
local function collect(hosts, ms, cond)
  local got = {}
  for _, h in ipairs(hosts) do got[h] = {} end
  local t0 = timing.now()
  repeat
    for _, h in ipairs(hosts) do
      local e = h:service(0)
      while e do
        table.insert(got[h], show(e))
        e = h:check_events()
      end
    end
    if cond and cond() then break end
    timing.stall(0.0005)
  until timing.now() - t0 > ms
  local out = {}
  for _, h in ipairs(hosts) do out[h] = table.concat(got[h], ",") end
  return out, (cond == nil or cond())
end

local function wait(ms, hosts, cond)
  local out, ok = collect(hosts, ms, cond)
  if not ok then error("not within " .. ms .. " ms", 2) end
  return out
end

local function pump_only(hosts, ms) return collect(hosts, ms) end

-- Every event `host` gives within `ms` (servicing `others` too, whose events are dropped).
local function events_of(host, ms, others)
  local hosts = { host }
  for _, h in ipairs(others or {}) do hosts[#hosts + 1] = h end
  return collect(hosts, ms)[host]
end

local function msgs(n, last)
  local t = {}
  for i = 1, n do t[#t + 1] = "receive:m" .. i end
  if last then t[#t + 1] = last end
  return table.concat(t, ",")
end

-- A background server with a client connected to it whose connect event the server's Lua has
-- not taken: returns server, client, the client's peer, the server's slot (get_peer).
local function pending_pair(data, nmsg, server_peers)
  local server = assert(enet.host_create("127.0.0.1:*", server_peers or 4))
  server:background(true)
  local client = assert(enet.host_create(nil, 2))
  local cpeer = client:connect(server:get_socket_address(), 1, data)
  wait(5000, { client }, function() return cpeer:state() == "connected" and server:connected_peers() == 1 end)
  for i = 1, nmsg or 0 do cpeer:send("m" .. i) end
  if (nmsg or 0) > 0 then
    -- until everything is acknowledged (the server's thread holds it)
    client:flush()
    wait(5000, { client }, function() return cpeer:stats().reliable_data_in_transit == 0 end)
    pump_only({ client }, 50)
  end
  local speer
  for i = 1, server:peer_count() do
    local p = server:get_peer(i)
    if p:state() ~= "disconnected" then speer = p end
  end
  return server, client, cpeer, speer
end

T.test("a pending peer: state, counters, connect_id, receive and send before its event", function()
  local server, client, cpeer, speer = pending_pair(11, 3)
  T.eq(speer:state(), "connected", "connected before the event")
  T.eq(server:connected_peers(), 1, "counted")
  local cid = speer:connect_id()
  T.eq(cid, cpeer:connect_id(), "the same connect id on both sides")
  -- peer:receive() takes the first message, bypassing its event
  local data = speer:receive()
  T.eq(data, "m1", "peer:receive() before the connect event takes the first message")
  speer:send("hi")
  local got = collect({ server, client }, 400)
  T.eq(got[server], "connect:11,receive:m2,receive:m3", "connect first, then only the messages not taken")
  T.eq(got[client], "receive:hi", "a send to the pending peer arrives")
  T.eq(speer:connect_id(), cid, "same connect id after the event")
  client:destroy()
  server:destroy()
end)

T.test("background(false) with the connect pending: a normal service gives it first", function()
  for _, restart in ipairs({ false, true }) do
    local server, client = pending_pair(21, 4)
    server:background(false)
    if restart then server:background(true); timing.stall(0.05); server:background(false); server:background(true) end
    local got = events_of(server, 300, { client })
    T.eq(got, "connect:21," .. msgs(4), (restart and "restarted" or "stopped") .. ": connect, messages in order")
    -- and the connection lives on
    client:get_peer(1):send("after")
    T.eq(events_of(server, 300, { client }), "receive:after", "later messages too")
    client:destroy()
    server:destroy()
  end
end)

T.test("the remote leaves a pending peer in every way: connect, messages, disconnect", function()
  for _, how in ipairs({ "disconnect", "disconnect_later", "disconnect_now" }) do
    local server, client, cpeer = pending_pair(31, 5)
    cpeer[how](cpeer, 77)
    client:flush()
    wait(3000, { client }, function() return cpeer:state() == "disconnected" end)
    pump_only({}, 100)
    local got = events_of(server, 300, { client })
    T.eq(got, "connect:31," .. msgs(5, "disconnect:77:remote"), how)
    T.eq(server:connected_peers(), 0, how .. ": no longer counted")
    client:destroy()
    server:destroy()
  end
end)

T.test("a pending peer times out on the server: connect, messages, disconnect (timeout)", function()
  local server, client, _, speer = pending_pair(41, 2)
  speer:timeout(32, 200, 500)
  client:destroy() -- no goodbye
  wait(5000, {}, function() return server:connected_peers() == 0 end)
  T.eq(events_of(server, 200), "connect:41," .. msgs(2, "disconnect:0:timeout"), "in that order")
  server:destroy()
end)

T.test("the server ends a pending peer itself", function()
  for _, how in ipairs({ "disconnect", "disconnect_later", "disconnect_now", "reset" }) do
    local server, client, cpeer, speer = pending_pair(51, 2)
    if how == "disconnect_later" then speer:send("bye") end
    if how == "reset" then speer:reset() else speer[how](speer, 5) end
    local all = collect({ server, client }, 700)
    local cgot, got = all[client], all[server]
    if how == "reset" then
      T.eq(got, "", how .. ": no event")
    elseif how == "disconnect_now" then
      T.eq(got, "", how .. ": no event")
      T.eq(cgot, "disconnect:5:remote", how .. ": the client hears it")
    else
      T.eq(got, "connect:51,disconnect:0:local", how .. ": connect, then disconnect")
      T.eq(cgot, (how == "disconnect_later" and "receive:bye," or "") .. "disconnect:5:remote", how .. ": the client hears it")
    end
    T.eq(speer:state(), "disconnected", how .. ": disconnected")
    T.eq(server:connected_peers(), 0, how .. ": not counted")
    if how == "reset" then cpeer:reset() end
    client:destroy()
    server:destroy()
  end
end)

T.test("a slot whose pending peer was reset, reused by another client: only its connect", function()
  local server, client1, cpeer1, speer = pending_pair(61, 2, 1)
  speer:reset()
  cpeer1:reset()
  local client2 = assert(enet.host_create(nil, 1))
  local cpeer2 = client2:connect(server:get_socket_address(), 1, 62)
  wait(5000, { client2 }, function() return cpeer2:state() == "connected" end)
  cpeer2:send("x")
  T.eq(events_of(server, 400, { client1, client2 }), "connect:62,receive:x", "one connect, the new one's")
  client1:destroy()
  client2:destroy()
  server:destroy()
end)

T.test("the same address reconnects while its first, pending, connection is a zombie", function()
  local server, client, cpeer = pending_pair(71, 2)
  cpeer:disconnect_now(1)
  local cpeer2 = client:connect(server:get_socket_address(), 1, 72)
  wait(5000, { client }, function() return cpeer2:state() == "connected" end)
  cpeer2:send("y")
  client:flush()
  wait(3000, { client }, function() return cpeer2:stats().reliable_data_in_transit == 0 end)
  local per = {}
  local t0 = timing.now()
  repeat
    local e = server:service(1)
    while e do
      local k = e.peer:index() .. "/" .. (e.type == "connect" and e.data or (per[e.peer:index()] or {}).id or "?")
      per[e.peer:index()] = per[e.peer:index()] or {}
      local p = per[e.peer:index()]
      p[#p + 1] = e.type .. ":" .. tostring(e.data)
      e = server:check_events()
    end
    client:service(0)
  until timing.now() - t0 > 400
  local seqs = {}
  for _, p in pairs(per) do seqs[#seqs + 1] = table.concat(p, ",") end
  table.sort(seqs)
  T.eq(table.concat(seqs, " | "), "connect:71,receive:m1,receive:m2,disconnect:1 | connect:72,receive:y",
    "each connection its own events, in order")
  client:destroy()
  server:destroy()
end)

T.test("destroying a background host with pending connects", function()
  for _, side in ipairs({ "server", "client" }) do
    local server, client = pending_pair(81, 3)
    local gone, other = server, client
    if side == "client" then gone, other = client, server end
    gone:destroy()
    T.raises("nil host", function() return gone:background() end)
    other:destroy()
  end
  -- and by the collector, with nothing else
  do local s = pending_pair(82, 1) end
  collectgarbage(); collectgarbage()
end)

T.test("a background client, pending, that its server disconnects or drops", function()
  for _, how in ipairs({ "disconnect", "disconnect_later", "disconnect_now" }) do
    local server = assert(enet.host_create("127.0.0.1:*", 4))
    local client = assert(enet.host_create(nil, 1))
    client:background(true)
    local cpeer = client:connect(server:get_socket_address(), 1, 5)
    wait(5000, { server }, function() return cpeer:state() == "connected" end)
    local speer = server:get_peer(1)
    for i = 1, 3 do speer:send("m" .. i) end
    server:flush()
    wait(3000, { server }, function() return speer:stats().reliable_data_in_transit == 0 end)
    speer[how](speer, 9)
    server:flush()
    -- the thread takes the goodbye; the peer waits for Lua as a zombie
    wait(3000, { server }, function() return cpeer:state() == "zombie" end)
    T.eq(server:connected_peers(), 0, how .. ": the server let go")
    T.eq(events_of(client, 300, { server }), "connect:0," .. msgs(3, "disconnect:9:remote"), how)
    T.eq(cpeer:state(), "disconnected", how .. ": disconnected once Lua took it")
    client:destroy()
    server:destroy()
  end
end)

-- Many clients join while the server's Lua does not call it: some stay, some leave each way.
T.test("many clients join a background server while its Lua is busy", function()
  local N = SLOW and 40 or 120
  local server = assert(enet.host_create("127.0.0.1:*", N + 8))
  server:background(true)
  local addr = server:get_socket_address()
  local clients, peers = {}, {}
  for i = 1, N do
    clients[i] = assert(enet.host_create(nil, 1))
    peers[i] = clients[i]:connect(addr, 1, 1000 + i)
  end
  local function all_connected()
    for i = 1, N do if peers[i]:state() ~= "connected" then return false end end
    return true
  end
  wait(10000, clients, all_connected)
  for i = 1, N do
    peers[i]:timeout(32, 300, 1000) -- a server that refused pings would be dropped
    for k = 1, 6 do peers[i]:send(i .. ":" .. k, 0, k % 2 == 0 and "reliable" or "reliable") end
  end
  -- 2 s in which the server's Lua does nothing but the clients run
  pump_only(clients, 1000)
  local leave = { "disconnect", "disconnect_later", "disconnect_now" }
  for i = 1, N do
    local how = leave[i % 4]
    if how then
      if how == "disconnect_now" then clients[i]:flush(); pump_only({ clients[i] }, 1) end
      peers[i][how](peers[i], i)
    end
  end
  pump_only(clients, 1000)
  local stayed = 0
  for i = 1, N do
    if leave[i % 4] then
      T.eq(peers[i]:state(), "disconnected", i .. " left")
    else
      T.eq(peers[i]:state(), "connected", i .. " was not dropped")
      stayed = stayed + 1
    end
  end
  T.eq(server:connected_peers(), stayed, "the server counts those that stayed")
  -- Now Lua takes the server's events.
  local seq = {}
  local byslot = {}
  local bad = {}
  local t0 = timing.now()
  repeat
    local e = server:service(1)
    while e do
      local slot = e.peer:index()
      if e.type == "connect" then
        local id = e.data - 1000
        if byslot[slot] then bad[#bad + 1] = "connect on slot " .. slot .. " held by " .. byslot[slot] end
        byslot[slot] = id
        if seq[id] then bad[#bad + 1] = "second connect of " .. id end
        seq[id] = { "c" }
      else
        local id = byslot[slot]
        if not id then
          bad[#bad + 1] = e.type .. " before connect on slot " .. slot
        elseif e.type == "receive" then
          local who, k = e.data:match("^(%d+):(%d+)$")
          if tonumber(who) ~= id then bad[#bad + 1] = "message of " .. who .. " on " .. id end
          seq[id][#seq[id] + 1] = k
        else
          if e.data ~= id then bad[#bad + 1] = "disconnect data " .. tostring(e.data) .. " for " .. id end
          seq[id][#seq[id] + 1] = "d"
          byslot[slot] = nil
        end
      end
      e = server:check_events()
    end
    for _, c in ipairs(clients) do c:service(0) end
  until timing.now() - t0 > 1000
  for i = 1, N do
    local want = "c,1,2,3,4,5,6" .. (leave[i % 4] and ",d" or "")
    local s = seq[i] and table.concat(seq[i], ",") or "(none)"
    if s ~= want then bad[#bad + 1] = i .. ": " .. s .. " (want " .. want .. ")" end
  end
  T.eq(table.concat(bad, "; "), "", "exactly one connect each, first; messages in order; disconnect last")
  for _, c in ipairs(clients) do c:destroy() end
  server:destroy()
end)

T.test("shutdown with pending connects: every peer leaves cleanly", function()
  local server = assert(enet.host_create("127.0.0.1:*", 8))
  server:background(true)
  local clients, peers = {}, {}
  for i = 1, 3 do
    clients[i] = assert(enet.host_create(nil, 1))
    clients[i]:background(true) -- they answer while shutdown blocks Lua
    peers[i] = clients[i]:connect(server:get_socket_address(), 1, i)
  end
  timing.within(5, function() return server:connected_peers() == 3 end)
  peers[1]:send("x")
  timing.within(5, function() return peers[1]:stats().reliable_data_in_transit == 0 end)
  local clean, forced = server:shutdown(3000, 4)
  T.eq(clean, 3, "three left cleanly")
  T.eq(forced, 0, "none cut off")
  T.eq(events_of(server, 100), "", "shutdown consumed their events")
  for i = 1, 3 do
    T.eq(events_of(clients[i], 200), "connect:0,disconnect:4:remote", "client " .. i .. ": connect, then the goodbye")
    clients[i]:destroy()
  end
  server:destroy()
end)

T.test("a background client, pending, whose server vanishes: connect, then timeout", function()
  local server = assert(enet.host_create("127.0.0.1:*", 4))
  local client = assert(enet.host_create(nil, 1))
  client:background(true)
  local cpeer = client:connect(server:get_socket_address(), 1, 5)
  wait(5000, { server }, function() return cpeer:state() == "connected" end)
  cpeer:timeout(32, 200, 500)
  server:destroy()
  timing.within(5, function() return cpeer:state() == "zombie" end)
  T.eq(events_of(client, 200), "connect:0,disconnect:0:timeout", "connect, then disconnect")
  client:destroy()
end)

T.done()
