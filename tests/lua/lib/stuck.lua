-- A client host that sends one CONNECT to `server` and is never serviced again: on a defended
-- server it holds an unverified half-open peer (or a record) until the handshake expires, which
-- puts a small server under pressure (docs/handshake.md). `bind` is host_create's address (nil:
-- none).
local enet = require "enet"

return function(server, bind)
  local h = assert(enet.host_create(bind, 1, 2))
  h:connect(server:get_socket_address(), 2)
  h:flush()
  return h
end
