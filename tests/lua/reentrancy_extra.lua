-- valgrind
-- Attacks from an outside review (attack-10) that held, kept so that they stay held. Each is
-- cheap; valgrind (PUC Lua) checks that nothing reads freed memory or leaks.
--   * A finalizer, armed to run at the first allocation inside a call, that destroys the host
--     and then creates and services new hosts of the same size (so ENet's freed memory is
--     reused at once) while the interrupted call still has to build its reply: a large and a
--     small received packet, an event filled into a caller's table, a new peer object, stats.
--   * Event tables and stats targets that are weak, have a __gc that uses the peer after the
--     host is gone, or a __newindex / __index that raises.
--   * Host methods run as coroutine bodies (coroutine.wrap), hosts created, used and
--     destroyed inside coroutines that are then collected half-way; Lua 5.4: <close> hosts in
--     coroutines closed with coroutine.close, and __close called directly with odd arguments.
local T = require "t"
local reentry = require "reentry" -- tests/lua/lib: arm(), inside(), must_fire()
require "enet"

-- ---- a finalizer at the first allocation inside a call (armed as the matrix arms it:
-- tests/lua/lib/reentry.lua) ----
local function pack(...) return { n = select("#", ...), ... } end

-- A connected pair whose client has a large and small messages waiting.
local function loaded_pair()
  local server, client, cpeer, speer = T.pair()
  speer:send(string.rep("L", 5000), 1)
  for i = 1, 4 do speer:send(string.rep("s", 100) .. i, 0) end
  server:flush()
  local first
  for _ = 1, 200 do
    server:service(1)
    first = client:service(1)
    if first then break end
  end
  assert(first and first.type == "receive", "the client received its first message")
  return server, client, cpeer, speer
end

-- Each call: its name, the function, its arguments, the functions it may show as on the stack
-- (the global `tostring` tail-calls `__tostring` on LuaJIT), and whether it allocates once or
-- many times whatever happens (as the matrix's ALLOCATES: host:service:1 and :2,
-- host:check_events:1, peer:receive:1, host:get_peer:1, peer:stats:1, peer:__tostring:1).
local CALLS = {
  { "service", function(c) return c.service end, function(c) return c, 0 end, "many" },
  { "service into a table", function(c) return c.service end, function(c) return c, 0, {} end, "once" },
  { "check_events", function(c) return c.check_events end, function(c) return c end, "many" },
  { "receive", function(_, p) return p.receive end, function(_, p) return p end, "once" },
  { "get_peer", function(c) return c.get_peer end, function(c) return c, 2 end, "once" },
  { "stats", function(_, p) return p.stats end, function(_, p) return p end, "many" },
  { "tostring", function() return tostring end, function(_, p) return p end, "once",
    function(_, p) return getmetatable(p).__tostring end },
}

for _, case in ipairs(CALLS) do
  local name, get_fn, get_args, allocations, get_also = case[1], case[2], case[3], case[4], case[5]
  T.test(name .. ": a finalizer destroys the host and reuses its memory for new hosts", function()
    local server, client, cpeer = loaded_pair()
    local fn = get_fn(client, cpeer)
    local also = get_also and get_also(client, cpeer) or fn
    local a1, a2, a3 = get_args(client, cpeer)
    local made = {}
    local fired = 0
    local results
    local inside = false
    reentry.arm(function()
      fired = fired + 1
      inside = reentry.inside(fn, also)
      client:destroy()
      for i = 1, 3 do
        local h = enet.host_create(nil, 2, 4)
        made[i] = h
        h:service(0)
        h:get_peer(1):set_data(i)
      end
    end)
    results = pack(pcall(fn, a1, a2, a3))
    reentry.disarm()
    collectgarbage()
    collectgarbage()
    T.eq(fired, 1, "the finalizer ran")
    -- proof that the arming works, on every Lua (reentry.must_fire says where a call that
    -- allocates once cannot run it inside itself: 5.2)
    if inside == nil then
      T.skip(name .. ": inside the call", "this Lua shows no frame below a finalizer's own")
    elseif reentry.must_fire(allocations) then
      T.ok(inside, "the finalizer ran inside " .. name)
    end
    if not results[1] then T.eq(type(results[2]), "string", "a string error") end
    for i = 2, results.n do
      local v = results[i]
      if type(v) == "table" then
        for k, x in pairs(v) do local _ = tostring(k) .. tostring(x) end
        if v.peer then T.raises("peer of a destroyed host", v.peer.send, v.peer, "x") end
      elseif type(v) == "userdata" then
        local _ = tostring(v)
      end
    end
    T.raises("Tried to index a nil host!", client.service, client, 0)
    T.raises("peer of a destroyed host", cpeer.receive, cpeer)
    for _, h in ipairs(made) do
      T.eq(h:get_peer(1):get_data(), _, "the new host's per-peer data")
      h:destroy()
    end
    server:destroy()
  end)
