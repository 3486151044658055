---@meta enet
-- Type definitions of the `enet` module for lua-language-server (LuaCATS annotations).
-- This file is never run: it only describes the C module. Point lua-language-server at the
-- `library/` directory (setting `workspace.library`), see docs/api.md.
-- tests/lua/types.lua fails when a function of the module has no annotation here, or the
-- other way round.

---The state of a peer slot, as `peer:state()` reports it.
---@alias enet.PeerState
---| "disconnected"             # a free slot, or not connected
---| "connecting"               # `host:connect` sent the request, waiting for the answer
---| "acknowledging_connect"    # a connection request was received and answered
---| "connection_pending"       # accepting side: handshake done, "connect" event not read yet (a background host's peer is "connected" already)
---| "connection_succeeded"     # connecting side: handshake done, "connect" event not read yet (likewise)
---| "connected"
---| "disconnect_later"         # `disconnect_later`: waiting for the queued packets to go out
---| "disconnecting"            # the goodbye was sent, waiting for its acknowledgement
---| "acknowledging_disconnect" # the other side's goodbye arrived and is being acknowledged
---| "zombie"                   # disconnected, "disconnect" event not read yet
---| "unknown"                  # never seen in practice

---How a packet travels: `peer:send` and `host:broadcast` take one of these.
---@alias enet.PacketFlag
---| "reliable"    # (default) arrives, and in order within its channel
---| "unreliable"  # may be lost; arrives in order (late packets are dropped)
---| "unsequenced" # may be lost, may arrive in any order

---@alias enet.EventType
---| "connect"    # a connection is complete (both sides get one)
---| "disconnect" # a connection ended: goodbye, timeout or failed attempt
---| "receive"    # a packet arrived

---Why a connection ended (an addition: lua-enet has no `reason`).
---@alias enet.DisconnectReason
---| "local"   # this side disconnected
---| "remote"  # the other side disconnected
---| "timeout" # the other side stopped answering
---| "refused" # the connection attempt was refused

---A plain table returned by `host:service` and `host:check_events`.
---@class enet.Event
---@field type enet.EventType
---@field peer enet.Peer the peer the event is about; the same object every time for one slot
---@field data string|integer receive: the packet (binary-safe string); connect and disconnect: the integer the other side passed to `connect` / `disconnect*` (0 if none)
---@field channel integer? receive: the 0-based channel; nil for connect and disconnect
---@field reason enet.DisconnectReason? disconnect: why the connection ended; nil for the other types

---@class enet
---@field version string this module's version, e.g. "0.1.0" (`linked_version()` is ENet's)
---@field _VERSION string "enet " .. version
enet = {}

---Creates a host: a UDP socket with a number of peer slots. A server binds an address; a
---client usually passes nil (unbound, the OS picks a port when it first sends). No address,
---"*:port" and "[::]:port" make a dual-stack socket (IPv4 and IPv6 peers); an IPv4 address an
---IPv4 socket, an IPv6 address an IPv6-only one.
---Raises on a malformed address (`Failed to parse address`, `Missing port in address`,
---`Hostname too long`, `Failed to resolve host name`); returns nil and a message when the host
---cannot be created (port in use, `peer_count` outside 1..4095).
---```lua
---local server = assert(enet.host_create("*:6789", 32, 2))
---local client = enet.host_create()
---```
---@param bind_address string? "ip:port", "[ipv6]:port", "hostname:port", "*:port", "127.0.0.1:*" (any free port); nil for an unbound host
---@param peer_count integer? number of peer slots, 1..4095 (default 64)
---@param channel_count integer? most channels an incoming connection may use (default 1; 0 means 255)
---@param in_bandwidth integer? incoming bandwidth in bytes/s, 0 = unlimited (default)
---@param out_bandwidth integer? outgoing bandwidth in bytes/s, 0 = unlimited (default)
---@return enet.Host|nil host
---@return string? err "enet: failed to create host (<cause>)"
function enet.host_create(bind_address, peer_count, channel_count, in_bandwidth, out_bandwidth) end

---The version of the bundled ENet library, "MAJOR.MINOR.PATCH" (e.g. "1.3.18").
---@return string
function enet.linked_version() end

---A host: one UDP socket and its peer slots. Destroyed by `destroy()`, by the garbage
---collector, or by `<close>` on Lua 5.4 and 5.5; a peer object keeps its host alive.
---@class enet.Host
local Host = {}

