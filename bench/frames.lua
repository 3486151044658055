-- Throughput of a game loop that runs at a frame rate, with and without host:background(true):
-- how many reliable 1000-byte messages a second (wall clock) reach the game from a busy remote
-- sender ("download"), and reach a busy remote receiver from the game ("upload").
--
--   lua5.4 bench/frames.lua [seconds (5)]
--
-- The local process is the game: per frame it takes every event with service(0) and
-- check_events, sends (upload: messages until CAP are unconfirmed; download: what it has
-- received so far, on channel 1), flushes, then "renders" for the rest of the frame by waiting
-- on an unrelated host (so the host under test is not called). The remote process (this script
-- with "remote") is a normal host serviced in a tight service(1) loop: in download mode it
-- sends while fewer than CAP messages are unconfirmed by the game's reports; in upload mode it
-- reports what it received every 2 ms. "unthrottled" is the game loop without frames: a normal
-- host in a service(1) loop. Counts the first second as warm-up. Prints messages/s and MB/s
-- (10^6 B). Needs ENET_CPATH or package.cpath to find the module.
local dir = (arg and arg[0] and arg[0]:match("^(.*)/") or ".")
if os.getenv("ENET_CPATH") then package.cpath = os.getenv("ENET_CPATH") .. ";" .. package.cpath end
local enet = require "enet"

local SIZE, CAP = 1000, 16384
local message = string.rep("x", SIZE)

-- Sends on channel 0 while fewer than CAP sent messages are unconfirmed; returns the new count.
local function fill(peer, sent, confirmed, limit)
  local n = 0
  while sent - confirmed < CAP and n < limit do
    peer:send(message, 0, "reliable")
    sent, n = sent + 1, n + 1
  end
  return sent
end

if arg[1] == "remote" then
  local mode, address, seconds = arg[2], arg[3], tonumber(arg[4])
  local host = assert(enet.host_create(nil, 1, 2))
  local peer = host:connect(address, 2)
  local connected, sent, confirmed, received = false, 0, 0, 0
  local start, last_report = nil, 0
  local t0 = os.time()
  while os.time() - t0 < seconds + 10 do
    local e = host:service(1)
    while e do
      if e.type == "connect" then connected = true start = host:service_time()
      elseif e.type == "disconnect" then connected = false
      elseif e.type == "receive" then
        if e.channel == 1 then confirmed = tonumber(e.data) else received = received + 1 end
      end
      e = host:check_events()
    end
    if start and host:service_time() - start > (seconds + 1) * 1000 then break end
    if connected then
      if mode == "download" then
        sent = fill(peer, sent, confirmed, 256)
      elseif host:service_time() - last_report >= 2 then
        peer:send(tostring(received), 1, "reliable")
        last_report = host:service_time()
      end
    end
  end
  peer:disconnect_now()
  os.exit(0)
end

local seconds = tonumber(arg[1] or "5")
local interp = arg[-1] or "lua5.4"
local sleeper = assert(enet.host_create("127.0.0.1:*", 1))

local function case(mode, name, hz, background)
  local game = assert(enet.host_create("127.0.0.1:*", 1, 2))
  if background then assert(game:background(true)) end
  local command = string.format("%s %s/frames.lua remote %s %s %d", interp, dir, mode,
    game:get_socket_address(), seconds)
  if os.getenv("ENET_CPATH") then command = "ENET_CPATH='" .. os.getenv("ENET_CPATH") .. "' " .. command end
  local remote = assert(io.popen(command, "r"))
  local peer, received, sent, confirmed = nil, 0, 0, 0
  local counted, t_start, t_end = 0, nil, nil
  local frame = hz and math.floor(1000 / hz) or 0
  sleeper:service(0)
  local begun = sleeper:service_time()
  while sleeper:service_time() - begun < (seconds + 10) * 1000 do
    -- (a host's service_time moves only when it is serviced: the sleeper is the clock)
    if not hz then sleeper:service(0) end
    local t0 = sleeper:service_time()
    local e = game:service(hz and 0 or 1)
    while e do
      if e.type == "connect" then peer = e.peer
        t_start = t0 + 1000
      elseif e.type == "receive" then
        if e.channel == 1 then confirmed = tonumber(e.data) else received = received + 1 end
      end
      e = game:check_events()
    end
    if t_start and not t_end and t0 >= t_start then
      t_end, counted = t0 + seconds * 1000, mode == "download" and received or confirmed
    elseif t_end and t0 >= t_end then
      counted = (mode == "download" and received or confirmed) - counted
      break
    end
    if peer then
      if mode == "download" then
        peer:send(tostring(received), 1, "reliable")
      else
        sent = fill(peer, sent, confirmed, hz and CAP or 256)
      end
      game:flush()
    end
    if hz then
      local left = frame - (sleeper:service_time() - t0)
      if left > 0 then sleeper:service(left) end
    end
  end
  remote:read("*a")
  remote:close()
  local rate = t_end and counted / seconds or 0
  print(string.format("%-9s %-20s %9.0f msgs/s %7.2f MB/s", mode, name, rate, rate * SIZE / 1e6))
  io.stdout:flush()
  game:destroy()
end

for _, mode in ipairs({ "download", "upload" }) do
  case(mode, "unthrottled", nil, false)
  for _, hz in ipairs({ 10, 60 }) do
    case(mode, hz .. " Hz, background", hz, true)
    case(mode, hz .. " Hz, normal", hz, false)
  end
end