end

-- ---- odd target tables ----
T.test("event and stats targets: weak, with __gc, with raising metamethods", function()
  local server, client, cpeer, speer = T.pair()
  local raising = { __newindex = function() error("never") end, __index = function() error("never") end }
  local weak = setmetatable({}, { __mode = "kv" })
  local with_gc = setmetatable({}, { __gc = function(t)
    -- runs after the hosts are gone: the peer must fail cleanly
    if t.peer then pcall(t.peer.send, t.peer, "late") end
  end })
  for i = 1, 3 do cpeer:send("m" .. i) end
  client:flush()
  local got = 0
  for _, target in ipairs({ setmetatable({}, raising), weak, with_gc }) do
    local e
    for _ = 1, 200 do
      client:service(1)
      e = server:service(1, target)
      if e then break end
    end
    T.ok(e == target and e.type == "receive", "filled the caller's table")
    got = got + 1
    T.ok(speer:stats(setmetatable({}, raising)), "stats into a table with a raising __newindex")
  end
  T.eq(got, 3, "three events")
  server:destroy()
  client:destroy()
  with_gc = nil
  collectgarbage()
  collectgarbage()
end)

-- ---- coroutines ----
T.test("methods as coroutine bodies, hosts living and dying in coroutines", function()
  local h = enet.host_create(nil, 2)
  -- Lua 5.1's coroutine.wrap takes Lua functions only
  local function body(f)
    if _VERSION == "Lua 5.1" and not jit then return function(...) return f(...) end end
    return f
  end
  local service = coroutine.wrap(body(h.service))
  T.eq(select("#", service(h, 0)), 0, "service as a coroutine body")
  local peer_of = coroutine.wrap(body(h.get_peer))
  local p = peer_of(h, 1)
  T.ok(p == h:get_peer(1), "get_peer from a coroutine is the same object")
  -- hosts created in coroutines that are abandoned half-way and collected
  for i = 1, 20 do
    local co = coroutine.create(function()
      local mine = enet.host_create(i % 2 == 0 and "127.0.0.1:*" or nil, 4)
      local q = mine:get_peer(2)
      coroutine.yield(q)
      mine:destroy()
    end)
    local ok, q = coroutine.resume(co)
    T.ok(ok and q, "the coroutine yielded a peer")
    if i % 3 == 0 then T.ok(coroutine.resume(co), "finished") end
  end
  collectgarbage()
  collectgarbage()
  -- a coroutine that destroys a host another coroutine is servicing between resumes
  local shared = enet.host_create("127.0.0.1:*", 2)
  local a = coroutine.wrap(function()
    while true do
      local ok, err = pcall(shared.service, shared, 0)
      coroutine.yield(ok or err)
    end
  end)
  local b = coroutine.wrap(function() shared:destroy() end)
  T.eq(a(), true, "serviced")
  b()
  T.ok(tostring(a()):find("Tried to index a nil host!", 1, true), "then a clean error")
  h:destroy()
end)

if _VERSION == "Lua 5.4" then
  T.test("<close> hosts in coroutines closed by coroutine.close; __close called directly", function()
    local load_ = load
    local chunk = assert(load_([[
      local enet, T = ...
      local co = coroutine.create(function()
        local h <close> = enet.host_create(nil, 2)
        coroutine.yield(h)
      end)
      local ok, h = coroutine.resume(co)
      T.ok(ok and h, "yielded its host")
      T.ok(coroutine.close(co), "closed")
      T.raises("Tried to index a nil host!", h.service, h, 0)
      local mt = getmetatable(h)
      mt.__close(h, "an error value") -- again, with an error value: harmless
      T.raises("enet_host expected", mt.__close)
      T.raises("enet_host expected", mt.__close, io.stdout)
      -- an error while a <close> host is open inside a coroutine
      local co2 = coroutine.create(function()
        local h2 <close> = enet.host_create("127.0.0.1:*", 2)
        error("boom")
      end)
      local ok2, err = coroutine.resume(co2)
      T.ok(not ok2 and tostring(err):find("boom", 1, true), "the error comes out")
      T.ok(coroutine.close(co2) == false, "close reports the error")
    ]]))
    chunk(enet, T)
  end)
end

T.done()
