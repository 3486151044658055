-- A round-trip time of 0 set from Lua on a peer whose other end never answers: ENet computed a
-- retransmission timeout of 0, resent the CONNECT on every service (about 491,000 datagrams in
-- 2 s) and shifted `1 << (sendAttempts - 1)` past 31 bits (undefined behaviour). Patch 0011 of
-- vendor/enet floors the timeout at 1 ms, so the backoff doubles as usual and the attempt
-- times out after a handful of datagrams.
local T = require "t"
require "enet"

T.test("round_trip_time(0) on a peer that never answers backs off and times out", function()
  -- a bound socket that is never serviced: nothing ever answers
  local silent = assert(enet.host_create("127.0.0.1:*", 1))
  local client = assert(enet.host_create(nil, 1))
  local peer = client:connect(silent:get_socket_address())
  peer:round_trip_time(0)
  peer:timeout(32, 300, 2000)
  local sent_before = client:total_sent_packets()
  T.eq(client:service(0), nil, "no event yet") -- sends the CONNECT, brings service_time up to date
  local start = client:service_time()
  local gone
  while not gone and client:service_time() - start < 3000 do
    local e = client:service(5)
    while e do
      if e.type == "disconnect" then gone = client:service_time() - start end
      e = client:check_events()
    end
  end
  local sent = client:total_sent_packets() - sent_before
  T.ok(gone, "the connection attempt timed out within 3 s")
  -- 1, 2, 4, ... ms between resends: about 10 datagrams before the 300 ms minimum has passed
  -- with 6 attempts or more
  T.ok(sent <= 32, "datagrams sent before the timeout: " .. sent .. " (at most 32)")
  print(string.format("timed out after %d ms and %d datagrams", gone, sent))
  client:destroy()
  silent:destroy()
end)

T.done()
