-- valgrind-only: refused and failing sends free their packet (the reference leaked it). Valgrind
-- reports any definite leak; a smaller count keeps the run short (rss_refused_sends.lua does
-- 100,000 and measures the process).
local T = require "t"
require "enet"

local N = 2000

T.test("refused sends on a closed peer and an out-of-range channel return -1", function()
  local server, client, cpeer = T.pair({ server_channels = 1, connect_channels = 1 })
  local closed = client:get_peer(2)
  local payload = string.rep("p", 100)
  local refused = 0
  for _ = 1, N do
    if closed:send(payload) == -1 then refused = refused + 1 end
    if cpeer:send(payload, 1) == -1 then refused = refused + 1 end
    if cpeer:send(payload, 200, "unreliable") == -1 then refused = refused + 1 end
  end
  T.eq(refused, 3 * N, "every send refused")
  T.eq(cpeer:send("ok"), 0, "the connection still works")
  T.eq(T.receive(server, 1, { client })[1].data, "ok", "and delivers")
  server:destroy() client:destroy()
end)

T.test("sends that raise after the packet exists free it", function()
  local h = enet.host_create(nil, 1)
  local p = h:get_peer(1)
  for _ = 1, N do
    T.raises("number has no integer representation", p.send, p, "data", 0 / 0)
    T.raises("number expected", p.send, p, "data", {})
    T.raises("Unknown packet flag", p.send, p, "data", 0, "bogus")
    T.raises("number has no integer representation", h.broadcast, h, "data", 0 / 0)
  end
  h:destroy()
end)

T.test("broadcast with nobody connected frees the packet", function()
  local h = enet.host_create(nil, 4)
  for _ = 1, N do
    T.eq(select("#", h:broadcast(string.rep("b", 64), 0, "reliable")), 0, "returns nothing")
  end
  h:destroy()
end)

T.test("a packet too large is refused and freed", function()
  local server, client, cpeer = T.pair()
  local huge = string.rep("h", 32 * 1024 * 1024 + 1)
  for _ = 1, 3 do T.eq(cpeer:send(huge), -1, "above the maximum packet size") end
  server:destroy() client:destroy()
end)

T.test("queued packets are freed by disconnect_now, reset and destroy", function()
  local server, client, cpeer = T.pair()
  for _ = 1, 50 do cpeer:send("queued") end
  cpeer:disconnect_now()
  for _ = 1, 50 do server:broadcast("queued too") end
  server:get_peer(1):reset()
  local s2, c2, p2 = T.pair()
  for _ = 1, 50 do p2:send("left for destroy") end
  c2:destroy()
  s2:destroy()
  server:destroy() client:destroy()
end)

T.done()
