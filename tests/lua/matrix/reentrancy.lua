-- Re-entrancy matrix (docs/contract.md §7): a finalizer armed to run at the first allocation
-- inside one of our calls, whose body destroys the host, services it, receives on its peer, or
-- raises. tests/lua.rs runs one process per combination (ENET_REENTRY=kind:method:variant:action),
-- under valgrind on PUC Lua; ENET_REENTRY=list prints every combination. The methods come from
-- the metatables and the module table, so a new method is covered without touching this file.
local T = require "t"
local reentry = require "reentry" -- tests/lua/lib: arm(), inside(), must_fire()
require "enet"

local unpack = table.unpack or unpack
local ACTIONS = { "destroy", "service", "receive", "raise" }

-- Arguments per method, one list per variant (a method not named here is called with none).
-- Numbers where a string is expected exercise the number-to-string conversion, which allocates.
local ARGS = {
  host = {
    service = { { 0 }, { 0, {} } },
    check_events = { {}, { {} } },
    connect = { { "SERVER" }, { 1234 } },
    broadcast = { { 123456789 }, { "x", 0, "unreliable" } },
    channel_limit = { { 3 } },
    bandwidth_limit = { { 1000, 2000 } },
    get_peer = { { 2 } },
    shutdown = { { 30 } },
    maximum_packet_size = { { 100000 } },
    maximum_address_waiting_data = { { 1048576 } },
    maximum_host_waiting_data = { { 4194304 } },
    socket_buffer_sizes = { { 65536, 65536 } },
    compression = { { true } },
    checksum = { { false } },
    duplicate_peers = { { 3 } },
    refuse_connections = { { false } },
    mtu = { { 1200 } },
  },
  peer = {
    send = { { 123456789 }, { "y", 1, "unsequenced" }, { string.rep("z", 5000) } },
    stats = { {}, { {} } },
    set_data = { { "value" } },
    throttle_configure = { { 1000, 2, 2 } },
    timeout = { {}, { 10, 100, 1000 } },
    ping_interval = { { 500 } },
    round_trip_time = { { 0 } },
    disconnect = { { 7 } },
  },
  module = {
    host_create = { { "127.0.0.1:*" }, { 1234 } },
  },
}

-- Calls that allocate whatever happens, so the finalizer must fire inside them (proof that the
-- arming works), and how often: a call that allocates only once cannot run it inside itself on
-- Lua 5.2 (reentry.must_fire). Others may finish without allocating; they still run every
-- action.
local ALLOCATES = {
  ["host:service:1"] = "many", ["host:service:2"] = "once", ["host:check_events:1"] = "many",
  ["host:connect:1"] = "once", ["host:connect:2"] = "many", ["host:broadcast:1"] = "many",
  ["host:get_peer:1"] = "once", ["host:get_socket_address:1"] = "once",
  ["host:get_socket_ip_port:1"] = "once", ["peer:send:1"] = "many", ["peer:stats:1"] = "many",
  ["peer:stats:2"] = "many", ["peer:receive:1"] = "once", ["peer:__tostring:1"] = "once",
  ["peer:address:1"] = "once", ["module:host_create:1"] = "many",
  ["module:host_create:2"] = "many", ["module:linked_version:1"] = "once",
}
local MUST_FIRE = {}
for key, allocations in pairs(ALLOCATES) do
  if reentry.must_fire(allocations) then MUST_FIRE[key] = true end
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

