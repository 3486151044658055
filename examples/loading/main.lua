-- A LÖVE game whose loading screen keeps its network session (docs/api.md, "Staying connected
-- while the game stalls"). It joins a server, turns on host:background(true), then "loads a
-- level" for 20 s in one blocking call, the way a real loader decodes assets, without calling
-- enet once, and plays on with the same connection afterwards.
--
--   love examples/loading                       a server in a love.thread of this game, then
--                                               the client joins it
--   love examples/loading --connect <address>   join that server instead (any ENet server)
--   ... --load <seconds>   the loading screen's length (default 20)
--   ... --no-background    the same without the thread: the server times the client out
--   ... --frames <n>       quit after n frames of play (default 120)   ... --headless: no window
--
-- It loads our module, not LÖVE's bundled enet, through package.cpath: build the LuaJIT flavour
-- (`cargo build --release --features luajit`), copy target/release/libenet.so to enet.so in a
-- directory, and run `LUA_CPATH='/that/directory/?.so;;' love examples/loading` (docs/love.md
-- has the other ways, and examples/love a --enet option).
--
-- Without host:background(true) the server stops hearing from the client during the load and
-- times it out after 5-30 s (ENet's peer timeout); with it, the client's thread keeps
-- acknowledging and answering pings.
io.stdout:setvbuf("no")

local opts = { load = 20, frames = 120, background = true }
do
  local args, i = arg or {}, 1
  while args[i] do
    local a = args[i]
    if a == "--connect" then opts.connect, i = args[i + 1], i + 1
    elseif a == "--load" then opts.load, i = tonumber(args[i + 1]), i + 1
    elseif a == "--frames" then opts.frames, i = tonumber(args[i + 1]), i + 1
    elseif a == "--no-background" then opts.background = false
    end
    i = i + 1
  end
end

-- Ours, not LÖVE's bundled enet (examples/love/main.lua shows both ways): forget LÖVE's
-- preloaded copy so that `require` searches package.cpath (LUA_CPATH, or next to the game).
local function load_enet()
  package.preload.enet, package.loaded.enet = nil, nil
  return require "enet"
end
local enet = load_enet()

-- The server: a love.thread with its own Lua state and host, serviced all the time, reporting
-- what it sees on a channel. Its host runs a background thread too, which stops and is joined
-- when the love.thread's state closes.
local SERVER = [[
  local cpath, report, control = ...
  package.cpath = cpath
  package.preload.enet, package.loaded.enet = nil, nil
  local enet = require "enet"
  local host = assert(enet.host_create("127.0.0.1:*", 4))
  assert(host:background(true))
  report:push("address " .. host:get_socket_address())
  while not control:pop() do
    local e = host:service(50)
    while e do
      if e.type == "receive" then e.peer:send(e.data) end
      report:push(e.type .. (e.reason and (" " .. e.reason) or ""))
      e = host:check_events()
    end
  end
  report:push("server done")
]]

local host, peer, server_thread, report, control
local state, frames, load_started = "joining", 0, nil
local server_saw = {}

local function log(...) print("loading: " .. string.format(...)) end

local function drain_report()
  if not report then return end
  local line = report:pop()
  while line do
    server_saw[#server_saw + 1] = line
    if line:match("^disconnect") then log("the server saw: %s", line) end
    line = report:pop()
  end
end

function love.load()
  local address = opts.connect
  if not address then
    report, control = love.thread.newChannel(), love.thread.newChannel()
    server_thread = love.thread.newThread(SERVER)
    server_thread:start(package.cpath, report, control)
    local line = report:demand(10)
    assert(line and line:match("^address "), "the server thread did not start: " .. tostring(server_thread:getError()))
    address = line:sub(9)
  end
  host = assert(enet.host_create(nil, 1))
  peer = host:connect(address)
  log("joining %s (background thread: %s)", address, tostring(opts.background))
end

local function load_level(seconds)
  -- One blocking call, as a loader that decodes assets would be: no enet call in here.
  local t0 = love.timer.getTime()
  while love.timer.getTime() - t0 < seconds do love.timer.sleep(0.05) end
end

function love.update()
  drain_report()
  local e = host:service(0)
  while e do
    if e.type == "connect" then
      log("joined")
      if opts.background then
        -- nil and a message when the system has no thread to spare: say so and go on (the
        -- load will then lose the session, as without the option)
        local on, err = host:background(true)
        if not on then log("no background thread: %s", tostring(err)) end
      end
      state, load_started = "loading", true
    elseif e.type == "disconnect" then
      log("disconnected (%s)", tostring(e.reason))
      state = "lost"
    end
    e = host:check_events()
  end
  if state == "loading" and load_started == true then
    load_started = false
    -- one frame shows the loading screen first (love.draw), then the load blocks
    return
  end
  if state == "loading" then
    log("loading the level for %d s without calling enet", opts.load)
    load_level(opts.load)
    state = "playing"
    log("loaded; peer is %s", peer:state())
  end
  if state == "playing" then
    frames = frames + 1
    if frames % 10 == 0 then peer:send("frame " .. frames) end
    if frames >= opts.frames then
      drain_report()
      local timeouts = 0
      for _, l in ipairs(server_saw) do if l == "disconnect timeout" then timeouts = timeouts + 1 end end
      local kept = peer:state() == "connected" and timeouts == 0
      log("%s: peer %s, round trip %d ms, server timeouts %d, thread passes %d",
        kept and "session kept" or "session lost", peer:state(), peer:round_trip_time(),
        timeouts, host:background_stats().passes)
      love.event.quit(kept and 0 or 1)
    end
  elseif state == "lost" then
    log("session lost")
    love.event.quit(1)
  end
end

function love.draw()
  if not love.graphics then return end
  local text = ({ joining = "Joining...", loading = "Loading level... (the session stays alive)",
                  playing = "Playing: peer " .. peer:state(), lost = "Connection lost" })[state]
  love.graphics.print(text, 20, 90)
end

function love.quit()
  if peer and peer:state() == "connected" then
    peer:disconnect_now()
  end
  if control then
    control:push(true)
    server_thread:wait()
  end
  host:destroy()
end
