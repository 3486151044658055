-- What reaches the server when a client queues reliable messages and then disconnects, for
-- each of disconnect, disconnect_now and disconnect_later, with and without a flush first.
-- The counts are written down in docs/disconnect.md. The server is serviced before the
-- client in every round, as a game loop that services one host per frame would.
local T = require "t"
require "enet"

local function scenario(how, n, flush_first)
  local server, client, cpeer = T.pair({ server_channels = 1, client_channels = 1 })
  for i = 1, n do T.eq(cpeer:send("m" .. i), 0, "send") end
  if flush_first then client:flush() end
  cpeer[how](cpeer, 7)
  local got, server_data, client_data = 0, nil, nil
  local ms = 0
  while ms < 3000 and not (server_data and (client_data or how == "disconnect_now")) do
    for _, h in ipairs({ server, client }) do
      local e = h:service(1)
      while e do
        if h == server and e.type == "receive" then
          T.eq(e.data, "m" .. (got + 1), "messages in order")
          got = got + 1
        elseif e.type == "disconnect" then
          if h == server then server_data = e.data else client_data = e.data end
        end
        e = h:check_events()
      end
    end
    ms = ms + 2
  end
  server:destroy()
  client:destroy()
  return got, server_data, client_data
end

local expected = {
  -- how, flushed: messages the server receives (n = all of them)
  { "disconnect", false, 0 },
  { "disconnect", true, "n" },
  { "disconnect_now", false, 0 },
  { "disconnect_now", true, "n" }, -- lua-enet: 0 (vendor/enet patch 0039)
  { "disconnect_later", false, "n" },
  { "disconnect_later", true, "n" },
}

for _, case in ipairs(expected) do
  local how, flushed, want = case[1], case[2], case[3]
  T.test(string.format("%s%s with queued reliable data", how, flushed and " after a flush" or ""), function()
    for _, n in ipairs({ 1, 10, 500 }) do
      local got, server_data, client_data = scenario(how, n, flushed)
      T.eq(got, want == "n" and n or want, how .. ": messages received of " .. n)
      T.eq(server_data, 7, "the server's disconnect event carries the data")
      if how == "disconnect_now" then
        T.eq(client_data, nil, "disconnect_now gives the client no event")
      else
        T.eq(client_data, 0, "the client's disconnect event, once acknowledged")
      end
    end
  end)
end
T.done()
