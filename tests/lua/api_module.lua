-- The module itself: what `require "enet"` gives, the global `enet`, linked_version, the
-- metatables, loading twice, and (inside LÖVE) living beside LÖVE's own enet.
local T = require "t"
local mod = require "enet"
local is53 = _VERSION == "Lua 5.3" or _VERSION == "Lua 5.4" or _VERSION == "Lua 5.5"

T.test("require returns a table and sets the global enet to it", function()
  T.eq(type(mod), "table", "type(require 'enet')")
  T.ok(rawget(_G, "enet") == mod, "global enet is the module table")
  T.ok(package.loaded.enet == mod, "package.loaded.enet is the module table")
  T.eq(type(mod.host_create), "function", "host_create")
  T.eq(type(mod.linked_version), "function", "linked_version")
  -- additions (docs/contract.md §9) may add fields; they are named by strings and are never tables we share
  for k, v in pairs(mod) do
    T.eq(type(k), "string", "key type")
    T.ok(type(v) == "function" or type(v) == "string" or type(v) == "number", "enet." .. k .. " is a plain value")
  end
end)

T.test("linked_version is the vendored ENet's MAJOR.MINOR.PATCH", function()
  local v = enet.linked_version()
  T.eq(type(v), "string", "type")
  local major, minor, patch = v:match("^(%d+)%.(%d+)%.(%d+)$")
  T.ok(major, "format of " .. v)
  T.eq(tonumber(major), 1, "major")
  T.eq(tonumber(minor), 3, "minor")
  T.ok(tonumber(patch) >= 18, "patch >= 18 (vendored: upstream after 1.3.18)")
  T.eq(enet.linked_version(1, "extra", {}), v, "extra arguments ignored")
  T.eq(select("#", enet.linked_version()), 1, "one result")
end)

T.test("host and peer metatables have the reference's fields", function()
  local h = enet.host_create()
  local p = h:get_peer(1)
  local hm, pm = getmetatable(h), getmetatable(p)
  T.eq(type(hm), "table", "host metatable")
  T.eq(type(hm.__index), "table", "host __index")
  T.eq(type(hm.__gc), "function", "host __gc")
  T.eq(type(pm.__index), "table", "peer __index")
  T.eq(type(pm.__tostring), "function", "peer __tostring")
  T.ok(hm ~= pm, "distinct metatables")
  T.eq(pm.__gc, nil, "peers have no __gc")
  if _VERSION == "Lua 5.4" or _VERSION == "Lua 5.5" then
    T.eq(type(hm.__close), "function", "host __close on 5.4+")
  end
  for _, name in ipairs({ "service", "check_events", "compress_with_range_coder", "connect", "flush",
    "broadcast", "channel_limit", "bandwidth_limit", "total_sent_data", "total_received_data",
    "service_time", "peer_count", "get_peer", "get_socket_address", "destroy" }) do
    T.eq(type(h[name]), "function", "host:" .. name)
  end
  for _, name in ipairs({ "connect_id", "disconnect", "disconnect_now", "disconnect_later", "index",
    "ping", "ping_interval", "reset", "send", "state", "receive", "round_trip_time",
    "last_round_trip_time", "throttle_configure", "timeout" }) do
    T.eq(type(p[name]), "function", "peer:" .. name)
  end
  T.eq(h.no_such_method, nil, "unknown host field reads nil")
  T.eq(p.no_such_method, nil, "unknown peer field reads nil")
  h:destroy()
end)

T.test("tostring(host) names the type as luaL_newmetatable would", function()
  local h = enet.host_create()
  local s = tostring(h)
  if is53 then
    T.ok(s:match("^enet_host: "), "5.3+ __name in " .. s)
  else
    T.ok(s:match("^userdata: "), "plain userdata in " .. s)
  end
  h:destroy()
end)

T.test("assigning a field on a host or a peer raises the standard index error", function()
  local h = enet.host_create()
  local p = h:get_peer(1)
  T.raises("index", function() h.x = 1 end)
  T.raises("index", function() p.x = 1 end)
  h:destroy()
end)

T.test("loading the module a second time keeps existing objects working", function()
  local h = enet.host_create(nil, 3)
  local p = h:get_peer(2)
  local saved = package.loaded.enet
  package.loaded.enet = nil
  local again = require "enet"
  T.eq(type(again), "table", "second load")
  T.eq(type(again.host_create), "function", "second load host_create")
  T.ok(rawget(_G, "enet") == again, "global follows the latest load")
  T.eq(h:peer_count(), 3, "old host still works")
  T.ok(h:get_peer(2) == p, "old peer keeps its identity")
  T.eq(p:index(), 2, "old peer still works")
  local h2 = again.host_create(nil, 2)
  T.ok(getmetatable(h2) == getmetatable(h), "same metatable across loads")
  h2:destroy()
  h:destroy()
  package.loaded.enet = saved
  enet = saved
end)

T.test("loading never writes into a table it did not create", function()
  local saved = package.loaded.enet
  local mine = { marker = true }
  enet = mine
  package.loaded.enet = nil
  local m = require "enet"
  T.ok(m ~= mine, "a new module table")
  T.eq(rawget(mine, "host_create"), nil, "user's table untouched")
  T.eq(mine.marker, true, "user's table keeps its field")
  package.loaded.enet = saved
  enet = saved
end)

T.test("a global enet that is not a table does not stop loading", function()
  local saved = package.loaded.enet
  enet = 42
  package.loaded.enet = nil
  local ok, m = pcall(require, "enet")
  T.ok(ok, "require succeeds: " .. tostring(m))
  T.eq(type(m), "table", "module table")
  package.loaded.enet = saved
  enet = saved
end)

-- Inside LÖVE the runner keeps LÖVE's bundled loader in LOVE_ENET_PRELOAD.
if LOVE_ENET_PRELOAD then
  T.test("LÖVE's bundled enet and ours run side by side in one state", function()
    local love_enet = LOVE_ENET_PRELOAD("enet")
    T.ok(love_enet ~= enet, "different module tables")
    local theirs = assert(love_enet.host_create("127.0.0.1:*", 4))
    local ours = assert(enet.host_create(nil, 4))
    T.ok(getmetatable(theirs) ~= getmetatable(ours), "different host metatables")
    local p = ours:connect(theirs:get_socket_address())
    local their_peer, connected
    T.pump({ theirs, ours }, function() return their_peer and connected end, function(h, e)
      if e.type == "connect" then
        if h == ours then connected = true else their_peer = e.peer end
      end
    end)
    T.eq(p:state(), "connected", "our peer connected to LÖVE's host")
    T.eq(p:send("to love"), 0, "send")
    local got
    T.pump({ theirs, ours }, function() return got end, function(h, e)
      if h == theirs and e.type == "receive" then got = e.data end
    end)
    T.eq(got, "to love", "LÖVE's host received our packet")
    T.raises("enet_host expected", function() ours.flush(theirs) end)
    T.eq(type(love_enet.linked_version()), "string", "LÖVE's enet still works")
    ours:destroy()
    theirs:destroy()
  end)
end

T.done()
