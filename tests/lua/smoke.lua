local T = require "t"
require "enet"
T.test("echo over loopback", function()
  local server, client, cpeer, speer = T.pair()
  T.eq(cpeer:send("hello"), 0, "send result")
  local got = T.receive(server, 1, { client })
  T.eq(got[1].data, "hello", "data")
  T.ok(got[1].peer == speer, "same peer object")
end)
T.done()
