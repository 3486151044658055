-- A main loop that stalls: does a host keep its peers through a hitch (a 20 s level load, a
-- blocking dialog, a debugger) with host:background(true), and lose them without it?
--
--   lua5.4 bench/hitch.lua [stall_seconds (60)] [background: 1|0 (1)] [peers (4)]
--
-- The local process makes a server host (background or not), lets a second process (the
-- remote side, this script with "remote") connect `peers` clients to it, then spins in a busy
-- loop for `stall_seconds` without calling the module at all, then services for 2 s. Both
-- sides print what they saw: the remote every disconnect (with its reason: "timeout" is the
-- remote timing us out) and its peers' states and round trips at the end, the local side its
-- peers' states after the stall. ENet's default peer timeout is 5-30 s. Needs ENET_CPATH or
-- package.cpath to find the module; the remote runs in the same interpreter (arg[-1]).
local dir = (arg and arg[0] and arg[0]:match("^(.*)/") or ".")
if os.getenv("ENET_CPATH") then package.cpath = os.getenv("ENET_CPATH") .. ";" .. package.cpath end
local enet = require "enet"

local function out(...)
  io.write(string.format(...), "\n")
  io.flush()
end

if arg[1] == "remote" then
  local address, peers, seconds = arg[2], tonumber(arg[3]), tonumber(arg[4])
  local host = assert(enet.host_create(nil, peers))
  local list = {}
  for i = 1, peers do list[i] = host:connect(address) end
  -- The first service starts ENet's clock; the event it may return counts like the others (it
  -- was dropped here, so a run could print connects=3 for 4 connected peers).
  local e = host:service(0)
  local start = host:service_time()
  local function now() return (host:service_time() - start) / 1000 end
  local max_rtt, connects, disconnects = 0, 0, 0
  while now() < seconds do
    e = e or host:service(10)
    while e do
      if e.type == "connect" then
        connects = connects + 1
      elseif e.type == "disconnect" then
        disconnects = disconnects + 1
        out("REMOTE disconnect peer %d reason=%s at %.1f s", e.peer:index(), tostring(e.reason), now())
      end
      e = host:check_events()
    end
    for _, p in ipairs(list) do
      if p:state() == "connected" and p:round_trip_time() > max_rtt then max_rtt = p:round_trip_time() end
    end
  end
  local states = {}
  for i, p in ipairs(list) do states[i] = p:state() end
  out("REMOTE connects=%d disconnects=%d states=%s highest_rtt_ms=%d", connects, disconnects,
      table.concat(states, ","), max_rtt)
  os.exit(0)
end

local stall = tonumber(arg[1] or "60")
local background = (arg[2] or "1") == "1"
local peers = tonumber(arg[3] or "4")
local server = assert(enet.host_create("127.0.0.1:*", peers))
if background then assert(server:background(true)) end
local interp = arg[-1] or "lua5.4"
local command = string.format("%s %s/hitch.lua remote %s %d %d", interp, dir,
  server:get_socket_address(), peers, stall + 8)
if os.getenv("ENET_CPATH") then command = "ENET_CPATH='" .. os.getenv("ENET_CPATH") .. "' " .. command end
local remote = assert(io.popen(command, "r"))

local joined, t0 = 0, os.time()
while joined < peers do
  local e = server:service(10)
  if e and e.type == "connect" then joined = joined + 1 end
  if os.time() - t0 > 10 then error("the remote did not connect") end
end
out("LOCAL %d peers connected; background=%s; stalling %d s without calling enet", joined,
    tostring(background), stall)

local spin, start = 0, os.time()
while os.time() - start < stall do spin = spin + 1 end

local events = {}
local deadline = os.time() + 2
while os.time() < deadline do
  local e = server:service(10)
  while e do
    if e.type ~= "receive" then events[#events + 1] = e.type .. "(" .. tostring(e.reason) .. ")" end
    e = server:check_events()
  end
end
local states = {}
for i = 1, peers do states[i] = server:get_peer(i):state() end
out("LOCAL after the stall: states=%s events=%s", table.concat(states, ","),
    #events > 0 and table.concat(events, ",") or "none")
local stats = server:background_stats()
out("LOCAL thread: passes=%d socket_wakeups=%d timer_wakeups=%d busy_us=%d", stats.passes,
    stats.socket_wakeups, stats.timer_wakeups, stats.busy_us)
for line in remote:lines() do out("%s", line) end
remote:close()
server:destroy()