---Sends queued packets, receives datagrams, and returns at most one event, waiting up to
---`timeout` milliseconds for one. Call it every frame (timeout 0 in a game loop). Returns
---nothing when no event happened, `nil, message` on a socket error.
---```lua
---local event = host:service(100)
---while event do
---  if event.type == "receive" then print(event.data) end
---  event = host:check_events()
---end
---```
---@param timeout integer? milliseconds to wait for an event (default 0: do not wait)
---@param event table? a table to fill and return instead of allocating a new one
---@return enet.Event|nil event
---@return string? err
function Host:service(timeout, event) end

---Returns one event already received by an earlier `service` call (or by the host's thread,
---`host:background(true)`), without touching the network; nothing when there is none.
---@param event table? a table to fill and return instead of allocating a new one
---@return enet.Event|nil event
---@return string? err
function Host:check_events(event) end

---Compresses everything this host sends with ENet's range coder. Both sides must enable it,
---or they cannot talk. Cannot be turned off again.
---@return boolean ok
function Host:compress_with_range_coder() end

---Starts connecting to a host. Returns the peer at once, in state "connecting"; a "connect"
---event (with this same peer object) follows from `service` when the handshake is done, or a
---"disconnect" event when it fails. Raises `Failed to create peer` when every slot is in use.
---```lua
---local server = host:connect("127.0.0.1:6789", 2)
---```
---@param address string "ip:port", "[ipv6]:port" (zone: "[fe80::1%eth0]:port") or "hostname:port"; raises when the host's socket cannot reach that family
---@param channel_count integer? channels to open, 1..255 (default 1); the connection gets min(this, the server's limit)
---@param data integer? a 32-bit number handed to the other side's "connect" event (default 0)
---@return enet.Peer peer
function Host:connect(address, channel_count, data) end

---Sends every queued packet now, without receiving. Needed only when `service` will not be
---called again soon (for example right before quitting).
function Host:flush() end

---Queues a packet for every connected peer. Same arguments as `peer:send`.
---@param data string|number the packet's bytes
---@param channel integer? 0-based channel (default 0)
---@param flag enet.PacketFlag? default "reliable"
function Host:broadcast(data, channel, flag) end

---Sets the most channels future incoming connections may open (0 means 255).
---@param limit integer
function Host:channel_limit(limit) end

---Sets the host's bandwidth limits in bytes per second (0 = unlimited).
---@param incoming integer
---@param outgoing integer? default: the same as `incoming`
function Host:bandwidth_limit(incoming, outgoing) end

---Bytes sent by this host so far (32-bit counter, wraps).
---@return integer
function Host:total_sent_data() end

---Bytes received by this host so far (32-bit counter, wraps).
---@return integer
function Host:total_received_data() end

---ENet's millisecond clock at the last `service` or `flush` (0 before the first one).
---@return integer
function Host:service_time() end

---The number of peer slots (the `peer_count` given to `host_create`), not the number of
---connected peers.
---@return integer
function Host:peer_count() end

---The peer object of slot `index` (1-based), whatever its state. Raises
---`bad argument #1 to 'get_peer' (Invalid peer index)` outside 1..peer_count().
---@param index integer
---@return enet.Peer
function Host:get_peer(index) end

---The local address of the socket, "a.b.c.d:port" or "[ipv6]:port" ("0.0.0.0:port" for a
---"*" host, "0.0.0.0:0" for a client that has not sent anything yet).
---@return string
function Host:get_socket_address() end

---Closes the socket and frees the host at once, without telling connected peers (they time
---out): disconnect them and `flush` first. Safe to call twice. Afterwards every host method
---raises `Tried to index a nil host!` and every method of its peers `enet: peer of a destroyed host`.
function Host:destroy() end

-- Additions (not in lua-enet): statistics and tunables.

---The number of peers currently connected.
---@return integer
function Host:connected_peers() end

---Packets sent by this host so far.
---@return integer
function Host:total_sent_packets() end

---Packets received by this host so far.
---@return integer
function Host:total_received_packets() end

---The local address of the socket as three values: "a.b.c.d" (or an IPv6 address, no
---brackets), the port number and the family.
---@return string ip
---@return integer port
---@return "inet"|"inet6" family
function Host:get_socket_ip_port() end

---Gets, or sets and returns, the largest packet `send` accepts (bytes); larger sends return -1.
---@param bytes integer?
---@return integer bytes
function Host:maximum_packet_size(bytes) end

---Gets, or sets and returns, how much one peer's received data may hold until it is delivered
---(bytes, ENet's bookkeeping included; default 32 MiB).
---@param bytes integer?
---@return integer bytes
function Host:maximum_waiting_data(bytes) end

---Gets, or sets and returns, how much the peers of one IP address may hold together, past the
---64 KiB every peer keeps (bytes; default 64 MiB).
---@param bytes integer?
---@return integer bytes
function Host:maximum_address_waiting_data(bytes) end

---Gets, or sets and returns, how much all peers may hold together, past the 64 KiB every peer
---keeps (bytes; default 256 MiB).
---@param bytes integer?
---@return integer bytes
function Host:maximum_host_waiting_data(bytes) end

---What every peer's received data holds now until it is delivered (bytes, bookkeeping included).
---@return integer bytes
function Host:waiting_data() end

---Gets, or sets and returns, the MTU offered to future connections (576..4096).
---@param bytes integer?
---@return integer bytes
function Host:mtu(bytes) end

---Gets, or sets and returns, how many peers may connect from one IP address (0..4095).
---@param n integer?
---@return integer n
function Host:duplicate_peers(n) end

---Gets, or sets and returns, whether new incoming connections are ignored (true from the start
---for a host created without an address).
---@param on boolean?
---@return boolean on
function Host:refuse_connections(on) end

---Gets, or sets and returns, the defence against forged-CONNECT floods (on by default): `on`
---false gives stock ENet's handshake to new connections (handshakes under way finish as they
---began); `records`, handshakes kept without a slot under pressure (0..262144, rounded down to a
---power of 2; default 32768); `timeout`, ms an unverified handshake lives (1..60000; default
---5000). Raises `enet: out of memory` when a new record table cannot be allocated.
---@param on boolean?
---@param records integer?
---@param timeout integer?
---@return boolean on
---@return integer records
---@return integer timeout
function Host:flood_defence(on, records, timeout) end

---What the flood defence did since the host was created: VERIFY_CONNECTs sent to unverified
---addresses, records replaced before they ended, records and half-open peers that ended
---unanswered, handshakes completed by their echoes, handshakes refused (their clients told
---DISCONNECT).
---@return integer answered
---@return integer evicted
---@return integer expired
---@return integer completed
---@return integer dropped
function Host:flood_statistics() end

---Gets, or sets and returns, whether every datagram carries a CRC32 (both ends must agree).
---@param on boolean?
---@return boolean on
function Host:checksum(on) end

---Gets, or turns on or off and returns, ENet's range-coder compression (both ends must agree).
---@param on boolean?
---@return boolean|nil on
---@return string? err
function Host:compression(on) end

---Sets the socket's receive and send buffer sizes (bytes, each optional) and returns both as
---the OS reports them.
---@param receive integer?
---@param send integer?
---@return integer receive
---@return integer send
function Host:socket_buffer_sizes(receive, send) end

---Says goodbye to every peer after its queued data, refusing new connections meanwhile, and
---services the host until all are gone or `timeout_ms` passed; the rest are cut off. Events
---during the wait are consumed. The host stays usable.
---@param timeout_ms integer? default 3000
---@param data integer? for the peers' "disconnect" events (default 0)
---@return integer clean peers that acknowledged the goodbye
---@return integer forced peers that were cut off
function Host:shutdown(timeout_ms, data) end

---Starts (`true`) or stops (`false`) the OS thread that services this host while Lua does not
---(acknowledgements, pings, retransmissions, timeouts, queued sends); with no argument, says
---whether it runs. While it runs, `service(timeout)` returns an event already received, else
---does a pass of the network work itself when the thread is not in one (the thread then keeps
---out of the way for 2 ms), then waits up to `timeout` ms for an event the thread makes ready.
---Off by default. `nil, message` when it cannot start.
---@param on boolean?
---@return boolean|nil running
---@return string? message
function Host:background(on) end

---@class enet.BackgroundStats
---@field running boolean whether the thread runs now
---@field passes integer times it serviced the host
---@field socket_wakeups integer passes started by a datagram
---@field lua_wakeups integer passes started by a call that queued something
---@field timer_wakeups integer passes started by the 10 ms tick
---@field busy_us integer microseconds spent servicing
---@field errors integer passes whose socket call failed
---@field lua_passes integer passes that `service` calls made themselves

---What the background thread did, over every run of it (filled into `t` when given).
---@param t table?
---@return enet.BackgroundStats
function Host:background_stats(t) end

---One peer slot of a host: the other end of a connection. `tostring(peer)` gives its
---address, "a.b.c.d:port" or "[ipv6]:port".
---@class enet.Peer
local Peer = {}

---Queues a packet for this peer; it leaves on the next `service` or `flush` (at once when the
---host has its thread, `host:background(true)`).
---Returns 0 when queued, -1 when ENet refused it (peer not connected, channel out of range,
---packet too large).
---```lua
---peer:send("hello")                      -- reliable, channel 0
---peer:send(position, 1, "unsequenced")   -- may be lost or reordered
---```
---@param data string|number the packet's bytes (binary-safe)
---@param channel integer? 0-based channel (default 0)
---@param flag enet.PacketFlag? default "reliable"; anything else raises `Unknown packet flag: <flag>`
---@return integer result 0 or -1
function Peer:send(data, channel, flag) end

---Takes the next packet that was received for this peer but not yet returned as a "receive"
---event. Returns nothing when there is none.
---@param channel integer? accepted for compatibility and ignored
---@return string? data
---@return integer? channel
function Peer:receive(channel) end

---Asks for a graceful disconnect: what is still queued for this peer is dropped, both sides
---get a "disconnect" event once the other side has acknowledged. To say goodbye after the last
---message, use `disconnect_later`.
---@param data integer? a 32-bit number for the other side's "disconnect" event (default 0)
function Peer:disconnect(data) end

---Disconnects immediately: sends one unreliable goodbye right away and frees the slot. No
---local "disconnect" event; the other side may or may not hear about it.
---@param data integer? a 32-bit number for the other side's "disconnect" event (default 0)
function Peer:disconnect_now(data) end

---Disconnects once every queued packet has been sent and acknowledged.
---@param data integer? a 32-bit number for the other side's "disconnect" event (default 0)
function Peer:disconnect_later(data) end

---Frees the slot at once without telling the other side (it times out). No event.
function Peer:reset() end

---Sends a ping now (ENet also pings every `ping_interval` milliseconds). Only when connected.
function Peer:ping() end

---Gets, or sets and returns, the interval between pings in milliseconds (default 500; 0 sets
---the default).
---@param interval integer?
---@return integer interval
function Peer:ping_interval(interval) end

---Gets, or overwrites and returns, ENet's smoothed round-trip time in milliseconds (500 before
---the first measurement).
---@param value integer?
---@return integer rtt
function Peer:round_trip_time(value) end

