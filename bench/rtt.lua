-- Round trip as the *remote* peer measures it while the local Lua loop runs at a frame rate,
-- with and without host:background(true).
--
--   lua5.4 bench/rtt.lua [seconds (5)]
--
-- For each case the local process makes a server host and starts a remote process (this
-- script with "remote") whose client sends a reliable 32-byte message every 20 ms and samples
-- ENet's last round trip of its peer after each acknowledgement. The local loop, per frame,
-- takes every event with service(0) (echoing nothing), then "renders" for the rest of the
-- frame by waiting on an unrelated host (so the host under test is not called). "unthrottled"
-- is a normal host serviced in a tight service(1) loop. Prints the remote's median and 90th
-- percentile, in ms. Needs ENET_CPATH or package.cpath to find the module.
local dir = (arg and arg[0] and arg[0]:match("^(.*)/") or ".")
if os.getenv("ENET_CPATH") then package.cpath = os.getenv("ENET_CPATH") .. ";" .. package.cpath end
local enet = require "enet"

if arg[1] == "remote" then
  local address, seconds = arg[2], tonumber(arg[3])
  local host = assert(enet.host_create(nil, 1))
  local peer = host:connect(address)
  local samples, last_sent = {}, -1e9
  local message = string.rep("x", 32)
  -- (an event this first service returns is the connect: on loopback the answer can be back)
  local connected = host:service(0) ~= nil
  local start = host:service_time()
  while host:service_time() - start < (seconds + 1) * 1000 do
    local e = host:service(1)
    while e do
      if e.type == "connect" then connected = true end
      e = host:check_events()
    end
    local t = host:service_time() - start
    if connected and t - last_sent >= 20 then
      if last_sent > 1000 then
        -- the round trip of the newest acknowledged reliable command (after a warm-up second)
        samples[#samples + 1] = peer:last_round_trip_time()
      end
      peer:send(message)
      last_sent = t
    end
  end
  table.sort(samples)
  local function q(p) return samples[math.max(1, math.floor(#samples * p + 0.5))] or -1 end
  print(string.format("%d %d %d", q(0.5), q(0.9), #samples))
  os.exit(0)
end

local seconds = tonumber(arg[1] or "5")
local interp = arg[-1] or "lua5.4"
local sleeper = assert(enet.host_create("127.0.0.1:*", 1))

local function case(name, hz, background)
  local server = assert(enet.host_create("127.0.0.1:*", 1))
  if background then assert(server:background(true)) end
  local command = string.format("%s %s/rtt.lua remote %s %d", interp, dir,
    server:get_socket_address(), seconds)
  if os.getenv("ENET_CPATH") then command = "ENET_CPATH='" .. os.getenv("ENET_CPATH") .. "' " .. command end
  local remote = assert(io.popen(command, "r"))
  sleeper:service(0)
  local start = sleeper:service_time()
  local frame = hz and math.floor(1000 / hz) or 0
  while sleeper:service_time() - start < (seconds + 1.5) * 1000 do
    local t0 = sleeper:service_time()
    if hz then
      local e = server:service(0)
      while e do e = server:check_events() end
      -- the rest of the frame, away from the host under test
      local left = frame - (sleeper:service_time() - t0)
      if left > 0 then sleeper:service(left) end
    else
      local e = server:service(1)
      while e do e = server:check_events() end
      sleeper:service(0)
    end
  end
  local line = remote:read("*l") or "-1 -1 0"
  remote:close()
  local median, p90, n = line:match("(%-?%d+) (%-?%d+) (%d+)")
  print(string.format("%-24s remote rtt median %4s ms, p90 %4s ms (%s samples)", name, median, p90, n))
  io.stdout:flush()
  server:destroy()
end

case("unthrottled", nil, false)
for _, hz in ipairs({ 1, 10, 60 }) do
  case(hz .. " Hz, background", hz, true)
  case(hz .. " Hz, normal", hz, false)
end
