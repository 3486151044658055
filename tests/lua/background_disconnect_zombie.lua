-- valgrind: from the attack review of vendor/enet patch 0039 (messages that arrived whole
-- before a peer left are delivered before its disconnect): a zombie that still holds messages
-- (mixed reliable, fragmented, unreliable and unsequenced ones on several channels), ended
-- every way the program can end it (taking its events, peer:receive, reset, disconnect_now,
-- disconnect, disconnect_later, ping, background(false), destroy, __gc), in background and
-- normal mode; a zombie made by a timeout with the host's own big messages in flight; the same
-- client address reconnecting while its zombie holds messages; a big message half arrived when
-- the goodbye comes. Every receive comes before the disconnect, nothing after it, and the
-- waiting-data counters go back to 0.
local T = require "t"
local enet = require "enet"
local timing = require "timing"

-- Waits (without calling the host under test) until cond(), 5 s at most: a busy machine, Wine
-- or valgrind may take longer than a fixed pause.
local function until_true(cond)
  local t0 = timing.now()
  while not cond() and timing.now() - t0 < 5000 do timing.stall(0.001) end
end
local function zombie(peer) return function() return peer:state() == "zombie" end end

local BIG = string.rep("x", 9000)

-- A client sends mixed messages to a server, which holds them (background: its thread
-- acknowledges them while Lua does not call it), then leaves by `how`.
local function zombie_with_mail(how, bg)
  local server, client, cpeer, speer = T.pair({ server_channels = 4, connect_channels = 4 })
  if bg then server:background(true) end
  local sent = {}
  for i = 1, 30 do
    local kind = i % 5
    local data, ch, flag
    if kind == 0 then data, ch, flag = BIG .. i, 1, "reliable"
    elseif kind == 1 then data, ch, flag = "u" .. i, 2, "unreliable"
    elseif kind == 2 then data, ch, flag = "s" .. i, 3, "unsequenced"
    else data, ch, flag = "r" .. i, 0, "reliable" end
    cpeer:send(data, ch, flag)
    sent[#sent + 1] = data
  end
  client:flush()
  if bg then
    T.pump({ client }, function() return cpeer:stats().reliable_data_in_transit == 0 end, nil, 5000)
    cpeer[how](cpeer, 9)
    for _ = 1, 20 do client:service(1) end
    until_true(zombie(speer))
  else
    cpeer[how](cpeer, 9)
    client:flush()
    for _ = 1, 5 do client:service(1) end
  end
  return server, client, cpeer, speer, sent
end

for _, bg in ipairs({ true, false }) do
  for _, how in ipairs({ "disconnect", "disconnect_now", "disconnect_later" }) do
    local tag = (bg and "background " or "normal ") .. how
    T.test(tag .. ": mixed messages, then the disconnect, then nothing; nothing held", function()
      local server, client, _, speer, sent = zombie_with_mail(how, bg)
      if bg then
        T.eq(speer:state(), "zombie", "the server's peer is gone, its events not taken")
        T.ok(server:waiting_data() > 0, "its messages held")
        T.eq(speer:stats().waiting_data, server:waiting_data(), "all of them the peer's")
      end
      local got, other = {}, {}
      T.pump({ server, client }, function() return other[1] end, function(h, e)
        if h ~= server then return end
        if e.type == "receive" then
          T.eq(#other, 0, "receive before the disconnect")
          got[#got + 1] = e.data
        else
          other[#other + 1] = e.type
          T.eq(e.data, 9, "disconnect data")
        end
      end, 5000)
      T.eq(other[1], "disconnect", "the disconnect")
      if bg then T.eq(#got, #sent, "every message") end
      T.eq(server:waiting_data(), 0, "nothing held after")
      for _ = 1, 5 do T.eq(server:service(1), nil, "nothing after the disconnect") end
      T.eq(server:check_events(), nil, "nothing after the disconnect")
      client:destroy()
      server:destroy()
    end)
  end

  for _, fin in ipairs({ "reset", "disconnect_now", "disconnect", "disconnect_later", "receive",
                         "ping", "destroy", "gc" }) do
    T.test((bg and "background " or "normal ") .. fin .. " on a zombie that holds messages", function()
      local server, client, _, speer, sent = zombie_with_mail("disconnect", true)
      if not bg then server:background(false) end
      T.eq(speer:state(), "zombie", "zombie")
      T.ok(server:waiting_data() > 0, "held")
      if fin == "destroy" then
        server:destroy()
        client:destroy()
        return
      end
      if fin == "gc" then
        server, speer = nil, nil
        collectgarbage()
        collectgarbage()
        client:destroy()
        return
      end
      if fin == "receive" then
        local n = 0
        while speer:receive() do n = n + 1 end
        T.eq(n, #sent, "every message by peer:receive")
        T.eq(server:waiting_data(), 0, "nothing held")
      else
        speer[fin](speer)
      end
      local evs = {}
      for _ = 1, 60 do
        local e = server:service(1)
        while e do
          evs[#evs + 1] = e.type
          e = server:check_events()
        end
      end
      if fin == "reset" or fin == "disconnect_now" then
        T.eq(#evs, 0, "no event after a reset")
      elseif fin == "receive" then
        T.eq(#evs, 1, "one event")
        T.eq(evs[1], "disconnect", "the disconnect")
      else
        T.eq(#evs, #sent + 1, "every message then the disconnect")
        T.eq(evs[#evs], "disconnect", "the disconnect last")
      end
      T.eq(speer:state(), "disconnected", "disconnected")
      T.eq(server:waiting_data(), 0, "nothing held at the end")
      client:destroy()
      server:destroy()
    end)
  end
end

local BIG2 = string.rep("y", 20000)

-- A client's messages held by a background server, which then times the silent client out
-- while its own big messages are in flight (the zombie keeps its channels and queues).
local function timed_out_zombie()
  local server, client, cpeer, speer = T.pair({ server_channels = 4, connect_channels = 4 })
  server:background(true)
  speer:timeout(4, 100, 300)
  local n = 0
  for i = 1, 12 do
    local d = (i % 3 == 0) and (BIG2 .. i) or ("m" .. i)
    cpeer:send(d, i % 4, (i % 4 == 2) and "unreliable" or "reliable")
    n = n + 1
  end
  client:flush()
  T.pump({ client }, function() return cpeer:stats().reliable_data_in_transit == 0 end, nil, 5000)
  for i = 1, 5 do speer:send(BIG2 .. "out" .. i, i % 4) end
  local t0 = timing.now()
  while speer:state() ~= "zombie" and timing.now() - t0 < 5000 do timing.stall(0.005) end
  T.eq(speer:state(), "zombie", "timed out by the thread")
  return server, client, speer, n
end

for _, fin in ipairs({ "events", "reset", "disconnect_now", "receive", "background_off", "destroy", "gc" }) do
  T.test("a zombie timed out with messages held and its own in flight: " .. fin, function()
    local server, client, speer, sent = timed_out_zombie()
    T.ok(server:waiting_data() > 0, "held")
    if fin == "destroy" then
      server:destroy()
      client:destroy()
      return
    end
    if fin == "gc" then
      server, speer = nil, nil
      collectgarbage()
      collectgarbage()
      client:destroy()
      return
    end
    if fin == "background_off" then server:background(false) end
    if fin == "reset" then speer:reset() end
    if fin == "disconnect_now" then speer:disconnect_now() end
    local n = 0
    if fin == "receive" then
      while speer:receive() do n = n + 1 end
    end
    local evs = {}
    for _ = 1, 40 do
      local e = server:service(1)
      while e do
        evs[#evs + 1] = e.type
        if e.type == "disconnect" then T.eq(e.reason, "timeout", "reason") end
        e = server:check_events()
      end
    end
    if fin == "reset" or fin == "disconnect_now" then
      T.eq(#evs, 0, "no event after a reset")
    else
      T.eq(#evs + n, sent + 1, "every message then the disconnect: " .. table.concat(evs, ","))
      T.eq(evs[#evs], "disconnect", "the disconnect last")
    end
    T.eq(server:waiting_data(), 0, "nothing held")
    client:destroy()
    server:destroy()
  end)
end

for _, slots in ipairs({ 1, 2 }) do
  T.test("the same client address reconnects while its zombie holds messages (" .. slots .. " slots)", function()
    local server = assert(enet.host_create("127.0.0.1:*", slots, 2))
    local client = assert(enet.host_create(nil, 2, 2))
    server:background(true)
    local cpeer = client:connect(server:get_socket_address(), 2)
    local speer
    T.pump({ server, client }, function() return speer and cpeer:state() == "connected" end, function(h, e)
      if h == server and e.type == "connect" then speer = e.peer end
    end)
    for i = 1, 40 do cpeer:send("old" .. i) end
    client:flush()
    T.pump({ client }, function() return cpeer:stats().reliable_data_in_transit == 0 end, nil, 5000)
    cpeer:disconnect_now(3)
    local c2 = client:connect(server:get_socket_address(), 2, 77)
    for _ = 1, 30 do client:service(1) end
    until_true(zombie(speer))
    T.eq(speer:state(), "zombie", "the old peer is a zombie")
    local log, newpeer = {}, nil
    T.pump({ server, client }, function() return newpeer and c2:state() == "connected" and #log >= 42 end, function(h, e)
      if h ~= server then return end
      if e.type == "receive" then
        T.ok(e.peer == speer, "old messages from the old peer")
        log[#log + 1] = e.data
      elseif e.type == "disconnect" then
        T.ok(e.peer == speer, "the old peer disconnects")
        log[#log + 1] = "DISC" .. e.data
      elseif e.type == "connect" then
        log[#log + 1] = "CONN" .. e.data
        newpeer = e.peer
      end
    end, 8000)
    -- the old peer's events in order; the new one's connect may come between them (ENet takes
    -- peers in turn)
    local old = {}
    for _, v in ipairs(log) do if v ~= "CONN77" then old[#old + 1] = v end end
    for i = 1, 40 do T.eq(old[i], "old" .. i, "old message " .. i) end
    T.eq(old[41], "DISC3", "then the old disconnect")
    T.eq(#old, 41, "nothing else")
    c2:send("new")
    local got
    T.pump({ server, client }, function() return got end, function(h, e)
      if h == server and e.type == "receive" then
        got = e.data
        T.ok(e.peer == newpeer, "from the new peer")
      end
    end)
    T.eq(got, "new", "the new connection's message")
    T.eq(server:waiting_data(), 0, "nothing held")
    client:destroy()
    server:destroy()
  end)
end

for _, how in ipairs({ "disconnect", "disconnect_now" }) do
  T.test("a big message half arrived, then " .. how .. ": the whole ones, then the disconnect", function()
    local server = assert(enet.host_create("127.0.0.1:*", 4, 2))
    local client = assert(enet.host_create(nil, 2, 2))
    local cpeer = client:connect(server:get_socket_address(), 2)
    local speer
    T.pump({ server, client }, function() return speer and cpeer:state() == "connected" end, function(h, e)
      if h == server and e.type == "connect" then speer = e.peer end
    end)
    server:background(true)
    for i = 1, 20 do cpeer:send("s" .. i) end
    client:flush()
    T.pump({ client }, function() return cpeer:stats().reliable_data_in_transit == 0 end, nil, 5000)
    local held_small = server:waiting_data()
    cpeer:send(string.rep("B", 400000))
    client:flush() -- the first window of fragments only: the client never reads their acknowledgements
    until_true(function() return server:waiting_data() > held_small end)
    T.ok(server:waiting_data() > held_small, "part of the big message held")
    T.ok(cpeer:stats().reliable_data_in_transit > 0, "the rest not sent yet")
    cpeer[how](cpeer, 5)
    client:flush()
    if how == "disconnect" then for _ = 1, 20 do client:service(1) end end
    until_true(zombie(speer))
    T.eq(speer:state(), "zombie", "zombie")
    T.eq(server:waiting_data(), held_small, "only the whole messages still held")
    local got, disc = {}, nil
    T.pump({ server }, function() return disc end, function(_, e)
      if e.type == "receive" then
        T.ok(not disc, "before the disconnect")
        got[#got + 1] = e.data
      else
        disc = e
      end
    end)
    T.eq(#got, 20, "the whole ones")
    for i = 1, 20 do T.eq(got[i], "s" .. i, "in order") end
    T.eq(server:waiting_data(), 0, "nothing held")
    client:destroy()
    server:destroy()
  end)
end

T.done()
