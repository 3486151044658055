-- valgrind: service and check_events of background hosts take the host's lock for their own
-- stretch (held::lock, not the body's thread-local). Two background hosts connected to each
-- other, serviced alternately with waits, while finalizers (run by garbage made in the reply
-- phase) and a count hook do what they may: service and check_events of either host, sends,
-- background(false) and (true), and at the end destroy the host being serviced. No deadlock,
-- no crash, every reliable message once on each side (the order in which Lua code records
-- them is not ENet's when a finalizer takes the next event inside the reply of the previous).
local T = require "t"
local enet = require "enet"
local timing = require "timing"

local SLOW = os.getenv("ENET_TEST_SLOW") ~= nil

T.test("two background hosts, finalizers and a hook in the middle of their service", function()
  local a = assert(enet.host_create("127.0.0.1:*", 4))
  local b = assert(enet.host_create("127.0.0.1:*", 4))
  a:background(true)
  b:background(true)
  local pb = b:connect(a:get_socket_address(), 1, 3)
  local pa
  local got = { [a] = {}, [b] = {} }
  local connects = { [a] = 0, [b] = 0 }
  local function take(h, e)
    while e do
      if e.type == "connect" then
        connects[h] = connects[h] + 1
        if h == a then pa = e.peer end
      elseif e.type == "receive" then
        table.insert(got[h], e.data)
      end
      e = h:check_events()
    end
  end
  timing.within(5, function()
    take(a, a:service(1))
    take(b, b:service(1))
    return pa and pb:state() == "connected"
  end)
  local sent = { [a] = 0, [b] = 0 }
  local sending = false
  local function send(h)
    if sending then return end -- a hook or finalizer inside this one: its count would race
    sending = true
    local p = h == a and pa or pb
    if p:state() == "connected" then
      sent[h] = sent[h] + 1
      p:send(tostring(sent[h]))
    end
    sending = false
  end
  local actions = {
    function() take(a, a:check_events()) end,
    function() take(b, b:service(0)) end,
    function() take(a, a:service(0)) end,
    function() send(a) end,
    function() send(b) end,
    function() a:background(false); a:background(true) end,
    function() b:background(false) end,
    function() b:background(true) end,
    function() take(b, b:check_events()) end,
  }
  local fired = 0
  local function arm(i)
    local f = actions[i % #actions + 1]
    local obj = {}
    setmetatable(obj, { __gc = function() fired = fired + 1; f() end })
    if _VERSION == "Lua 5.1" then
      local proxy = newproxy(true)
      getmetatable(proxy).__gc = function() fired = fired + 1; f() end
    end
  end
  local hooked = 0
  debug.sethook(function()
    hooked = hooked + 1
    actions[hooked % #actions + 1]()
  end, "", 997)
  local rounds = SLOW and 300 or 3000
  for i = 1, rounds do
    arm(i)
    if i % 7 == 0 then collectgarbage("step", 1) end
    local h = i % 2 == 0 and a or b
    -- a fresh event table each time: the reply phase allocates, so finalizers run there
    take(h, h:service(i % 5 == 0 and 2 or 0))
    send(h)
  end
  debug.sethook()
  collectgarbage()
  collectgarbage()
  a:background(true)
  b:background(true)
  -- everything sent arrives, once and in order
  timing.within(10, function()
    take(a, a:service(1))
    take(b, b:service(1))
    return #got[a] >= sent[b] and #got[b] >= sent[a]
  end)
  for _, h in ipairs({ a, b }) do
    local other = h == a and b or a
    local ok = #got[h] == sent[other]
    local seen = {}
    for _, v in ipairs(got[h]) do
      local k = tonumber(v)
      if not k or seen[k] or k < 1 or k > sent[other] then ok = false end
      if k then seen[k] = true end
    end
    T.ok(ok, "every message once (" .. #got[h] .. " of " .. sent[other] .. ")")
    T.eq(connects[h], 1, "one connect")
  end
  T.ok(fired > 0 and hooked > 0, "finalizers (" .. fired .. ") and the hook (" .. hooked .. ") ran")
  -- a finalizer that destroys the host whose service made the garbage
  local c = assert(enet.host_create("127.0.0.1:*", 2))
  c:background(true)
  local killed = false
  for i = 1, 2000 do
    local function fin() if i == 1500 then pcall(c.destroy, c); killed = true end end
    -- Lua 5.1 and LuaJIT run __gc only on userdata (newproxy), 5.2+ on tables too
    if newproxy then getmetatable(newproxy(true)).__gc = fin else setmetatable({}, { __gc = fin }) end
    local ok, err = pcall(c.service, c, 0)
    if not ok then
      T.ok(killed and tostring(err):find("nil host", 1, true), "only the destroyed error: " .. tostring(err))
      break
    end
    if i % 50 == 0 then collectgarbage() end
  end
  T.ok(killed, "the finalizer destroyed the host")
  a:destroy()
  b:destroy()
end)

T.done()
