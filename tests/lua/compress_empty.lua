-- valgrind: an empty message on a host that compresses with the range coder (vendor/enet patch
-- 0040). ENet's compressor read a byte from the empty payload's buffer, whose data is NULL
-- here: tests/lua/fuzz_api.lua crashed with ENET_FUZZ_SEED=588992.
local T = require "t"
require "enet"

T.test("empty messages, alone and between others, with the range coder", function()
  local server, client, cpeer = T.pair()
  server:compress_with_range_coder()
  client:compress_with_range_coder()
  local sent = { "", "a", "", "", string.rep("b", 100), "" }
  for i, data in ipairs(sent) do
    T.eq(cpeer:send(data, 0, i % 2 == 0 and "reliable" or "unsequenced"), 0, "send " .. i)
    client:flush() -- one datagram each: an empty one ends its datagram's buffers
  end
  local got = {}
  T.pump({ server, client }, function() return #got >= #sent end, function(h, e)
    if h == server and e.type == "receive" then got[#got + 1] = e.data end
  end)
  local n = 0
  for _, d in ipairs(got) do if d == "" then n = n + 1 end end
  T.eq(#got, #sent, "all arrived")
  T.eq(n, 4, "the empty ones among them")
  client:destroy()
  server:destroy()
end)

T.done()
