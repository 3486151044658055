-- Every host a script creates runs its background thread (docs/contract.md §12): loaded before
-- the script through LUA_INIT ("@.../background_all.lua") by tests/sanitize's ThreadSanitizer
-- run, so the suite's scripts exercise the thread and the host's lock from every method while
-- the thread services the host. A host that cannot start its thread fails loudly.
local enet = require "enet"
local create = enet.host_create
enet.host_create = function(...)
  local host, err = create(...)
  if host then assert(host:background(true), "background thread started") end
  return host, err
end
return enet
