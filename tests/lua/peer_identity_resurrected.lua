-- Peer identity after resurrection (docs/contract.md §7: "one Lua object per slot of a host,
-- stable while referenced (so == and table keys work)").
--
-- A peer object that becomes unreachable, but is reachable from an object with a finalizer,
-- is resurrected when that finalizer stores it. Lua removes resurrected objects from weak
-- values before running finalizers (manual §2.5.4; 5.1 clears "finalized" userdata the same
-- way), so the peer cache (weak values) forgets the slot's object, and the next get_peer /
-- event / connect makes a second object for the same slot while the first is still
-- referenced: `saved ~= host:get_peer(1)`, and a table keyed by peer sees two different keys.
--
-- Fails on main on every flavour. No memory-safety impact (both objects reach the same
-- core and slot); it breaks the identity promise that games use for peer-keyed tables.
local T = require "t"
require "enet"

T.test("a resurrected peer is still the slot's one object", function()
  local host = enet.host_create(nil, 2)
  local saved
  -- the peer is reachable only from an object with a finalizer, which stores it
  local function arm(peer)
    if _VERSION == "Lua 5.1" then
      local proxy = newproxy(true)
      getmetatable(proxy).__gc = function() saved = peer end
    else
      setmetatable({}, { __gc = function() saved = peer end })
    end
  end
  arm(host:get_peer(1))
  collectgarbage()
  collectgarbage()
  T.ok(saved ~= nil, "the finalizer resurrected the peer")
  T.ok(saved == host:get_peer(1), "the same object as host:get_peer(1)")
  local keyed = { [saved] = true }
  T.ok(keyed[host:get_peer(1)], "a table keyed by the peer finds it")
  host:destroy()
end)

T.done()
