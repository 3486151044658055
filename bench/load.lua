-- The load benchmark's two roles (bench/load drives them; LuaJIT only: the clock is ffi's
-- clock_gettime). Only the lua-enet API is used, so both roles run on leafo/lua-enet too.
--
--   LOAD_ROLE=server   host_create("127.0.0.1:*", LOAD_SLOTS, 2); prints "READY <address>";
--                      services with service(1) and drains with service(0), echoing every
--                      message reliably on its channel, until the file LOAD_STOP exists; then
--                      prints "SERVER connects <n> echoed <n> cpu <seconds>".
--                      LOAD_DEFENCE=off turns our flood defence off (ignored elsewhere).
--   LOAD_ROLE=clients  LOAD_CLIENTS client hosts (one peer, one socket each) join LOAD_SERVER;
--                      once all have joined (or LOAD_JOIN_S passed) each sends a LOAD_SIZE-byte
--                      reliable message LOAD_RATE times a second for LOAD_SECONDS (spread evenly
--                      over the clients), then waits LOAD_SETTLE_S for the last echoes. Every
--                      echo's round trip (ms, measured here) goes to the file LOAD_OUT, one a
--                      line; prints "CLIENTS joined <n> sent <n> echoed <n> lost_peers <n>".
local ffi = require "ffi"
local enet = require "enet"

ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } load_timespec;
  int clock_gettime(int clock, load_timespec *ts);
]]
local ts = ffi.new("load_timespec")
local function now_ms() -- CLOCK_MONOTONIC, shared by every process of the machine
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local function env(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then return default end
  return v
end

local function fail(text)
  io.stderr:write("load: ", text, "\n")
  os.exit(1)
end

local role = env("LOAD_ROLE", "server")

if role == "server" then
  local slots = tonumber(env("LOAD_SLOTS", "2016"))
  local host = enet.host_create("127.0.0.1:*", slots, 2)
  if not host then fail("server host_create failed") end
  if env("LOAD_DEFENCE", "on") == "off" and host.flood_defence then host:flood_defence(false) end
  local stop = env("LOAD_STOP", nil) or fail("LOAD_STOP is not set")
  print("READY " .. host:get_socket_address())
  io.stdout:flush()
  local connects, echoed = 0, 0
  local next_check = now_ms() + 100
  while true do
    local e = host:service(1)
    while e do
      if e.type == "receive" then
        e.peer:send(e.data, e.channel)
        echoed = echoed + 1
      elseif e.type == "connect" then
        connects = connects + 1
      end
      e = host:service(0)
    end
    local t = now_ms()
    if t >= next_check then
      next_check = t + 100
      local f = io.open(stop)
      if f then f:close() break end
    end
  end
  print(string.format("SERVER connects %d echoed %d cpu %.3f", connects, echoed, os.clock()))
  host:destroy()
  os.exit(0)
end

if role ~= "clients" then fail("LOAD_ROLE must be server or clients") end

local count = tonumber(env("LOAD_CLIENTS", "500"))
local rate = tonumber(env("LOAD_RATE", "20"))
local seconds = tonumber(env("LOAD_SECONDS", "15"))
local size = tonumber(env("LOAD_SIZE", "64"))
local join_limit = tonumber(env("LOAD_JOIN_S", "30")) * 1000
local settle = tonumber(env("LOAD_SETTLE_S", "3")) * 1000
local server = env("LOAD_SERVER", nil) or fail("LOAD_SERVER is not set")
local out = assert(io.open(env("LOAD_OUT", nil) or fail("LOAD_OUT is not set"), "w"))

local hosts, peers = {}, {}
for i = 1, count do
  local h = enet.host_create(nil, 1, 2)
  if not h then fail("client host_create failed at " .. i) end
  hosts[i] = h
  peers[i] = h:connect(server, 2)
end

local joined, lost_peers = 0, 0
local sent, echoed = 0, 0
local rtts = {}
local function pump(i)
  local h = hosts[i]
  local e = h:service(0)
  while e do
    if e.type == "receive" then
      local stamp = tonumber(e.data:match("^(%d+%.?%d*) "))
      if stamp then
        echoed = echoed + 1
        rtts[#rtts + 1] = now_ms() - stamp
      end
    elseif e.type == "connect" then
      joined = joined + 1
    elseif e.type == "disconnect" then
      lost_peers = lost_peers + 1
      peers[i] = nil
    end
    e = h:service(0)
  end
end

-- Join: every host serviced until all joined (or the limit).
local start = now_ms()
while joined + lost_peers < count and now_ms() - start < join_limit do
  for i = 1, count do pump(i) end
end

-- Send: client i sends at t0 + (i / count + k) / rate seconds, k = 0, 1, ...
local period = 1000 / rate
local t0 = now_ms() + 100
local stop_sending = t0 + seconds * 1000
local next_send = {}
for i = 1, count do next_send[i] = t0 + period * (i - 1) / count end
local pad = string.rep("x", size)
while true do
  local t = now_ms()
  if t >= stop_sending + settle then break end
  for i = 1, count do
    if peers[i] and t < stop_sending and t >= next_send[i] then
      local head = string.format("%.3f ", t)
      peers[i]:send(head .. pad:sub(#head + 1), 0)
      sent = sent + 1
      next_send[i] = next_send[i] + period
      if next_send[i] < t then next_send[i] = t + period end -- fell behind: no catch-up burst
    end
    pump(i)
  end
end

for _, r in ipairs(rtts) do out:write(string.format("%.3f\n", r)) end
out:close()
print(string.format("CLIENTS joined %d sent %d echoed %d lost_peers %d", joined, sent, echoed, lost_peers))
for i = 1, count do
  if peers[i] then peers[i]:disconnect_now() end
  hosts[i]:destroy()
end