-- Every callable of a class: __index methods and the metamethods that are functions.
local function callables(mt)
  local names = {}
  for _, name in ipairs(sorted_keys(mt.__index)) do names[#names + 1] = name end
  for _, name in ipairs(sorted_keys(mt)) do
    if name ~= "__index" and type(mt[name]) == "function" then names[#names + 1] = name end
  end
  return names
end

local function variants(kind, name)
  return (ARGS[kind][name]) or { {} }
end

local probe = enet.host_create(nil, 1)
local classes = {
  host = getmetatable(probe),
  peer = getmetatable(probe:get_peer(1)),
}
probe:destroy()

local spec = os.getenv("ENET_REENTRY") or "list"
if spec == "list" then
  local lines = {}
  for _, kind in ipairs({ "host", "peer" }) do
    for _, name in ipairs(callables(classes[kind])) do
      for v = 1, #variants(kind, name) do
        for _, action in ipairs(ACTIONS) do
          lines[#lines + 1] = table.concat({ kind, name, v, action }, ":")
        end
      end
    end
  end
  for _, name in ipairs(sorted_keys(enet)) do
    if type(enet[name]) == "function" then
      for v = 1, #variants("module", name) do
        for _, action in ipairs(ACTIONS) do
          lines[#lines + 1] = table.concat({ "module", name, v, action }, ":")
        end
      end
    end
  end
  for _, l in ipairs(lines) do
    local kind_, name_, v_ = l:match("^(%a+):([%w_]+):(%d+)")
    print("COMBO " .. l .. (MUST_FIRE[kind_ .. ":" .. name_ .. ":" .. v_] and " alloc" or ""))
  end
  return
end

local kind, name, variant, action = spec:match("^(%a+):([%w_]+):(%d+):(%a+)$")
assert(kind, "bad ENET_REENTRY " .. spec)
variant = tonumber(variant)

-- A connected pair; the client has received data waiting (events for service, packets queued
-- on its peer for receive), small and large (a large packet takes the protected copy path).
local server, client, cpeer, speer = T.pair()
speer:send(string.rep("L", 5000), 1)
for i = 1, 6 do speer:send(string.rep("s", 100) .. i, 0) end
server:flush()
local first
for _ = 1, 200 do
  server:service(1)
  first = client:service(1) -- reads every datagram, hands out one event, queues the rest
  if first then break end
end
assert(first and first.type == "receive", "the client received its first message")
-- ENET_REENTRY_BACKGROUND=1 (tests/lua.rs, docs/contract.md §12): both hosts' background
-- threads run from here on, so the call and the finalizer's actions take the hosts' locks while
-- the threads service them; a finalizer that destroys the client joins its thread.
local BACKGROUND = os.getenv("ENET_REENTRY_BACKGROUND") == "1"
if BACKGROUND then
  assert(server:background(true) and client:background(true), "background threads started")
end

local target, fn
if kind == "host" then
  target = client
  fn = classes.host.__index[name] or classes.host[name]
elseif kind == "peer" then
  target = cpeer
  fn = classes.peer.__index[name] or classes.peer[name]
else
  fn = enet[name]
end
assert(type(fn) == "function", spec .. ": not a function")
local args = {}
for i, a in ipairs(variants(kind, name)[variant] or {}) do
  args[i] = a == "SERVER" and server:get_socket_address() or a
end

local fired = { count = 0, inside = false }

local function finalizer()
  fired.count = fired.count + 1
  fired.inside = reentry.inside(fn)
  if os.getenv("ENET_REENTRY_TRACE") then print(debug.traceback("finalizer")) end
  if action == "destroy" then
    client:destroy()
  elseif action == "service" then
    for _ = 1, 4 do pcall(client.service, client, 0) end
  elseif action == "receive" then
    for _ = 1, 4 do pcall(cpeer.receive, cpeer) end
  elseif action == "raise" then
    error("finalizer raised")
  end
end

local results
-- Packs a call's results only after the call (a table constructor around it would allocate
-- first, and fire the finalizer before the call).
local function pack(...) return { n = select("#", ...), ... } end
local arg1, arg2, arg3, arg4 = unpack(args)
if kind ~= "module" then arg1, arg2, arg3, arg4 = target, arg1, arg2, arg3 end
local nargs = #args + (kind ~= "module" and 1 or 0)

-- The call, made ready before arming (creating a closure allocates). Its results are packed
-- after it, inside an outer pcall: when the call itself does not allocate, the finalizer runs
-- (and may raise) right after it.
local function invoke()
  if nargs == 0 then
    results = pack(pcall(fn))
  elseif nargs == 1 then
    results = pack(pcall(fn, arg1))
  elseif nargs == 2 then
    results = pack(pcall(fn, arg1, arg2))
  elseif nargs == 3 then
    results = pack(pcall(fn, arg1, arg2, arg3))
  else
    results = pack(pcall(fn, arg1, arg2, arg3, arg4))
  end
end

T.test(spec .. ": the call finishes or raises cleanly", function()
  reentry.arm(finalizer) -- tests/lua/lib/reentry.lua
  local ok, err = pcall(invoke)
  reentry.disarm()
  collectgarbage("collect")
  collectgarbage("collect")
  T.eq(fired.count, 1, "the finalizer ran once")
  if not ok then
    -- the finalizer raised after the call returned, while its results were packed
    T.ok(action == "raise" and not fired.inside, "an error outside the call: " .. tostring(err))
    T.ok(tostring(err):find("finalizer raised", 1, true), "the finalizer's error")
    results = pack(true)
  end
  if MUST_FIRE[kind .. ":" .. name .. ":" .. variant] then
    T.ok(fired.inside, "the finalizer ran inside " .. name)
  end
  if not results[1] then
    local err = results[2]
    T.eq(type(err), "string", "a raised error is a string")
    if action ~= "raise" then
      -- without a finalizer's error, only this call's own errors may come out (with one, Lua
      -- may raise it inside the call, or right after it, still inside pcall)
      T.ok(not err:find("finalizer raised", 1, true), "unexpected finalizer error: " .. err)
    end
  end
  print("RESULT fired_inside=" .. tostring(fired.inside) .. " ok=" .. tostring(results[1]) ..
    (results[1] and "" or (" err=" .. tostring(results[2]))))
end)

T.test(spec .. ": every object is consistent afterwards", function()
  local destroyed = not pcall(client.flush, client)
  if destroyed then
    T.raises("Tried to index a nil host!", function() client:service(0) end)
    T.raises("enet: peer of a destroyed host", function() cpeer:send("x") end)
    T.ok(tostring(cpeer):match("^127%.0%.0%.1:%d+$"), "tostring after destroy")
  else
    for _ = 1, 5 do
      local e = client:service(1)
      while e do e = client:check_events() end
    end
    local s = cpeer:state()
    T.ok(type(s) == "string", "peer state " .. tostring(s))
    if BACKGROUND and not (kind == "host" and name == "background") then
      T.ok(client:background(), "the client's thread still runs")
    end
    while cpeer:receive() do end
  end
  -- every value the call returned is usable
  for i = 2, results.n do
    local v = results[i]
    if type(v) == "table" then
      for k, x in pairs(v) do local _ = tostring(k) .. tostring(x) end
    elseif type(v) == "userdata" then
      local _ = tostring(v)
    end
  end
  for _ = 1, 3 do server:service(1) end
  server:destroy()
  pcall(client.destroy, client)
end)

T.done()
