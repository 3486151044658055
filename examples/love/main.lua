-- enet dots: every player is a dot; move yours with the arrow keys and see the others move.
--
--   love examples/love                      server on *:6789, or a client of 127.0.0.1:6789 if
--                                           that port is taken (so: run it twice)
--   love examples/love --server [address]   server (it is a player too), default "*:6789"
--   love examples/love --connect <address>  client
--   ... --enet /path/to/enet.so             load our module from that file (package.loadlib)
--   ... --frames <n>                        quit after <n> frames (a server quits earlier, once
--                                           every client that joined has left)
--   ... --headless <n>                      no window, the dot moves by itself, --frames <n>
--                                           (ENET_LOVE_HEADLESS=<n> in the environment does
--                                           the same)
--
-- The server relays: clients send their position, the server sends everyone's positions back
-- 30 times a second. Positions go "unreliable" on channel 1 (a lost one is replaced by the next;
-- ENet drops late ones), joins and leaves go "reliable" on channel 0.
io.stdout:setvbuf("no")

local CONTROL, STATE = 0, 1
local TICK = 1 / 30

-- LÖVE has its own enet in package.preload.enet, which `require "enet"` finds before any file on
-- package.cpath. Two ways to load ours instead:
local function load_enet(path)
  if path then
    -- 1. Straight from a file: LÖVE's copy stays where it is; nothing global changes.
    local open, err = package.loadlib(path, "luaopen_enet")
    if not open then error("cannot load " .. path .. ": " .. tostring(err)) end
    return open(), "package.loadlib"
  end
  -- 2. Make `require "enet"` search package.cpath: forget LÖVE's preloaded copy, and look next
  --    to the game (the folder or .love file, or the fused executable) and inside its folder.
  package.preload.enet, package.loaded.enet = nil, nil
  local ext = love.system.getOS() == "Windows" and "dll" or "so"
  package.cpath = love.filesystem.getSourceBaseDirectory() .. "/?." .. ext .. ";"
    .. love.filesystem.getSource() .. "/?." .. ext .. ";" .. package.cpath
  return require("enet"), "require"
end

local enet, how
local host, server_peer -- server_peer: the client's connection to the server
local role, address
local my_id, dots, ids = nil, {}, {} -- dots[id] = {x, y}; ids[peer] = id (server only)
local next_id, joined, remote = 2, 0, 0
local frames, max_frames, headless
local clock, tick_at = 0, 0
local seen_two = false

local function log(text)
  print("love " .. role .. ": " .. text)
end

local function parse(args)
  local opts = {}
  local i = 1
  while args[i] do
    local a = args[i]
    if a == "--server" then
      opts.server = true
      if args[i + 1] and not args[i + 1]:match("^%-%-") then opts.address, i = args[i + 1], i + 1 end
    elseif a == "--connect" then
      opts.connect, i = args[i + 1], i + 1
    elseif a == "--enet" then
      opts.enet, i = args[i + 1], i + 1
    elseif a == "--headless" then
      opts.frames, opts.headless, i = tonumber(args[i + 1]), true, i + 1
    elseif a == "--frames" then
      opts.frames, i = tonumber(args[i + 1]), i + 1
    end
    i = i + 1
  end
  if os.getenv("ENET_LOVE_HEADLESS") then
    opts.frames, opts.headless = opts.frames or tonumber(os.getenv("ENET_LOVE_HEADLESS")), true
  end
  return opts
end

local function start_server(bind)
  local h, err = enet.host_create(bind, 16, 2)
  if not h then return nil, err end
  host, role, my_id = h, "server", 1
  dots[1] = { x = 320, y = 240 }
  address = host:get_socket_address()
  log("listening on " .. address)
  return true
end

local function start_client(target)
  host, role = enet.host_create(nil, 1, 2), "client"
  server_peer, address = host:connect(target, 2), target
  log("connecting to " .. target)
end

function love.load(args)
  local opts = parse(args or arg)
  max_frames, headless = opts.frames, opts.headless
  frames = 0
  enet, how = load_enet(opts.enet)
  assert(enet.version, "this is LÖVE's bundled enet, not ours")
  role = "game"
  log("enet " .. enet.version .. " (ENet " .. enet.linked_version() .. ") loaded with " .. how)
  if opts.connect then
    start_client(opts.connect)
  elseif opts.server then
    assert(start_server(opts.address or "*:6789"))
  else
    local ok, err = start_server("*:6789")
    if not ok then
      print("love: " .. err .. "; joining 127.0.0.1:6789 instead")
      start_client("127.0.0.1:6789")
    end
  end
