-- Runs only inside LÖVE (the runner's main.lua saved LÖVE's own enet loader in
-- LOVE_ENET_PRELOAD and removed it from package.preload before requiring ours).
-- docs/contract.md §3: our module and LÖVE's bundled enet live in one Lua state, side by side.
local T = require "t"
local ours = require "enet"
assert(LOVE_ENET_PRELOAD, "LÖVE's bundled enet loader is missing")
local theirs = LOVE_ENET_PRELOAD("enet")

T.test("two different modules", function()
  T.ok(ours ~= theirs, "distinct module tables")
  T.eq(ours.linked_version(), "1.3.18", "our ENet")
  T.eq(theirs.linked_version(), "1.3.13", "LÖVE's ENet")
  -- LÖVE 11's module table is its peer metatable; we must not have written into it.
  local keys = {}
  for k in pairs(theirs) do keys[#keys + 1] = k end
  table.sort(keys)
  T.eq(table.concat(keys, ","), "__index,__tostring,host_create,linked_version", "LÖVE's keys")
end)

local function echo(server_mod, client_mod, label)
  local server = assert(server_mod.host_create("127.0.0.1:*", 4, 2))
  local client = assert(client_mod.host_create(nil, 1, 2))
  local addr = server:get_socket_address()
  local cpeer = client:connect(addr, 2, 7)
  local replies, server_saw = {}, {}
  T.pump({ server, client }, function() return #replies == 3 end, function(h, e)
    if h == server then
      if e.type == "connect" then server_saw.data = e.data end
      if e.type == "receive" then e.peer:send("echo:" .. e.data, e.channel) end
    else
      if e.type == "connect" then
        for i = 1, 3 do e.peer:send(label .. i, i % 2) end
      elseif e.type == "receive" then
        replies[#replies + 1] = e.data .. "@" .. e.channel
      end
    end
  end)
  T.eq(server_saw.data, 7, label .. " connect data")
  table.sort(replies)
  T.eq(table.concat(replies, " "), "echo:" .. label .. "1@1 echo:" .. label .. "2@0 echo:" .. label .. "3@1", label)
  cpeer:disconnect_now()
  T.ok(getmetatable(server) ~= getmetatable(client), "different host metatables")
  server:destroy()
  client:destroy()
end

T.test("our server, LÖVE's client", function() echo(ours, theirs, "a") end)
T.test("LÖVE's server, our client", function() echo(theirs, ours, "b") end)

T.test("package.loadlib loads ours next to LÖVE's, sharing our metatables", function()
  local path
  for entry in package.cpath:gmatch("[^;]+") do
    local candidate = entry:gsub("%?", "enet")
    local f = io.open(candidate, "rb")
    if f then f:close() path = candidate break end
  end
  T.ok(path, "our enet.so on package.cpath")
  local open = assert(package.loadlib(path, "luaopen_enet"))
  local again = open()
  local h = again.host_create("127.0.0.1:*")
  -- a host made by the second load works with methods of the first: one set of metatables
  T.ok(ours.host_create().connect ~= nil, "methods")
  T.ok(getmetatable(h) == getmetatable(ours.host_create()), "same host metatable")
  h:destroy()
end)

T.done()
