-- A host measured under a hostile *connected* peer (tests/network/held.rs, bench/hostile):
-- a server (ENET_ROLE=server, the default) that a raw-UDP peer joins and attacks, or a client
-- (ENET_ROLE=client) of a raw-UDP hostile server. It only services its host and measures:
-- the CPU time (os.clock) spent inside each `service`/`check_events` call, its resident memory,
-- and its events. Written against lua-enet's API, so that it also runs on leafo's binding
-- (the reference in bench/hostile); our additions are used only where they exist.
--
-- The Rust side drives it through a control file (ENET_CONTROL): it writes "<n> <command>"
-- (atomically, by renaming), and this script answers with a line "REPORT <n> key=value ...".
-- Commands: report; send <count> <bytes> <channel> (reliable messages to every connected
-- peer); connect <address> <channels> (client); quit.
--
-- Other settings: ENET_BIND (the server's address, 127.0.0.1:0), ENET_PEERS (slots, 64),
-- ENET_CHANNELS (channel limit, 255),
-- ENET_PEER_TIMEOUT ("limit,minimum,maximum" for every new peer), ENET_LIMITS ("peer,address,
-- host" waiting-data limits in bytes; ours only), ENET_PROBE=1 (the server also runs a
-- well-behaved client in this process that keeps sending it reliable messages).
local N = require "netlib"
local enet = require "enet"

local role = N.env("ENET_ROLE", "server")
local control = assert(os.getenv("ENET_CONTROL"), "ENET_CONTROL")
local PROBE_DATA = 424242

local function numbers(text)
  local t = {}
  for n in (text or ""):gmatch("[^,]+") do t[#t + 1] = tonumber(n) end
  return t
end

local function status_kb(field)
  local f = io.open("/proc/self/status", "r")
  if not f then return -1 end
  local text = f:read("*a")
  f:close()
  return tonumber(text:match(field .. ":%s*(%d+)")) or -1
end

-- Calls a method that only our module has; -1 elsewhere.
local function extra(object, method, ...)
  if object[method] == nil then return -1 end
  return object[method](object, ...)
end

local host
if role == "server" then
  host = assert(enet.host_create(N.env("ENET_BIND", "127.0.0.1:0"), N.num("ENET_PEERS", 64), N.num("ENET_CHANNELS", 255)))
else
  host = assert(enet.host_create(nil, 1, 255))
end
local limits = numbers(os.getenv("ENET_LIMITS"))
if limits[1] then extra(host, "maximum_waiting_data", limits[1]) end
if limits[2] then extra(host, "maximum_address_waiting_data", limits[2]) end
if limits[3] then extra(host, "maximum_host_waiting_data", limits[3]) end
local timeouts = numbers(os.getenv("ENET_PEER_TIMEOUT"))

local probe, probe_peer, probe_server_peer
local c = {
  cpu = 0, max = 0, calls = 0, connects = 0, disconnects = 0, timeouts = 0, receives = 0,
  probe_sent = 0, probe_received = 0, events = {},
}
local peers = {}
local started_clock = 0

local function note(text)
  c.events[#c.events + 1] = text
end

local function handle(h, e)
  if h == probe then
    if e.type == "connect" then probe_peer = e.peer end
    return
  end
  if e.type == "connect" then
    if e.data == PROBE_DATA then
      probe_server_peer = e.peer
    else
      c.connects = c.connects + 1
      peers[e.peer] = true
      if timeouts[1] then e.peer:timeout(timeouts[1], timeouts[2], timeouts[3]) end
    end
    note("connect@" .. (host:service_time() - started_clock))
  elseif e.type == "disconnect" then
    peers[e.peer] = nil
    c.disconnects = c.disconnects + 1
    if e.reason == "timeout" then c.timeouts = c.timeouts + 1 end
    note("disconnect:" .. tostring(e.reason) .. "@" .. (host:service_time() - started_clock))
  elseif e.type == "receive" then
    if e.peer == probe_server_peer then
      c.probe_received = c.probe_received + 1
    else
      c.receives = c.receives + 1
    end
  end
end

-- One measured call: CPU time inside ENet (and our binding), never the Lua around it.
local function measured(h, f, ...)
  local t0 = os.clock()
  local e = f(h, ...)
  local dt = os.clock() - t0
  c.cpu = c.cpu + dt
  c.calls = c.calls + 1
  if dt > c.max then c.max = dt end
  return e
end

local function pump(h, timeout)
  local e = measured(h, h.service, timeout)
  while e do
    handle(h, e)
    e = measured(h, h.check_events)
  end
end

-- The probe is not measured: only what the attacked host spends counts.
local function pump_probe()
  local e = probe:service(0)
  while e do
    handle(probe, e)
    e = probe:check_events()
  end
end

local function report(n)
  local waiting_peer = -1
  for p in pairs(peers) do
    if p.stats then waiting_peer = math.max(waiting_peer, p:stats().waiting_data) end
  end
  local state, rtt = "-", -1
  for p in pairs(peers) do state, rtt = p:state(), p:round_trip_time() end
  local parts = {
    "REPORT " .. n,
    string.format("cpu_us=%.0f", c.cpu * 1e6),
    string.format("max_us=%.0f", c.max * 1e6),
    "calls=" .. c.calls,
    "rss_kb=" .. status_kb("VmRSS"),
    "hwm_kb=" .. status_kb("VmHWM"),
    "received=" .. host:total_received_data(),
    "connects=" .. c.connects,
    "disconnects=" .. c.disconnects,
    "timeouts=" .. c.timeouts,
    "receives=" .. c.receives,
    "waiting=" .. extra(host, "waiting_data"),
    "peer_waiting=" .. waiting_peer,
    "probe_sent=" .. c.probe_sent,
    "probe_received=" .. c.probe_received,
    "state=" .. state,
    "rtt=" .. rtt,
    "events=" .. (#c.events > 0 and table.concat(c.events, ",") or "-"),
  }
  c.max = 0 -- the longest call since the previous report
  N.say(table.concat(parts, " "))
end

local function command(n, word, a, b, d)
  if word == "report" then
    report(n)
  elseif word == "send" then
    local count, size, channel = tonumber(a), tonumber(b), tonumber(d) or 0
    local data = string.rep("d", size)
    for p in pairs(peers) do
      for _ = 1, count do p:send(data, channel) end
    end
    note("send@" .. (host:service_time() - started_clock))
    report(n)
  elseif word == "connect" then
    started_clock = host:service_time()
    local p = host:connect(a, tonumber(b) or 1)
    peers[p] = true
    if timeouts[1] then p:timeout(timeouts[1], timeouts[2], timeouts[3]) end
    report(n)
  elseif word == "quit" then
    report(n)
    return true
  else
    error("unknown command " .. tostring(word))
  end
end

local function poll_control()
  local f = io.open(control, "r")
  if not f then return false end
  local text = f:read("*a")
  f:close()
  os.remove(control)
  local n, word, a, b, d = text:match("^(%d+) (%S+) ?(%S*) ?(%S*) ?(%S*)")
  return command(n, word, a, b, d)
end

if os.getenv("ENET_PROBE") == "1" then
  probe = assert(enet.host_create(nil, 1, 1))
  probe:connect(host:get_socket_address(), 1, PROBE_DATA)
end

pump(host, 0)
started_clock = host:service_time()
if role == "server" then N.say("READY " .. host:get_socket_address()) else N.say("READY") end
local probe_clock = 0
local rounds = 0
while true do
  pump(host, 1)
  if probe then
    pump_probe()
    if probe_peer and probe_peer:state() == "connected" and host:service_time() - probe_clock >= 10 then
      probe_clock = host:service_time()
      c.probe_sent = c.probe_sent + 1
      probe_peer:send("probe " .. c.probe_sent)
    end
  end
  rounds = rounds + 1
  if rounds % 8 == 0 and poll_control() then break end
end
host:destroy()
