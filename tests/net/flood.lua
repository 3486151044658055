-- Run by tests/network/flood.rs (issue 13, SPEC §10): the server and the legitimate side of a
-- forged-CONNECT flood. The forged CONNECTs come from the Rust side, raw, from hundreds of
-- loopback addresses.
--   ENET_ROLE=server   a 64-peer host (ENET_PEER_COUNT) on 127.0.0.1: prints "READY <address>" and its RSS, echoes
--                      every packet, prints "EVENT connect|disconnect <ms> <address>" and, every
--                      100 ms when it changed, "HALFOPEN <n>" (peers acknowledging_connect); at
--                      ENET_STOP_FILE prints "STATS ..." (host:flood_statistics()) and "RSS ...".
--                      ENET_DEFENCE=off: stock ENet's handshake; ENET_CONNECT_TIMEOUT=<ms>,
--                      ENET_RECORDS=<n>: host:flood_defence(true, records, timeout);
--                      ENET_DUPLICATE_PEERS=<n>: host:duplicate_peers(n).
--   ENET_ROLE=client   joins ENET_SERVER, prints "JOIN <ms>" (host:connect to the connect event,
--                      at most ENET_JOIN_LIMIT ms) and "ECHO <ms>" for one round trip of data.
--                      ENET_STOCK=1 (inside LÖVE): LÖVE's bundled enet, a stock ENet 1.3.13.
--   ENET_ROLE=echoers  ENET_PEERS peers join before the flood (prints READY), then each sends a
--                      message every 20 ms and times its echo until ENET_STOP_FILE; prints
--                      "LATENCY <median> <p99> <max> <count>" in ms.
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
    local host = assert(enet.host_create("127.0.0.1:*", N.num("ENET_PEER_COUNT", 64), 2))
    if N.env("ENET_DEFENCE") == "off" then
      host:flood_defence(false)
    elseif N.env("ENET_CONNECT_TIMEOUT") or N.env("ENET_RECORDS") then
      host:flood_defence(true, N.num("ENET_RECORDS"), N.num("ENET_CONNECT_TIMEOUT"))
    end
    if N.env("ENET_DUPLICATE_PEERS") then host:duplicate_peers(N.num("ENET_DUPLICATE_PEERS")) end
    local rss_before = rss_kib()
    drain(host, 0, function() end)
    local start = host:service_time()
    N.say("READY " .. host:get_socket_address())
    local halfopen, last_check, rounds = -1, 0, 0
    while true do
      drain(host, 1, function(e)
        local ms = host:service_time() - start
        if e.type == "receive" then
          e.peer:send(e.data, e.channel)
        else
          N.say(string.format("EVENT %s %d %s", e.type, ms, tostring(e.peer)))
        end
      end)
      rounds = rounds + 1
      local now = host:service_time() - start
      if now - last_check >= 100 then
        last_check = now
        local n = 0
        for i = 1, host:peer_count() do
          if host:get_peer(i):state() == "acknowledging_connect" then n = n + 1 end
        end
        if n ~= halfopen then
          halfopen = n
          N.say(string.format("HALFOPEN %d %d", now, n))
        end
        if N.stop_requested() then break end
      end
      if now > 120000 then error("no stop signal") end
    end
    if host.flood_statistics then -- not in lua-enet, which bench/flood also runs this with
      N.say(string.format("STATS answered %d evicted %d expired %d completed %d dropped %d",
        host:flood_statistics()))
    end
    local rss_after = rss_kib()
    N.say(string.format("RSS before %d after %d KiB", rss_before, rss_after))
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
