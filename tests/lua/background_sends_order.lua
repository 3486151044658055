-- From the attack review of the lock-free send (src/sendq.rs), kept as a regression test.
-- Attack: ordering of lock-free queued sends against every other call, with the thread running
-- and being toggled, finalizers that send or destroy, coroutines, many hosts. Reliable messages
-- carry "<channel>:<seq>"; on each channel every accepted (answer 0) message must arrive, in
-- send order, on the server (the connection stays up). Unsequenced noise rides on channel 3.
local T = require "t"
require "enet"

local function run(seed, nops)
  math.randomseed(seed)
  local server, client, cpeer, speer = T.pair({ client_channels = 4, connect_channels = 4,
    server_channels = 4 })
  client:background(true)
  if math.random(2) == 1 then server:background(true) end
  local seq = { [0] = 0, 0, 0 }
  local sent = { [0] = {}, {}, {} }
  local got = { [0] = {}, {}, {} }
  local function on_server(e)
    if e.type == "receive" and e.channel < 3 then
      local c, n = e.data:match("^(%d+):(%d+)")
      T.eq(tonumber(c), e.channel, "channel in data")
      local g = got[e.channel]
      g[#g + 1] = tonumber(n)
    end
  end
  local function send_one(size_class)
    local c = math.random(0, 2)
    seq[c] = seq[c] + 1
    local head = c .. ":" .. seq[c] .. ":"
    local size = ({ 0, 10, 1000, 1024 - #head, 1025 - #head, 3000 })[size_class or math.random(6)]
    local data = head .. string.rep("p", math.max(0, size))
    local rc = cpeer:send(data, c, "reliable")
    if rc == 0 then
      local s = sent[c]
      s[#s + 1] = seq[c]
    end
    return rc
  end
  local co = coroutine.wrap(function()
    while true do send_one(); coroutine.yield() end
  end)
  for i = 1, nops do
    local op = math.random(1, 30)
    if op <= 15 then
      send_one()
    elseif op == 16 then
      client:flush()
    elseif op == 17 then
      -- a broadcast on a checked channel takes a number like a send
      local c = math.random(0, 2)
      seq[c] = seq[c] + 1
      client:broadcast(c .. ":" .. seq[c] .. ":b", c, "reliable")
      local s = sent[c]
      s[#s + 1] = seq[c]
    elseif op == 18 then
      local e = client:service(0)
      while e do e = client:check_events() end
    elseif op == 19 then
      local e = client:check_events()
      while e do e = client:check_events() end
    elseif op == 20 then
      client:background(math.random(2) == 1)
    elseif op == 21 then
      local max = ({ 10, 500, 1023, 1024, 1025, 32 * 1024 * 1024 })[math.random(6)]
      client:maximum_packet_size(max)
    elseif op == 22 then
      co()
    elseif op == 23 then
      -- a finalizer that sends, run by a collection in the middle of other calls
      setmetatable({}, { __gc = function() pcall(send_one) end })
      collectgarbage()
    elseif op == 24 then
      local e = server:service(0)
      while e do on_server(e); e = server:check_events() end
    elseif op == 25 then
      cpeer:ping()
      cpeer:send(string.rep("u", math.random(0, 1100)), 3, "unsequenced")
    elseif op == 26 then
      -- a burst that fills the ring
      for _ = 1, math.random(50, 200) do send_one(math.random(1, 4)) end
    elseif op == 27 then
      cpeer:throttle_configure(5000, 2, 2)
      cpeer:timeout(32, 5000, 30000)
    elseif op == 28 then
      local a = cpeer:state(), cpeer:round_trip_time(), client:peer_count()
    elseif op == 29 then
      -- another host, in background mode, collected while ours is used
      local h = enet.host_create(nil, 1, 1)
      h:background(true)
      -- the finalizer's own reference (an error in __gc raises in the caller on 5.2 and 5.3)
      local doomed = h
      setmetatable({}, { __gc = function() pcall(doomed.destroy, doomed) end })
      h = nil
      collectgarbage("step")
    else
      client:flush()
      local e = server:service(1)
      while e do on_server(e); e = server:check_events() end
    end
  end
  client:maximum_packet_size(32 * 1024 * 1024)
  local function done()
    for c = 0, 2 do if #got[c] < #sent[c] then return false end end
    return true
  end
  T.pump({ server, client }, done, function(h, e) if h == server then on_server(e) end end, 20000)
  for c = 0, 2 do
    T.eq(#got[c], #sent[c], "seed " .. seed .. " channel " .. c .. " count")
    for k = 1, #sent[c] do
      if got[c][k] ~= sent[c][k] then
        error(string.format("seed %d channel %d: message %d is seq %s, sent %s", seed, c, k,
          tostring(got[c][k]), tostring(sent[c][k])))
      end
    end
  end
  if os.getenv("ENET_SENDQ_VERBOSE") then print(seed, #sent[0], #sent[1], #sent[2]) end
  T.eq(speer:state(), "connected", "still connected")
  client:destroy()
  server:destroy()
end

T.test("queued sends keep send order on reliable channels (random interleavings)", function()
  local rounds = tonumber(os.getenv("ENET_SENDQ_ROUNDS") or "10")
  local first = tonumber(os.getenv("ENET_SENDQ_SEED") or "1")
  for seed = first, first + rounds - 1 do run(seed, tonumber(os.getenv("ENET_SENDQ_NOPS") or "400")) end
end)

T.done()
