-- valgrind: everything the debug library can reach from the module (the upvalues of its
-- functions: the two class metatables and the constants table, with the core metatable and the
-- private string-copy helper in it; the module's registry entries; the helper as a call hook sees
-- it during a delivery) can be called by a script with any arguments, without a crash and
-- without reading memory it should not (docs/architecture.md, "What the debug library
-- reaches"). Before the fix, the copy helper took
-- an address and a length from its arguments: `helper(0, 0x1000, 8)` was SIGSEGV on every Lua.
-- The debug library stays outside the safety claim for what it can *change* (README, "Known
-- limits"); what it can *reach and call* must be harmless. Valgrind (PUC Lua) checks that the
-- copies read only live bytes and that nothing leaks.
local T = require "t"
require "enet"

local unpack = table.unpack or unpack
local function pack(...) return { n = select("#", ...), ... } end

-- ---- what a script reaches without the debug library ----
local public = {}
do
  for _, v in pairs(enet) do
    if type(v) == "function" then public[v] = true end
  end
  local h = assert(enet.host_create(nil, 1))
  for _, object in ipairs({ h, h:get_peer(1) }) do
    local mt = getmetatable(object)
    for _, v in pairs(mt) do
      if type(v) == "function" then public[v] = true end
    end
    for _, v in pairs(mt.__index) do public[v] = true end
  end
  h:destroy()
end

-- ---- what it reaches with it: every upvalue of every function found, every table in them
-- (keys, values, metatables), transitively ----
local reached, internal = {}, {}
local n_reached, n_internal = 0, 0
do
  local seen = {}
  local visit
  local function visit_function(f)
    if reached[f] then return end
    reached[f] = true
    n_reached = n_reached + 1
    if not public[f] then
      internal[f] = true
      n_internal = n_internal + 1
    end
    local i = 1
    while true do
      local name, value = debug.getupvalue(f, i)
      if name == nil then break end
      visit(value)
      i = i + 1
    end
  end
  function visit(v)
    if type(v) == "function" then
      visit_function(v)
    elseif type(v) == "table" and not seen[v] then
      seen[v] = true
      for k, x in pairs(v) do
        visit(k)
        visit(x)
      end
      visit(debug.getmetatable(v))
    end
  end
  for f in pairs(public) do visit_function(f) end
  -- the module's entries in the registry (its shared metatables, the core's among them)
  for k, v in pairs(debug.getregistry()) do
    if type(k) == "string" and k:find("^enet") then visit(v) end
  end
end

-- A private function that one of the module's functions is calling, seen by a call hook (the
-- hook calls this directly: level 3 is the function being called, 4 its caller). The copy
-- helper is found so on every Lua, and only so on 5.1, whose debug.getupvalue does not open C
-- functions.
local function private_callee()
  local callee, caller = debug.getinfo(3, "f"), debug.getinfo(4, "f")
  if not (callee and caller) then return nil end
  local f = callee.func
  if internal[f] then return f end
  if public[caller.func] and not public[f] and debug.getinfo(f, "S").what == "C" then
    internal[f] = true
    n_internal = n_internal + 1
    if not reached[f] then
      reached[f] = true
      n_reached = n_reached + 1
    end
    return f
  end
end

-- A pair whose client sent `message` (the server delivers it at its next receive).
local function pair_sending(message)
  local server, client, cpeer = T.pair()
  T.eq(cpeer:send(message, 1), 0, "queued")
  client:flush()
  return server, client
end

-- Services `server` (and `client`) until a receive event; returns its data.
local function receive(server, client)
  local data
  T.pump({ server, client }, function() return data ~= nil end, function(h, e)
    if h == server and e.type == "receive" then data = e.data end
  end)
  return data
end

local function pattern(n, seed)
  local t = {}
  for i = 1, n do t[i] = string.char((i * 7 + seed) % 256) end
  return table.concat(t)
end