---Gets, or overwrites and returns, the last measured round-trip time in milliseconds.
---@param value integer?
---@return integer rtt
function Peer:last_round_trip_time(value) end

---Configures the throttle that drops unreliable packets when the round-trip time grows.
---All three arguments are required.
---@param interval integer milliseconds over which the lowest round-trip time is measured (ENet default 5000)
---@param acceleration integer throttle step up when the connection improves, out of 32 (default 2)
---@param deceleration integer throttle step down when it worsens, out of 32 (default 2)
function Peer:throttle_configure(interval, acceleration, deceleration) end

---Without arguments returns the timeout parameters and changes nothing. With any argument sets
---all three (a nil or missing one means ENet's default) and returns the new values.
---@param limit integer? retransmission backoff limit (default 32)
---@param minimum integer? milliseconds: unacknowledged packets never drop the peer sooner than this (default 5000)
---@param maximum integer? milliseconds: drop the peer when a reliable packet stays unacknowledged this long (default 30000)
---@return integer limit
---@return integer minimum
---@return integer maximum
function Peer:timeout(limit, minimum, maximum) end

---The 1-based slot number: `host:get_peer(peer:index()) == peer`.
---@return integer
function Peer:index() end

---The connection state of this slot.
---@return enet.PeerState
function Peer:state() end

---The id of the current connection (both sides see the same value; 0 when not connected).
---The peer object stays the same across connections on its slot; this number does not.
---@return integer
function Peer:connect_id() end

-- Additions (not in lua-enet): statistics, address, per-connection data.

---The remote address as three values: "a.b.c.d" (or an IPv6 address, no brackets), the port
---number and the family ("inet" for IPv4 peers, also those of a dual-stack host).
---@return string ip
---@return integer port
---@return "inet"|"inet6" family
function Peer:address() end

---Mean loss of reliable packets, 0..1.
---@return number
function Peer:packet_loss() end

---Variance of the round-trip time in milliseconds.
---@return integer
function Peer:round_trip_time_variance() end

---The MTU of this connection in bytes.
---@return integer
function Peer:mtu() end

---The number of channels of this connection.
---@return integer
function Peer:channel_count() end

---Every statistic of the peer in one table (round_trip_time, packet_loss, bytes_sent, ...).
---@param t table? a table to fill and return instead of allocating a new one
---@return table stats
function Peer:stats(t) end

---Attaches any Lua value to the current connection; readable until the slot's next connection.
---@param value any
function Peer:set_data(value) end

---The value given to `set_data` for this connection, or nil.
---@return any
function Peer:get_data() end

return enet
