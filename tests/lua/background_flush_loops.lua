-- valgrind: from the attack review of the thread standing aside after Lua's flush
-- (src/background.rs run, Background::flushed): loops that send and flush without service
-- still have what comes in read and what they send delivered, a round trip completes while the
-- loop only flushes, a connect flushed on an idle thread goes out, and stopping right after a
-- flush is bounded.
local T = require "t"
local enet = require "enet"
local timing = require "timing"

T.test("send+flush loop without service: acknowledged, every message delivered", function()
  local server, client, cpeer = T.pair()
  server:background(true)
  client:background(true)
  local t0 = timing.now()
  local n = 0
  while timing.now() - t0 < 300 do
    n = n + 1
    cpeer:send("m" .. n)
    client:flush()
  end
  -- no call into the client: its thread reads the last acknowledgements
  timing.within(3, function() return cpeer:stats().reliable_data_in_transit == 0 end)
  local got = 0
  T.pump({ server }, function() return got == n end, function(_, e)
    if e.type == "receive" then got = got + 1 end
  end, 10000)
  client:destroy()
  server:destroy()
end)

T.test("a round trip completes while the client's loop only flushes", function()
  local server, client, cpeer = T.pair()
  client:background(true)
  local sent, replies = 0, 0
  local function step()
    local e = server:service(0)
    while e do
      if e.type == "receive" then e.peer:send(e.data) end
      e = server:check_events()
    end
    server:flush()
    client:flush()
    e = client:check_events()
    while e do
      if e.type == "receive" then replies = replies + 1 end
      e = client:check_events()
    end
  end
  local t0 = timing.now()
  while timing.now() - t0 < 200 do
    sent = sent + 1
    cpeer:send(tostring(sent))
    step()
  end
  t0 = timing.now()
  while replies < sent and timing.now() - t0 < 3000 do step() end
  T.eq(replies, sent, "every reply, the client never serviced")
  client:destroy()
  server:destroy()
end)

T.test("a connect flushed in a loop on an idle thread goes out", function()
  local server = assert(enet.host_create("127.0.0.1:*", 4))
  server:background(true)
  local client = assert(enet.host_create(nil, 4))
  client:background(true)
  timing.stall(0.05)
  local p = client:connect(server:get_socket_address())
  local t0 = timing.now()
  while p:state() == "connecting" and timing.now() - t0 < 2000 do client:flush() end
  T.ok(p:state() == "connection_succeeded" or p:state() == "connected", "connected: " .. p:state())
  client:destroy()
  server:destroy()
end)

T.test("background(false) right after a flush, many times, is bounded", function()
  local server, client, cpeer = T.pair()
  local t0 = timing.now()
  for i = 1, 300 do
    client:background(true)
    cpeer:send("x")
    client:flush()
    if i % 2 == 0 then cpeer:send("y") end
    client:background(false)
  end
  T.ok(timing.now() - t0 < 10000, "took " .. (timing.now() - t0) .. " ms")
  client:destroy()
  server:destroy()
end)

T.done()