-- What the module calls privately during a >2 KiB delivery (nothing is called yet).
do
  local server, client = pair_sending(pattern(3000, 0))
  debug.sethook(function() private_callee() end, "c")
  receive(server, client)
  debug.sethook()
  server:destroy()
  client:destroy()
end

-- The core of a host (the userdata that owns its ENet host), found through the host's user
-- value (debug.getuservalue on 5.2+, debug.getfenv on 5.1/LuaJIT): the peer table holds it as
-- a key.
local function core_of(host)
  local t
  if debug.getuservalue then t = debug.getuservalue(host) else t = debug.getfenv(host) end
  for k in pairs(type(t) == "table" and t or {}) do
    if type(k) == "userdata" and k ~= host then return k end
  end
end

-- ---- hostile arguments ----
local dead = assert(enet.host_create(nil, 2))
local dead_peer = dead:get_peer(1)
local dead_core = core_of(dead)
dead:destroy()
local proxy = newproxy and newproxy(true) or nil
local BIG = 2 ^ 31

local function hostile_sets(extra)
  local sets = {
    pack(),                             -- nothing
    pack(0, 0x1000, 8),                 -- 0x1000 as two 32-bit halves, a small length
    pack(0, 0x1000, BIG),               -- a huge length
    pack(0, 0x1000, 2 ^ 53),
    pack(0x1000, 0, 8),                 -- the halves swapped
    pack(0x7fff, 0xfffff000, 4096),     -- a kernel-side address
    pack(0, 0x1000),                    -- no length
    pack(0x1000),
    pack(-1, -1, -1),
    pack(2 ^ 53, 2 ^ 53, 2 ^ 53),
    pack(math.huge, -math.huge, 0 / 0),
    pack("0", "4096", "8"),             -- the same as numeric strings
    pack("", "", ""),
    pack(io.stdout, 0x1000, 8),         -- wrong userdata
    pack(dead, 0x1000, 8),              -- a destroyed host, its peer and its core
    pack(dead_peer, 0x1000, 8),
    pack(dead_core, 0, 0x1000, 8),
    pack(proxy, 0x1000, 8),
    pack({}, {}, {}),
    pack(print, print),
    pack(true, false, nil, 8),
    pack(nil, 0, 0x1000, 8),
  }
  for _, s in ipairs(extra or {}) do sets[#sets + 1] = s end
  return sets
end

local function describe(args)
  local parts = {}
  for i = 1, args.n do parts[i] = tostring(args[i]) end
  return "(" .. table.concat(parts, ", ") .. ")"
end

-- Calls f with every hostile set; returns what it copied: the strings it returned, other than
-- `allowed`, described.
local function hammer(f, sets, allowed)
  local strings = {}
  for _, args in ipairs(sets) do
    local r = pack(pcall(f, unpack(args, 1, args.n)))
    for i = 2, r.n do
      if r[1] and type(r[i]) == "string" and r[i] ~= allowed then
        strings[#strings + 1] = describe(args) .. " -> " .. #r[i] .. " bytes"
      end
    end
  end
  return strings
end

T.test("the upvalues reach the public functions and private ones (the copy helper, the core's __gc)", function()
  T.ok(reached[enet.host_create] and n_reached > 30, "every module function is reached")
  T.ok(n_internal >= 2, "private functions are reached (" .. n_internal .. ")")
  print(string.format("# %d functions reached, %d of them private", n_reached, n_internal))
end)

T.test("every function reached, called with hostile arguments, crashes nothing", function()
  -- the public functions: errors or results, whatever they are (fuzz_api.lua checks them)
  local count = 0
  for f in pairs(reached) do
    hammer(f, hostile_sets())
    count = count + 1
  end
  T.ok(count == n_reached, "called every function")
end)

T.test("the private functions copy nothing outside a delivery, whatever the arguments", function()
  local live = assert(enet.host_create(nil, 2))
  local extra = { pack(live, 0x1000, 8), pack(live:get_peer(1), 0, 0x1000, 8) }
  for f in pairs(internal) do
    local strings = hammer(f, hostile_sets(extra))
    T.eq(table.concat(strings, "; "), "", "strings returned by a private function")
  end
  T.eq(select("#", live:service(0)), 0, "the live host is untouched")
  live:destroy()
end)

T.test("a core's finalizer called directly on a live core is host:destroy()", function()
  local server, client, cpeer = T.pair()
  local core = core_of(client)
  T.ok(core, "the client's core is reachable")
  for f in pairs(internal) do
    pcall(f, core)
    pcall(f, core) -- twice: once destroyed, nothing more happens
  end
  T.raises("Tried to index a nil host!", client.service, client, 0)
  T.raises("peer of a destroyed host", cpeer.send, cpeer, "x")
  T.ok(tostring(cpeer):find(":", 1, true), "tostring(peer) still works: " .. tostring(cpeer))
  client:destroy()
  server:destroy()
  collectgarbage()
  collectgarbage()
end)

T.test("a call hook inside a >2 KiB delivery calls the private functions with hostile arguments", function()
  local sent = pattern(5000, 1)
  local inner_sent = pattern(3000, 2)
  local server, client = pair_sending(sent)
  local inner_server, inner_client = pair_sending(inner_sent)
  local in_copy, outside, inner_data = 0, 0, nil
  local copies = {}
  local hook_error
  -- Every private function with every hostile set; a string may only be the bytes being
  -- delivered (`allowed`): anything else was read from elsewhere.
  local function probe(when, allowed)
    for g in pairs(internal) do
      for _, s in ipairs(hammer(g, hostile_sets(), allowed)) do
        copies[#copies + 1] = when .. ": " .. s
      end
    end
  end
  debug.sethook(function()
    local called = private_callee()
    local ok, err = pcall(function()
      if called then
        -- the module calls one of its private functions: the copy is in progress
        in_copy = in_copy + 1
        probe("during the copy", sent)
        -- another Lua thread (a coroutine) gets nothing: the copy is not its own
        coroutine.wrap(probe)("a coroutine during the copy")
        if in_copy == 1 then
          -- a delivery nested in this copy gets its own bytes, and leaves the outer copy as it was
          inner_data = receive(inner_server, inner_client)
          probe("after the nested delivery", sent)
        end
      else
        outside = outside + 1
        if outside <= 40 then probe("a call outside the copy") end
      end
    end)
    if not ok then hook_error = hook_error or err end
  end, "c")
  local data = receive(server, client)
  debug.sethook()
  T.eq(hook_error, nil, "error in the hook")
  T.ok(in_copy >= 1, "the hook ran inside the copy (" .. in_copy .. " times)")
  print(string.format("# the hook ran %d times inside the copy, %d outside", in_copy, outside))
  T.ok(outside >= 1, "the hook ran outside the copy too")
  T.eq(table.concat(copies, "; "), "", "what the private functions copied for the hook")
  T.ok(data == sent, "the delivered data is exactly what was sent (" .. #data .. " bytes)")
  T.ok(inner_data == inner_sent, "the nested delivery got its own data")
  probe("after the delivery")
  T.eq(table.concat(copies, "; "), "", "what the private functions copied afterwards")
  for _, h in ipairs({ server, client, inner_server, inner_client }) do h:destroy() end
end)

T.test("a copy that raises (a hook's error) leaves nothing to copy behind", function()
  local sent = pattern(4000, 3)
  local server, client = pair_sending(sent)
  local raised
  debug.sethook(function()
    if private_callee() then error("hook error inside the copy") end
  end, "c")
  local ok, err = pcall(receive, server, client)
  debug.sethook()
  raised = not ok and tostring(err)
  T.ok(raised and raised:find("hook error inside the copy", 1, true), "the delivery raised: " .. tostring(raised))
  for f in pairs(internal) do
    T.eq(table.concat(hammer(f, hostile_sets()), "; "), "", "copied after the raise")
  end
  server:destroy()
  client:destroy()
end)

T.done()
