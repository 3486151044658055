-- valgrind: peer:send of a background host without the host's lock (src/sendq.rs): small
-- messages are queued and handed to ENet by the next holder of the lock. Their order with the
-- locked calls, ENet's answers (the same as in normal mode), what background(false), destroy and
-- __gc do with messages still queued, and the peer's counters.
local T = require "t"
require "enet"

-- Receives on `server` until `n` receive events came (or `ms` passed), servicing `others`;
-- returns the data in order of arrival, and the other events' types.
local function collect(server, n, others, ms)
  local got, other = {}, {}
  local hosts = { server }
  for _, h in ipairs(others or {}) do hosts[#hosts + 1] = h end
  T.pump(hosts, function() return #got >= n end, function(h, e)
    if h ~= server then return end
    if e.type == "receive" then got[#got + 1] = e.data else other[#other + 1] = e.type end
  end, ms)
  return got, other
end

-- Checks that `got` is "1", "2", ... "n" (large messages carry their number then padding).
local function in_order(got, n, what)
  T.eq(#got, n, what .. ": all arrived")
  for i = 1, #got do
    local k = tonumber(got[i]:match("^(%d+)"))
    if k ~= i then
      T.ok(false, string.format("%s: message %d arrived as number %s", what, i, tostring(k)))
    end
  end
end

T.test("queued sends keep their order with locked calls, a full queue and large messages", function()
  local server, client, cpeer = T.pair()
  client:background(true)
  local n = 6000
  for i = 1, n do
    local data = tostring(i)
    if i % 500 == 0 then
      -- larger than what is queued: sent under the lock, after what is queued
      data = data .. "-" .. string.rep("x", 3000)
    end
    T.eq(cpeer:send(data, i % 2, "reliable"), 0, "send " .. i)
    if i % 700 == 0 then client:flush() end
    if i % 900 == 0 then cpeer:ping() end
  end
  -- 6000 messages of 24+ bytes in the queue's entries fill its 64 KiB more than once
  local got = collect(server, n, { client }, 20000)
  -- ENet orders each channel on its own: a datagram lost and sent again (a receive buffer
  -- overrun while TSan slows the server: CI's run of 7762f22) lets the other channel's next
  -- message arrive first. So the order is checked per channel (odd numbers on channel 1, even
  -- ones, the large messages included, on channel 0).
  T.eq(#got, n, "reliable on two channels: all arrived")
  local next_of = { [0] = 2, [1] = 1 }
  for i = 1, #got do
    local k = tonumber(got[i]:match("^(%d+)"))
    local channel = k and k % 2
    if not k or k ~= next_of[channel] then
      T.ok(false, string.format("channel %s: message %s arrived where %s was next", tostring(channel),
        tostring(k), tostring(k and next_of[channel])))
      break
    end
    next_of[channel] = k + 2
  end
  client:destroy()
  server:destroy()
end)

T.test("unsequenced and unreliable sends leave without a service call", function()
  local server, client, cpeer = T.pair()
  client:background(true)
  for i = 1, 20 do
    T.eq(cpeer:send(tostring(i), 0, i % 2 == 0 and "unsequenced" or "unreliable"), 0, "send")
  end
  -- only the server is serviced: the client's thread sends
  local got = collect(server, 20, nil, 5000)
  T.eq(#got, 20, "all 20 arrived on loopback")
  client:destroy()
  server:destroy()
end)

-- The answers of `send` in a sequence that ENet refuses at each step, in one mode.
local function answers(background)
  local server, client, cpeer, speer = T.pair()
  client:background(background)
  local r = {}
  r[#r + 1] = cpeer:send("ok", 1)
  r[#r + 1] = cpeer:send("channel 2 of 2", 2)
  r[#r + 1] = cpeer:send("channel 255", 255)
  client:maximum_packet_size(10)
  r[#r + 1] = cpeer:send("0123456789")
  r[#r + 1] = cpeer:send("0123456789a")
  client:maximum_packet_size(1000)
  r[#r + 1] = cpeer:send(string.rep("y", 1000))
  local connecting = client:connect(server:get_socket_address(), 1)
  r[#r + 1] = connecting:send("not yet connected")
  cpeer:disconnect_later()
  r[#r + 1] = cpeer:send("after disconnect_later")
  local got, other = collect(server, 3, { client }, 5000)
  T.eq(#got, 3, "the accepted messages arrived")
  -- both modes: speer disconnects once the queue is empty
  T.pump({ server, client }, function() return speer:state() == "disconnected" end, function(h, e)
    if h == server and e.type ~= "receive" then other[#other + 1] = e.type end
  end)
  client:destroy()
  server:destroy()
  return table.concat(r, " "), got
end

T.test("send answers as in normal mode (channel, size, state)", function()
  local normal, normal_got = answers(false)
  local background, background_got = answers(true)
  T.eq(normal, "0 -1 -1 0 -1 0 -1 -1", "normal mode's answers")
  T.eq(background, normal, "the same in background mode")
  T.eq(table.concat(background_got, ","), table.concat(normal_got, ","), "the same messages arrived")
end)

T.test("disconnect_later after queued sends: every message first", function()
  local server, client, cpeer = T.pair()
  client:background(true)
  for i = 1, 300 do cpeer:send(tostring(i)) end
  cpeer:disconnect_later()
  local got, other = collect(server, 300, { client }, 10000)
  in_order(got, 300, "before the disconnect")
  T.pump({ server, client }, function() return other[1] == "disconnect" end, function(h, e)
    if h == server then other[#other + 1] = e.type end
  end)
  T.eq(other[1], "disconnect", "then the disconnect")
  client:destroy()
  server:destroy()
end)

T.test("background(false) hands queued messages to ENet", function()
  local server, client, cpeer = T.pair()
  for round = 1, 20 do
    client:background(true)
    for i = 1, 50 do cpeer:send(round .. ":" .. i) end
    client:background(false)
    client:flush()
  end
  local got = collect(server, 1000, { client }, 10000)
  T.eq(#got, 1000, "all 1000 arrived")
  local ok = true
  for k = 1, #got do
    local round, i = got[k]:match("^(%d+):(%d+)$")
    if tonumber(round) ~= math.floor((k - 1) / 50) + 1 or tonumber(i) ~= (k - 1) % 50 + 1 then ok = false end
  end
  T.ok(ok, "in order")
  client:destroy()
  server:destroy()
end)

T.test("destroy, __gc and lua_close-like ends with messages queued lose nothing else", function()
  for _ = 1, 20 do
    local server, client, cpeer = T.pair()
    client:background(true)
    for i = 1, 100 do cpeer:send(string.rep("z", i)) end
    client:destroy()
    T.raises("enet: peer of a destroyed host", cpeer.send, cpeer, "late")
    server:destroy()
  end
  for _ = 1, 10 do
    local server, client, cpeer = T.pair()
    client:background(true)
    for i = 1, 100 do cpeer:send(string.rep("z", i)) end
    client, cpeer = nil, nil
    collectgarbage()
    collectgarbage()
    server:destroy()
  end
end)

T.test("queued sends count in the peer's statistics", function()
  local server, client, cpeer = T.pair()
  client:background(true)
  local before = cpeer:stats().messages_sent
  local bytes = cpeer:stats().bytes_sent
  for i = 1, 40 do cpeer:send("12345") end
  T.eq(cpeer:stats().messages_sent - before, 40, "messages_sent")
  T.eq(cpeer:stats().bytes_sent - bytes, 200, "bytes_sent")
  collect(server, 40, { client }, 5000)
  client:destroy()
  server:destroy()
end)

T.test("a loop that only sends and flushes leaves the thread receiving and acknowledging", function()
  local now = require("timing").now
  local server, client, cpeer, speer = T.pair()
  client:background(true)
  local before = client:background_stats().passes
  local deadline, n, ticks = now() + 1000, 0, 0
  -- Lua's flushes come far more often than every 100 us: the thread leaves the sending to them
  -- but must still make a pass at least every 2 ms or so, which receives and acknowledges what
  -- the server sends (without that bound: 46 passes in this second, against 471 with it).
  while now() < deadline do
    cpeer:send("x", 0, "unsequenced")
    client:flush()
    n = n + 1
    if n % 20 == 0 then
      speer:send("tick", 0, "reliable")
      ticks = ticks + 1
      server:service(0)
    end
  end
  local passes = client:background_stats().passes - before
  local received = 0
  while true do
    local e = client:check_events()
    if not e then break end
    if e.type == "receive" then received = received + 1 end
  end
  T.ok(received > 0, string.format("the thread received %d of %d", received, ticks))
  -- Under valgrind or TSan the threads crawl; on Windows (Wine) a 100 us sleep takes a
  -- millisecond or more (the run of b2f74eb: 21 of 264 received): counts said, not bounded.
  if os.getenv("ENET_TEST_SLOW") == "1" or T.windows then
    print(string.format("# not counted here: %d passes in 1 s, %d of %d received", passes,
      received, ticks))
  else
    T.ok(received > ticks / 10, string.format("the thread received %d of %d", received, ticks))
    T.ok(passes >= 60, passes .. " passes of the thread in 1 s of sends and flushes")
  end
  client:destroy()
  server:destroy()
end)

T.done()
