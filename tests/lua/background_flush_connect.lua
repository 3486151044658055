-- From the attack review of the flush handshake (src/background.rs run, Background::flushed), kept as a regression test.
-- A connect + flush on an idle background host, within a tick of the thread's last pass: the
-- thread skips its pass (Lua's flush cleared `queued`), so `active` stays false and it sleeps
-- IDLE_MS (1 s) though a slot is now in use: no retransmission/timeouts for up to 1 s.
local T = require "t"
local enet = require "enet"
local timing = require "timing"
-- Without the fix 0 passes; under valgrind or TSan (ENET_TEST_SLOW) the threads run slowly.
local floor = os.getenv("ENET_TEST_SLOW") == "1" and 3 or 10

T.test("a connect flushed by Lua right after an idle pass still makes the thread tick", function()
  local server = assert(enet.host_create("127.0.0.1:*", 4))
  local address = server:get_socket_address()
  local worst = 1e9
  for attempt = 1, 3 do
    local client = assert(enet.host_create(nil, 4))
    client:background(true)
    -- the thread's first pass comes on its 10 ms tick and finds no slot in use (idle after it)
    local p0 = client:background_stats().passes
    timing.within(1, function() return client:background_stats().passes > p0 end)
    local peer = client:connect(address)
    client:flush()
    local before = client:background_stats().passes
    timing.stall(0.3) -- no call into the module (the server is not serviced: no answer)
    local passes = client:background_stats().passes - before
    if passes < worst then worst = passes end
    peer:reset()
    client:destroy()
  end
  -- a slot in use: the thread ticks every 10 ms (~30 passes in 300 ms)
  T.ok(worst >= floor, "only " .. worst .. " passes of the thread in 300 ms with a peer connecting")
  server:destroy()
end)

T.test("a reconnect (reset or disconnect_now, then connect and flush) makes the thread tick", function()
  for _, how in ipairs({ "reset", "disconnect_now" }) do
    local server, client, cpeer = T.pair()
    client:background(true)
    timing.stall(0.02)
    cpeer[how](cpeer) -- wakes the thread: its pass finds no slot in use
    timing.stall(0.002)
    local peer = client:connect(server:get_socket_address())
    client:flush()
    local before = client:background_stats().passes
    timing.stall(0.3) -- the server is not serviced: no answer wakes the thread
    local passes = client:background_stats().passes - before
    T.ok(passes >= floor, how .. ": only " .. passes .. " passes of the thread in 300 ms")
    peer:reset()
    client:destroy()
    server:destroy()
  end
end)

T.done()
