-- From the attack review of the flush handshake (src/background.rs run, Background::flushed), kept as a regression test.
-- Stop (background(false), destroy, __gc, lua_close) while the thread gathers behind Lua's
-- flushes; flush from finalizers; service(timeout) between flushes; two hosts.
local T = require "t"
local enet = require "enet"
local timing = require "timing"

T.test("stopping while the thread gathers neither hangs nor crashes", function()
  local server, client, cpeer = T.pair()
  local t0 = timing.now()
  for i = 1, 200 do
    client:background(true)
    for _ = 1, (i % 5) * 20 do cpeer:send("x", 0, "unsequenced") client:flush() end
    if i % 3 == 0 then timing.stall(0.0001 * (i % 4)) end
    client:background(false)
    server:service(0)
  end
  T.ok(timing.now() - t0 < 10000, "took " .. (timing.now() - t0) .. " ms")
  client:destroy()
  server:destroy()
end)

T.test("destroy, __gc and flush in finalizers while gathering", function()
  local t0 = timing.now()
  for i = 1, 40 do
    local server, client, cpeer = T.pair()
    local a, b = enet.host_create(nil, 2), enet.host_create(nil, 2)
    a:background(true) b:background(true) client:background(true)
    -- the finalizer's own references, and pcall: client may be destroyed by then, and an
    -- error in __gc raises in the caller on 5.2 and 5.3
    local fa = a
    setmetatable({}, { __gc = function() pcall(client.flush, client) pcall(fa.flush, fa) end })
    for _ = 1, 50 do cpeer:send("x", 0, "unsequenced") client:flush() a:flush() b:flush() end
    client:service(i % 3) -- service(timeout) right after flushes
    if i % 2 == 0 then client:destroy() end
    a = nil b = nil
    collectgarbage() collectgarbage()
    server:destroy()
  end
  T.ok(timing.now() - t0 < 15000, "took " .. (timing.now() - t0) .. " ms")
end)

-- and exit with hosts still in the gather loop (lua_close stops them)
local _, keep, kpeer = T.pair()
keep:background(true)
for _ = 1, 100 do kpeer:send("x", 0, "unsequenced") keep:flush() end
T.done()
