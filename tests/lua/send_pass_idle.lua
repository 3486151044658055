-- Vendor patch 0038: the send pass visits the peers marked busy (something queued or in flight)
-- and every peer in use only when the earliest idle ping falls due. Over real sockets: idle
-- peers among a busy one still ping at their interval (at most ~10 ms late), a new ping interval
-- takes effect at the next service, a dead remote times out while another peer is busy, a
-- disconnect_later completes, and a flush sends at once (review 5).
local T = require "t"
require "enet"

-- Services the server (waiting up to `wait` ms) and each client once; handler(host, event).
local function step(server, clients, wait, handler)
  local e = server:service(wait)
  while e do
    if handler then handler(server, e) end
    e = server:check_events()
  end
  for _, c in ipairs(clients) do
    e = c:service(0)
    while e do
      if handler then handler(c, e) end
      e = c:check_events()
    end
  end
end

-- services both sides for ms of the server's clock with nothing sent by the script
local function idle(server, clients, ms)
  local start = server:service_time()
  while server:service_time() - start < ms do step(server, clients, 1) end
end

-- A server and n client hosts, each with one connection to it. Returns server, clients, the
-- client-side peers and the server-side peers (in the clients' order).
local function connect(n)
  local server = assert(enet.host_create("127.0.0.1:*", n + 4, 2))
  local clients, cpeers, speers, byData = {}, {}, {}, {}
  for i = 1, n do
    clients[i] = assert(enet.host_create(nil, 1, 2))
    cpeers[i] = clients[i]:connect(server:get_socket_address(), 2, i)
  end
  local joined, deadline = 0, os.time() + 10
  while joined < 2 * n do
    T.ok(os.time() <= deadline, "all " .. n .. " connections within 10 s")
    step(server, clients, 1, function(h, e)
      if e.type == "connect" then
        joined = joined + 1
        if h == server then byData[e.data] = e.peer end
      end
    end)
  end
  for i = 1, n do speers[i] = assert(byData[i], "server peer of client " .. i) end
  return server, clients, cpeers, speers
end

-- Services the server and the live clients until the server's peer `dead` disconnects (at most
-- 6 s of the server's clock); `each` runs before every step and `on_event` gets every other
-- event. Returns the ms it took (nil: never) and the longest service step seen (a loaded
-- machine's slack for the bounds).
local function until_timed_out(server, live, dead, wait, each, on_event)
  local gone, t0 = nil, server:service_time()
  local worstStep, last = 0, t0
  while not gone and server:service_time() - t0 < 6000 do
    if each then each() end
    worstStep = math.max(worstStep, server:service_time() - last)
    last = server:service_time()
    step(server, live, wait, function(h, e)
      if e.type == "disconnect" then
        T.eq(e.peer, dead, "only the dead remote's peer disconnects")
        gone = server:service_time() - t0
      elseif on_event then
        on_event(h, e)
      end
    end)
  end
  return gone, worstStep
end

local function destroy(server, clients)
  for _, c in ipairs(clients) do c:destroy() end
  server:destroy()
end

T.test("idle peers beside a busy one ping at their interval", function()
  local n, interval = 12, 100
  local server, clients, cpeers, speers = connect(n + 1)
  -- peer n + 1 is busy: it sends a reliable message every step, which the server echoes
  for i = 1, n + 1 do
    speers[i]:ping_interval(interval)
    cpeers[i]:ping_interval(600000) -- the clients' own pings would keep the server peers busy
  end
  local busy = cpeers[n + 1]
  local echoes, sent = 0, 0
  local start = server:service_time()
  local last = start
  local worstGap, worstStep = 0, 0
  while server:service_time() - start < 3000 do
    busy:send("b" .. sent, 0, "reliable")
    sent = sent + 1
    step(server, clients, 1, function(h, e)
      if e.type == "receive" then
        if h == server then e.peer:send(e.data, 0, "reliable") else echoes = echoes + 1 end
      elseif e.type == "disconnect" then
        error("unexpected disconnect")
      end
    end)
    local t = server:service_time()
    worstStep = math.max(worstStep, t - last)
    last = t
    if t - start > 2 * interval then -- every idle server peer has been through a ping by now
      for i = 1, n do
        worstGap = math.max(worstGap, t - speers[i]:stats().last_receive_time)
      end
    end
  end
  print(string.format("idle peers: worst time since an acknowledgement %d ms (interval %d), worst step %d ms, %d/%d echoes",
    worstGap, interval, worstStep, echoes, sent))
  -- a ping leaves at most 10 ms after it falls due, then needs the client's and the server's
  -- next steps to be acknowledged: a send pass that forgot idle peers would wait up to 1 s
  T.ok(worstGap <= interval + 10 + 3 * worstStep + 40,
    "an idle peer went " .. worstGap .. " ms without an acknowledgement")
  T.ok(echoes > sent / 2, "the busy peer's messages were echoed")
  destroy(server, clients)
end)

T.test("a new ping interval takes effect at the next service", function()
  local server, clients, cpeers, speers = connect(1)
  speers[1]:ping_interval(5000)
  cpeers[1]:ping_interval(600000)
  -- the first bandwidth throttle (a reliable BANDWIDTH_LIMIT, about 1 s in) is acknowledged
  -- before 1300 ms; after it, nothing for the 5 s interval
  local start = server:service_time()
  while server:service_time() - start < 1300 do step(server, clients, 1) end
  local before = speers[1]:stats().last_receive_time
  while server:service_time() - start < 2000 do step(server, clients, 1) end
  T.eq(speers[1]:stats().last_receive_time, before, "no ping for the 5 s interval yet")
  local t0 = server:service_time()
  speers[1]:ping_interval(50) -- overdue at once: the next send pass pings
  local worstStep, last, took = 0, t0, nil
  while not took and server:service_time() - t0 < 2000 do
    step(server, clients, 1)
    local t = server:service_time()
    worstStep = math.max(worstStep, t - last)
    last = t
    if speers[1]:stats().last_receive_time ~= before then took = t - t0 end
  end
  print(string.format("ping after ping_interval(50): acknowledged %s ms later (worst step %d ms)", tostring(took), worstStep))
  T.ok(took and took <= 10 + 3 * worstStep + 40, "the overdue ping left at once")
  destroy(server, clients)
end)

T.test("a dead remote times out while another peer is busy", function()
  local server, clients, cpeers, speers = connect(2)
  speers[1]:ping_interval(100)
  speers[1]:timeout(32, 300, 1000)
  -- client 1 dies: never serviced again; client 2 keeps a reliable stream going
  local live = { clients[2] }
  local echoes = 0
  local gone, worstStep = until_timed_out(server, live, speers[1], 1,
    function() cpeers[2]:send("x", 0, "reliable") end,
    function(h, e)
      if e.type == "receive" then
        if h == server then e.peer:send(e.data, 0, "reliable") else echoes = echoes + 1 end
      end
    end)
  print(string.format("dead remote timed out after %s ms; %d echoes meanwhile", tostring(gone), echoes))
  -- ping at 100 ms, then the 1000 ms timeout maximum, noticed when a doubling retransmission
  -- timer fires: before twice that
  T.ok(gone and gone <= 100 + 2 * 1000 + 3 * worstStep + 500, "the dead remote timed out in time")
  T.eq(speers[2]:state(), "connected", "the busy peer is still connected")
  destroy(server, clients)
end)

T.test("an idle dead remote times out among idle peers", function()
  local server, clients, cpeers, speers = connect(4)
  for i = 1, 4 do
    speers[i]:ping_interval(200)
    speers[i]:timeout(32, 300, 800)
  end
  local live = { clients[2], clients[3], clients[4] }
  local gone, worstStep = until_timed_out(server, live, speers[1], 2)
  print(string.format("idle dead remote timed out after %s ms", tostring(gone)))
  T.ok(gone and gone <= 200 + 2 * 800 + 3 * worstStep + 500, "the idle dead remote timed out in time")
  destroy(server, clients)
end)

T.test("disconnect_later sends what is queued, then disconnects", function()
  local server, clients, cpeers, speers = connect(1)
  idle(server, clients, 1100)
  for i = 1, 20 do speers[1]:send(string.rep("d", 600) .. i, 0, "reliable") end
  speers[1]:disconnect_later(7)
  local got, clientGone, serverGone = 0, nil, nil
  local t0 = server:service_time()
  while not (clientGone and serverGone) and server:service_time() - t0 < 3000 do
    step(server, clients, 1, function(h, e)
      if e.type == "receive" then
        got = got + 1
      elseif e.type == "disconnect" then
        if h == server then serverGone = true else clientGone = e.data end
      end
    end)
  end
  T.eq(got, 20, "messages received before the disconnect")
  T.eq(clientGone, 7, "the client's disconnect event and its data")
  T.ok(serverGone, "the server's disconnect event")
  destroy(server, clients)
end)

T.test("a flush sends at once to a peer that was idle", function()
  local server, clients, cpeers, speers = connect(1)
  idle(server, clients, 1100)
  speers[1]:send("now", 0, "reliable")
  server:flush()
  -- the server is not serviced again: only the flush can have sent it
  local got
  for _ = 1, 200 do
    local e = clients[1]:service(1)
    while e do
      if e.type == "receive" then got = e.data end
      e = clients[1]:check_events()
    end
    if got then break end
  end
  T.eq(got, "now", "the flushed message")
  destroy(server, clients)
end)

T.done()