end

local function encode_state()
  local parts = {}
  for id, d in pairs(dots) do
    parts[#parts + 1] = id .. " " .. math.floor(d.x) .. " " .. math.floor(d.y)
  end
  return table.concat(parts, ";")
end

local function count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

local function on_event(event)
  if role == "server" then
    if event.type == "connect" then
      local id = next_id
      next_id, joined, remote = next_id + 1, joined + 1, remote + 1
      ids[event.peer], dots[id] = id, { x = 320, y = 240 }
      event.peer:send("you " .. id, CONTROL)
      log("player " .. id .. " joined from " .. tostring(event.peer))
    elseif event.type == "receive" and event.channel == STATE then
      local x, y = event.data:match("^(%-?%d+) (%-?%d+)$")
      local d = dots[ids[event.peer]]
      if d and x then d.x, d.y = tonumber(x), tonumber(y) end
    elseif event.type == "disconnect" then
      local id = ids[event.peer]
      if id then
        ids[event.peer], dots[id], remote = nil, nil, remote - 1
        log("player " .. id .. " left")
      end
    end
  else
    if event.type == "connect" then
      log("connected to " .. tostring(event.peer))
    elseif event.type == "receive" and event.channel == CONTROL then
      my_id = tonumber(event.data:match("^you (%d+)$"))
      dots[my_id] = dots[my_id] or { x = 320, y = 240 }
      log("I am player " .. my_id)
    elseif event.type == "receive" and event.channel == STATE then
      local mine = my_id and dots[my_id]
      local fresh = {}
      for id, x, y in event.data:gmatch("(%d+) (%-?%d+) (%-?%d+)") do
        fresh[tonumber(id)] = { x = tonumber(x), y = tonumber(y) }
      end
      if mine then fresh[my_id] = mine end -- our own dot is ours to move
      dots = fresh
      if not seen_two and count(dots) >= 2 then
        seen_two = true
        log("sees " .. count(dots) .. " dots")
      end
    elseif event.type == "disconnect" then
      log("the server is gone")
      server_peer = nil
      love.event.quit()
    end
  end
end

local function move(dt)
  local d = my_id and dots[my_id]
  if not d then return end
  if headless then
    local a = clock * 3 + my_id
    d.x, d.y = 320 + 100 * math.cos(a), 240 + 100 * math.sin(a)
  else
    local speed = 200 * dt
    if love.keyboard.isDown("left") then d.x = d.x - speed end
    if love.keyboard.isDown("right") then d.x = d.x + speed end
    if love.keyboard.isDown("up") then d.y = d.y - speed end
    if love.keyboard.isDown("down") then d.y = d.y + speed end
  end
end

function love.update(dt)
  frames, clock = frames + 1, clock + dt
  -- Service with timeout 0: never block the frame. Read every pending event.
  local event = host:service(0)
  while event do
    on_event(event)
    event = host:service(0)
  end
  move(dt)
  if clock >= tick_at then
    tick_at = clock + TICK
    local mine = my_id and dots[my_id]
    if role == "server" then
      host:broadcast(encode_state(), STATE, "unreliable")
    elseif mine and server_peer then
      server_peer:send(math.floor(mine.x) .. " " .. math.floor(mine.y), STATE, "unreliable")
    end
  end
  if max_frames and (frames >= max_frames or (role == "server" and joined > 0 and remote == 0)) then
    love.event.quit()
  end
end

function love.draw()
  for id, d in pairs(dots) do
    love.graphics.setColor(((id * 0.37) % 1), ((id * 0.61) % 1), ((id * 0.83) % 1))
    love.graphics.circle("fill", d.x, d.y, id == my_id and 12 or 9)
  end
  love.graphics.setColor(1, 1, 1)
  love.graphics.print(role .. " " .. (address or "") .. "   players: " .. count(dots), 8, 8)
end

-- Leaving: disconnect_later sends the goodbye after the last queued position, and a short wait
-- for the answer lets the server see a clean "disconnect" instead of timing out seconds later.
-- host:destroy() alone would tell nobody.
function love.quit()
  if role == "client" and server_peer then
    server_peer:disconnect_later()
    for _ = 1, 20 do
      local event = host:service(50)
      if event and event.type == "disconnect" then break end
    end
    log("said goodbye")
  elseif role == "server" then
    for i = 1, host:peer_count() do
      local peer = host:get_peer(i)
      if peer:state() == "connected" then peer:disconnect() end
    end
    host:flush()
  end
  log("quit after " .. frames .. " frames")
  host:destroy()
end
