-- Run by tests/network/flood.rs (docs/contract.md §10): the server and the legitimate side of a
-- forged-CONNECT flood. The forged CONNECTs come from the Rust side, raw, from hundreds of
-- loopback addresses.
--   ENET_ROLE=server   a 64-peer host (ENET_PEER_COUNT) on 127.0.0.1: prints "READY <address>" and its RSS, echoes
--                      every packet, prints "EVENT connect|disconnect <ms> <address>" and, every
--                      100 ms when it changed, "HALFOPEN <n>" (peers acknowledging_connect); at
--                      ENET_STOP_FILE prints "STATS ..." (host:flood_statistics()), "RSS ..." and
--                      "SERVICE longest <ms> ms, <ms> ms in <n> rounds" (CPU time of its service
--                      calls with their events: the longest one, all of them).
--                      ENET_DEFENCE=off: stock ENet's handshake; ENET_CONNECT_TIMEOUT=<ms>,
--                      ENET_RECORDS=<n>: host:flood_defence(true, records, timeout);
--                      ENET_DUPLICATE_PEERS=<n>: host:duplicate_peers(n); ENET_REFUSE_AT=<n>:
--                      host:refuse_connections(true) once n peers are connected.
--                      ENET_BACKGROUND=1: host:background(true) (issue 21).
--   ENET_ROLE=client   joins ENET_SERVER, prints "JOIN <ms>" (host:connect to the connect event,
--                      at most ENET_JOIN_LIMIT ms) and "ECHO <ms>" for one round trip of data.
--                      ENET_STOCK=1 (inside LÖVE): LÖVE's bundled enet, a stock ENet 1.3.13.
--   ENET_ROLE=echoers  ENET_PEERS peers join before the flood (prints READY), then each sends a
--                      message every 20 ms and times its echo until ENET_STOP_FILE; prints
--                      "LATENCY <median> <p99> <max> <count>" in ms.
--   ENET_ROLE=joins    ENET_JOINS joins one after another, each from a fresh host (bound to
--                      ENET_BIND if set): connect, send a message at the connect event and wait
--                      for its echo, at most ENET_JOIN_LIMIT ms from host:connect; prints
--                      "JOINED <i> <connect ms> <echo ms>" or "MISSED <i> <why>", disconnects
--                      and waits ENET_GAP ms. Passes whatever happened: the Rust side judges.
--   ENET_ROLE=burst    ENET_CLIENTS hosts (each its own socket, bound to
--                      string.format(ENET_BIND_FORMAT, i) if set) print READY, wait for
--                      ENET_GO_FILE, then all connect at once (or one every ENET_STAGGER
--                      ms); each sends a reliable message
--                      every ENET_INTERVAL ms (200) from its connect event until ENET_SEND_MS
--                      (3000) after the start, then waits up to ENET_SETTLE_MS (3000) for the
--                      echoes; prints "BURST joined <n> sent <n> echoed <n> dropped <n>" (dropped:
--                      disconnect events), "SILENT <i> <sent> <echoed> port <port> id <connect id>
--                      state <peer state>" for each joined client that lacks echoes, and "JOINS
--                      last <ms> ms; unjoined <n> <state>=<n>,... ports <first 10>": when its last
--                      client joined, and the clients that did not (with their peers' states).
-- Server extras: ENET_BIND (default 127.0.0.1:*); ENET_LIFETIME_MS (120000): how long it waits for
-- ENET_STOP_FILE before it fails; ENET_COMPRESS=1: host:compress_with_range_coder();
-- ENET_TOGGLE=<ms>: from <ms> after READY on, host:flood_defence is flipped each time a new
-- handshake shows (a new half-open peer, or a VERIFY_CONNECT answered to an unverified address),
-- so that it changes between each CONNECT and its acknowledgement ("TOGGLE <ms> on|off"; first
-- "SWITCHING from <ms>" when that starts). Connect events carry
-- "id <connect id> rtt <ms>" (peer:connect_id() and peer:round_trip_time() at the event).
local T = require "t"
local N = require "netlib"

local role = N.env("ENET_ROLE", "server")
if N.env("ENET_STOCK") then
  enet = assert(LOVE_ENET_PRELOAD, "ENET_STOCK needs LÖVE's bundled enet")()
else
  require "enet"
end

-- Resident set size in KiB (Linux).
local function rss_kib()
  local f = io.open("/proc/self/statm", "r")
  if not f then return 0 end
  local _, resident = f:read("*l"):match("(%d+)%s+(%d+)")
  f:close()
  return tonumber(resident) * 4
end

local function drain(host, timeout, handler)
  local e = host:service(timeout)
  while e do
    handler(e)
    e = host:check_events()
  end
end

if role == "server" then
  T.test("a 64-peer server services a forged-CONNECT flood", function()
    local host = assert(enet.host_create(N.env("ENET_BIND", "127.0.0.1:*"), N.num("ENET_PEER_COUNT", 64), 2))
    if N.env("ENET_COMPRESS") then host:compress_with_range_coder() end
    if N.env("ENET_BACKGROUND") then assert(host:background(true), "background thread") end
    if N.env("ENET_DEFENCE") == "off" then
      host:flood_defence(false)
    elseif N.env("ENET_CONNECT_TIMEOUT") or N.env("ENET_RECORDS") then
      host:flood_defence(true, N.num("ENET_RECORDS"), N.num("ENET_CONNECT_TIMEOUT"))
    end
    if N.env("ENET_DUPLICATE_PEERS") then host:duplicate_peers(N.num("ENET_DUPLICATE_PEERS")) end
    local refuse_at = N.num("ENET_REFUSE_AT")
    local rss_before = rss_kib()
    drain(host, 0, function() end)
    local start = host:service_time()
    N.say("READY " .. host:get_socket_address())
    local halfopen, last_check, rounds = -1, 0, 0
    local toggle, seen_half, seen_answered, switching_said = N.num("ENET_TOGGLE"), 0, 0, false
    local function half_open()
      local n = 0
      for i = 1, host:peer_count() do
        if host:get_peer(i):state() == "acknowledging_connect" then n = n + 1 end
      end
      return n
    end
    local longest, busy = 0, 0 -- CPU time (os.clock) of the service calls and their events
    while true do
      local before = os.clock()
      drain(host, 1, function(e)
        local ms = host:service_time() - start
        if e.type == "receive" then
          e.peer:send(e.data, e.channel)
        elseif e.type == "connect" then
          N.say(string.format("EVENT connect %d %s id %s rtt %d", ms, tostring(e.peer),
            tostring(e.peer:connect_id()), e.peer:round_trip_time()))
          if refuse_at and host:connected_peers() >= refuse_at then
            host:refuse_connections(true)
            N.say("REFUSING")
          end
        else
          N.say(string.format("EVENT %s %d %s", e.type, ms, tostring(e.peer)))
        end
      end)
      local spent = os.clock() - before
      busy, longest = busy + spent, math.max(longest, spent)
      if toggle then
        -- A new handshake since the last round: flip the defence before its acknowledgement.
        local half, answered = half_open(), host:flood_statistics()
        local switching = host:service_time() - start >= toggle
        if switching and not switching_said then
          switching_said = true
          N.say(string.format("SWITCHING from %d", host:service_time() - start))
        end
        if switching and (half > seen_half or answered ~= seen_answered) then
          local on = not host:flood_defence()
          host:flood_defence(on)
          N.say(string.format("TOGGLE %d %s", host:service_time() - start, on and "on" or "off"))
        end
        seen_half, seen_answered = half, answered
      end
      rounds = rounds + 1
      local now = host:service_time() - start
      if now - last_check >= 100 then
        last_check = now
        local n = half_open()
        if n ~= halfopen then
          halfopen = n
          N.say(string.format("HALFOPEN %d %d", now, n))
        end
        if N.stop_requested() then break end
      end
      if now > N.num("ENET_LIFETIME_MS", 120000) then error("no stop signal") end
    end
    if host.flood_statistics then -- not in lua-enet, which bench/flood also runs this with
      N.say(string.format("STATS answered %d evicted %d expired %d completed %d dropped %d",
        host:flood_statistics()))
    end
    if N.env("ENET_BACKGROUND") then
      local stats = host:background_stats()
      N.say(string.format("BACKGROUND running %s passes %d", tostring(stats.running), stats.passes))
    end
    local rss_after = rss_kib()
    N.say(string.format("RSS before %d after %d KiB", rss_before, rss_after))
    N.say(string.format("SERVICE longest %.1f ms, %.0f ms in %d rounds", longest * 1000, busy * 1000, rounds))
    N.say(string.format("COUNT server: %d service rounds, RSS %d -> %d KiB", rounds, rss_before, rss_after))
    host:destroy()
  end)
elseif role == "client" then
  local name = N.env("ENET_NAME", "client")
  T.test(name .. " joins a flooded server", function()
    local host = assert(enet.host_create(nil, 1, 2))
    drain(host, 0, function() end)
    local start = host:service_time()
    local peer = host:connect(assert(os.getenv("ENET_SERVER")), 2)
    local joined, echoed
    local limit = N.num("ENET_JOIN_LIMIT", 1000)
    while not echoed do
      drain(host, 1, function(e)
        if e.type == "connect" then
          joined = host:service_time() - start
          N.say(string.format("JOIN %d", joined))
          peer:send("hello from " .. name, 1)
        elseif e.type == "receive" then
          echoed = host:service_time() - start
          N.say(string.format("ECHO %d", echoed - joined))
        elseif e.type == "disconnect" then
          error("disconnected after " .. (host:service_time() - start) .. " ms")
        end
      end)
      if not joined and host:service_time() - start > limit then
        error(string.format("did not join within %d ms", limit))
      end
      if host:service_time() - start > limit + 5000 then error("no echo") end
    end
    peer:disconnect_now()
    N.say(string.format("COUNT %s: joined in %d ms, echo in %d ms", name, joined, echoed - joined))
    host:destroy()
  end)
elseif role == "joins" then
  local name = N.env("ENET_NAME", "client")
  T.test(name .. " joins one time after another", function()
    local count, limit, gap = N.num("ENET_JOINS", 1), N.num("ENET_JOIN_LIMIT", 2000), N.num("ENET_GAP", 0)
    local server, joined = assert(os.getenv("ENET_SERVER")), 0
    for i = 1, count do
      local host = assert(enet.host_create(N.env("ENET_BIND"), 1, 2))
      drain(host, 0, function() end)
      local start = host:service_time()
      local peer = host:connect(server, 2)
      local connected, echoed, why
      while not echoed and not why do
        drain(host, 1, function(e)
          local ms = host:service_time() - start
          if e.type == "connect" then
            connected = ms
            peer:send("join " .. i, 1)
          elseif e.type == "receive" then
            echoed = ms
          elseif e.type == "disconnect" then
            why = string.format("disconnect event after %d ms (reason %s)", ms, tostring(e.reason))
          end
        end)
        if not echoed and host:service_time() - start > limit then
          why = connected and string.format("connect event after %d ms, no echo within %d ms", connected, limit)
            or string.format("no connect event within %d ms", limit)
        end
      end
      if echoed then
        joined = joined + 1
        N.say(string.format("JOINED %d %d %d", i, connected, echoed))
      else
        N.say(string.format("MISSED %d %s", i, why))
      end
      peer:disconnect_now()
      host:destroy()
      if gap > 0 and i < count then
        local timer = assert(enet.host_create(nil, 1, 1))
        timer:service(gap)
        timer:destroy()
      end
    end
    N.say(string.format("COUNT %s: %d of %d joins within %d ms", name, joined, count, limit))
  end)
elseif role == "burst" then
  T.test("clients join at once and every message is echoed", function()
    local count, format = N.num("ENET_CLIENTS", 10), N.env("ENET_BIND_FORMAT")
    local interval, send_ms, settle_ms = N.num("ENET_INTERVAL", 200), N.num("ENET_SEND_MS", 3000), N.num("ENET_SETTLE_MS", 3000)
    local server = assert(os.getenv("ENET_SERVER"))
    local clients = {}
    for i = 1, count do
      local host = assert(enet.host_create(format and string.format(format, i) or nil, 1, 2))
      clients[i] = { host = host, sent = 0, echoed = 0 }
    end
    N.say("READY")
    local go = N.env("ENET_GO_FILE")
    while go do
      local f = io.open(go, "r")
      if f then f:close() break end
      clients[1].host:service(5)
    end
    local clock = clients[1].host
    drain(clock, 0, function() end)
    local start = clock:service_time()
    local stagger, connecting = N.num("ENET_STAGGER", 0), 0
    local joined, dropped, now = 0, 0, 0
    for _, c in ipairs(clients) do
      c.handle = function(e)
        if e.type == "connect" then
          joined = joined + 1
          c.joined, c.next = now, now
        elseif e.type == "receive" then
          c.echoed = c.echoed + 1
        elseif e.type == "disconnect" then
          if c.joined then dropped = dropped + 1 end
          c.gone = true
        end
      end
    end
    while true do
      now = clock:service_time() - start
      while connecting < count and now >= connecting * stagger do
        connecting = connecting + 1
        clients[connecting].peer = clients[connecting].host:connect(server, 2)
      end
      local waiting = false
      for i, c in ipairs(clients) do
        drain(c.host, 0, c.handle)
        if c.joined and not c.gone then
          if now < send_ms and now >= c.next then
            c.sent = c.sent + 1
            c.next = c.next + interval
            c.peer:send(string.format("%d %d", i, c.sent), 0, "reliable")
          end
          if c.echoed < c.sent then waiting = true end
        end
      end
      if now >= send_ms and (not waiting or now >= send_ms + settle_ms) then break end
      drain(clock, 1, clients[1].handle)
    end
    local sent, echoed, last, states, ports = 0, 0, 0, {}, {}
    for i, c in ipairs(clients) do
      sent, echoed = sent + c.sent, echoed + c.echoed
      if c.joined then
        last = math.max(last, c.joined)
      else
        local state = c.peer and c.peer:state() or "no peer"
        states[state] = (states[state] or 0) + 1
        if #ports < 10 then ports[#ports + 1] = c.host:get_socket_address():match(":(%d+)$") end
      end
      if c.joined and c.echoed < c.sent then
        N.say(string.format("SILENT %d %d %d port %s id %s state %s", i, c.sent, c.echoed,
          c.host:get_socket_address():match(":(%d+)$"), tostring(c.peer:connect_id()), c.peer:state()))
      end
      if c.peer then c.peer:disconnect_now() end
      c.host:destroy()
    end
    N.say(string.format("BURST joined %d sent %d echoed %d dropped %d", joined, sent, echoed, dropped))
    local unjoined = {}
    for state, n in pairs(states) do unjoined[#unjoined + 1] = state .. "=" .. n end
    table.sort(unjoined)
    N.say(string.format("JOINS last %d ms; unjoined %d %s ports %s", last, count - joined,
      table.concat(unjoined, ","), table.concat(ports, ",")))
    N.say(string.format("COUNT burst: %d of %d joined, %d of %d messages echoed, %d dropped", joined, count, echoed, sent, dropped))
  end)
else
  T.test("connected peers keep their round trips during the flood", function()
    local count = N.num("ENET_PEERS", 4)
    local host = assert(enet.host_create(nil, count, 1))
    local peers, connected = {}, 0
    for i = 1, count do peers[i] = host:connect(assert(os.getenv("ENET_SERVER")), 1) end
    N.pump({ host }, 5000, function() return connected == count end, function(_, e)
      if e.type == "connect" then connected = connected + 1 end
    end)
    N.say("READY")
    local samples, next_send, index = {}, 0, 0
    local start = host:service_time()
    while not N.stop_requested() do
      local now = host:service_time()
      if now >= next_send then
        next_send = now + 20
        for _, p in ipairs(peers) do
          index = index + 1
          p:send(tostring(now), 0, "unreliable")
        end
      end
      drain(host, 1, function(e)
        if e.type == "receive" then
          samples[#samples + 1] = host:service_time() - tonumber(e.data)
        elseif e.type == "disconnect" then
          error("a connected peer was dropped during the flood")
        end
      end)
      if now - start > 120000 then error("no stop signal") end
    end
    table.sort(samples)
    T.ok(#samples > 0, "echoes arrived")
    local function at(q) return samples[math.max(1, math.ceil(#samples * q))] end
    N.say(string.format("LATENCY %d %d %d %d", at(0.5), at(0.99), samples[#samples], #samples))
    N.say(string.format("COUNT echoers: %d peers, %d of %d echoes, latency median %d ms, p99 %d ms, max %d ms",
      count, #samples, index, at(0.5), at(0.99), samples[#samples]))
    for _, p in ipairs(peers) do p:disconnect_now() end
    host:destroy()
  end)
end
T.done()
