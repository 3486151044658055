//! The `enet_host` Lua class: `enet.host_create` and the host methods of the reference, plus
//! the statistics additions. Configuration methods are in config.rs; how a host object owns
//! its ENet host is in object.rs.
use crate::address;
use crate::args::Args;
use crate::background;
use crate::event::Event;
use crate::ffi::{self as enet, ENetAddress, ENetEvent, ENetHost};
use crate::lua::{self, ffi, methods, Methods, Name, Push, Raise, Ret, State};
use crate::object::{self, Admission, HostCore, PeerObject};
use crate::packet::Message;
use crate::published::{host_field, Access};
use crate::text::{text, Failure, Text};
use std::os::raw::c_int;

/// What `host_create` was asked for, once its arguments are checked.
#[derive(Clone, Copy)]
struct Config {
    bind: Option<ENetAddress>,
    /// The bind address was `[::]`, written out (no silent IPv4 fallback, prints as `[::]`).
    ipv6_any: bool,
    peers: usize,
    channels: usize,
    incoming: u32,
    outgoing: u32,
}

/// `enet.host_create([address [, peer_count [, channel_count [, in_bw [, out_bw]]]]])`.
///
/// Not a `methods!` body: it is the one call that must allocate Lua objects *before* touching
/// ENet (so a raise cannot leak a host), so it runs the phases of lua.rs twice.
///
/// # Safety
/// Called by Lua only, as a function of this module.
pub unsafe extern "C-unwind" fn lua_host_create(l: State) -> c_int {
    // SAFETY: the phases of lua.rs: bodies under lua::catch make no Lua call; the Lua calls in
    // between hold nothing that owns memory. The new core is on the stack (alive) and nothing
    // else refers to it yet, so `create` may have it by `&mut` (object.rs).
    unsafe {
        let args = Args::prepare(l, [1]);
        let config = match lua::catch(|| create_config(args)).and_then(|r| r) {
            Ok(Ok(config)) => config,
            Ok(Err(failure)) => return push_failure(l, failure),
            Err(e) => {
                ffi::lua_settop(l, args.top());
                lua::raise(l, e)
            }
        };
        ffi::lua_settop(l, 0);
        let core = object::push_new_host(l);
        match lua::catch(|| create(&mut *core, config)) {
            Ok(None) => 1,
            Ok(Some(failure)) => push_failure(l, failure),
            Err(e) => lua::raise(l, e),
        }
    }
}

/// Returns `nil, message` from `host_create`.
///
/// # Safety
/// `l` runs `host_create` (a function of this module).
unsafe fn push_failure(l: State, failure: Failure) -> c_int {
    // SAFETY: two free slots (a C function has LUA_MINSTACK).
    unsafe { failure.push(l) }
}

/// The checks of `host_create`, in the reference's order (the numbers last to first).
///
/// # Safety
/// The body contract (lua.rs), kept by `lua_host_create`'s first phase.
unsafe fn create_config(args: Args) -> Result<Result<Config, Failure>, Raise> {
    let (bind, ipv6_any) = match args.opt_bytes(1)? {
        None => (None, false),
        Some(text) => {
            let parsed = address::parse(text).map_err(|e| Raise::Msg(e.message()))?;
            let bind = address::to_enet(&parsed, address::Use::Bind)
                .map_err(|e| Raise::Msg(e.message()))?;
            (Some(bind), parsed.is_ipv6_any())
        }
    };
    let outgoing = args.opt_u32(5, 0)?;
    let incoming = args.opt_u32(4, 0)?;
    let channels = args.opt_u32(3, 1)?;
    let peers = args.opt_u32(2, 64)?;
    if peers == 0 || peers > enet::ENET_PROTOCOL_MAXIMUM_PEER_ID {
        return Ok(Err(Failure::new(
            "failed to create host (peer_count must be 1..4095)",
        )));
    }
    Ok(Ok(Config {
        bind,
        ipv6_any,
        peers: peers as usize,
        channels: channels as usize,
        incoming,
        outgoing,
    }))
}

/// Creates the ENet host into a new core: `None`, or the failure to return.
fn create(core: &mut HostCore, config: Config) -> Option<Failure> {
    if !core.reserve(config.peers) {
        return Some(Failure::new("failed to create host (out of memory)"));
    }
    let bind = config
        .bind
        .as_ref()
        .map_or(std::ptr::null(), |a| a as *const _);
    // SAFETY: `bind` is null or a valid address for the duration of the call.
    let host = unsafe {
        enet::enet_host_create(
            bind,
            config.peers,
            config.channels,
            config.incoming,
            config.outgoing,
        )
    };
    if host.is_null() {
        let failure = Failure::os("failed to create host", config.bind);
        return Some(failure.written_ipv6_any(config.ipv6_any));
    }
    // SAFETY: ENet just created the host.
    let families = unsafe { (*host).addressFamily };
    if let (true, Some(bind)) = (config.ipv6_any, config.bind) {
        if families & enet::ENET_ADDRESS_FAMILY_IPV6 == 0 {
            // ENet fell back to IPv4, as it does for "*"; "[::]" asked for IPv6.
            // SAFETY: the host is ours and nothing else refers to it yet.
            unsafe { enet::enet_host_destroy(host) };
            let why = "no IPv6 socket could be bound here, only an IPv4 one";
            let failure = Failure::because("failed to create host", bind, why);
            return Some(failure.written_ipv6_any(true));
        }
    }
    core.adopt(host);
    // SAFETY: `host` was just created and is owned by `core`.
    core.admission = Admission::for_new_host(unsafe { &mut *host }, config.bind.is_some());
    core.bound_ipv6_any = config.ipv6_any;
    None
}

/// `host:service([timeout [, event]])`
unsafe fn service(args: Args) -> Ret<Result<Option<Event>, Failure>> {
    // SAFETY: live host; the event is taken over before the body ends.
    unsafe {
        let core = args.host(1)?;
        let (host, background) = core.live_events()?;
        let timeout = args.opt_u32(2, 0)?;
        let what = "host service failed";
        if background {
            // A pass of its own when the thread is not in one, then an event (or a wait); the
            // event is taken over under the host's lock.
            return core
                .background
                .next_event(host, timeout, true, |rc, event| {
                    reply_event(args, core, host, rc, event, 3, what)
                });
        }
        let mut event = ENetEvent::empty();
        let rc = enet::enet_host_service(host, &mut event, timeout);
        reply_event(args, core, host, rc, &event, 3, what)
    }
}

/// `host:check_events([event])`
unsafe fn check_events(args: Args) -> Ret<Result<Option<Event>, Failure>> {
    // SAFETY: as `service`.
    unsafe {
        let core = args.host(1)?;
        let (host, background) = core.live_events()?;
        let what = "host check_events failed";
        if background {
            return core.background.next_event(host, 0, false, |rc, event| {
                reply_event(args, core, host, rc, event, 2, what)
            });
        }
        let mut event = ENetEvent::empty();
        let rc = enet::enet_host_check_events(host, &mut event);
        reply_event(args, core, host, rc, &event, 2, what)
    }
}

/// The result of `enet_host_service`/`check_events`: nothing when there was no event, the
/// event table, or `nil, message` on a socket error (docs/api.md, "Differences from lua-enet").
///
/// # Safety
/// The body contract (lua.rs); `event` was just filled by ENet for `host`, the live host of
/// `core`, which is argument 1 (what `Event::take` asks).
#[inline(always)]
unsafe fn reply_event(
    args: Args,
    core: &HostCore,
    host: *mut ENetHost,
    rc: c_int,
    event: &ENetEvent,
    table_arg: c_int,
    what: &'static str,
) -> Ret<Result<Option<Event>, Failure>> {
    if rc < 0 {
        return Ok(Err(Failure::os(what, None)));
    }
    if rc == 0 {
        return Ok(Ok(None));
    }
    let target = args.is_table(table_arg).then_some(table_arg);
    // SAFETY: ENet just filled `event` for this live host, the userdata at index 1.
    Ok(Ok(Some(unsafe {
        Event::take(event, core, host, 1, target)
    })))
}

/// `host:connect(address [, channel_count [, data]])`
unsafe fn connect(args: Args) -> Ret<PeerObject> {
    // SAFETY: live host; the returned peer points into its peer array.
    unsafe {
        let (_, host) = args.live_host_as(1, Access::ALL.with(Access::WAKE))?;
        let target = address::resolve(args.bytes(2)?, address::Use::Connect)
            .and_then(|target| address::reachable((*host).addressFamily, &target).map(|_| target))
            .map_err(|e| Raise::Msg(e.message()))?;
        let data = args.opt_u32(4, 0)?;
        let channels = args.opt_u32(3, 1)?;
        let peer = enet::enet_host_connect(host, &target, channels as usize, data);
        if peer.is_null() {
            return Err(Raise::Msg(c"Failed to create peer"));
        }
        Ok(PeerObject {
            host: 1,
            slot: peer.offset_from((*host).peers) as usize,
        })
    }
}

/// `host:flush()`
unsafe fn flush(args: Args) -> Ret<()> {
    let (core, host) = args.live_host(1)?;
    // SAFETY: live host.
    unsafe { enet::enet_host_flush(host) };
    // With the thread running, still under the lock: nothing queued is left for it.
    core.background.flushed();
    Ok(())
}

/// `host:broadcast(data [, channel [, flag]])`
unsafe fn broadcast(args: Args) -> Ret<()> {
    // SAFETY: live host; ENet takes the packet and frees it if no peer accepted it.
    unsafe {
        // No peer field a getter publishes changes: only the wake-up.
        let (core, host) = args.live_host_as(1, Access::WAKE)?;
        let message = Message::from_args(args)?;
        let packet = message.packet()?;
        count_broadcast(core, host, message.channel, message.data.len());
        enet::enet_host_broadcast(host, message.channel, packet);
        Ok(())
    }
}

/// Counts a broadcast on every peer that ENet will queue it for (its own acceptance test).
///
/// # Safety
/// `host` is the live ENet host of `core`, and no Lua code runs meanwhile (a body).
unsafe fn count_broadcast(core: &HostCore, host: *mut ENetHost, channel: u8, len: usize) {
    // SAFETY: live host with `peerCount` peers.
    unsafe {
        for slot in 0..(*host).peerCount {
            let peer = (*host).peers.add(slot);
            if (*peer).state == enet::ENET_PEER_STATE_CONNECTED
                && usize::from(channel) < (*peer).channelCount
                && len <= (*host).maximumPacketSize
            {
                if let Some(info) = core.connection(slot, (*peer).connectID) {
                    info.count_sent(len);
                }
            }
        }
    }
}

/// `host:channel_limit(limit)`
unsafe fn channel_limit(args: Args) -> Ret<()> {
    // SAFETY: live host.
    unsafe {
        let (_, host) = args.live_host(1)?;
        enet::enet_host_channel_limit(host, args.u32(2)? as usize);
        Ok(())
    }
}

/// `host:bandwidth_limit(incoming [, outgoing])`: outgoing defaults to incoming, which is what
/// the reference (reading argument 2 twice) gave callers that passed one value.
unsafe fn bandwidth_limit(args: Args) -> Ret<()> {
    // SAFETY: live host.
    unsafe {
        let (_, host) = args.live_host(1)?;
        let incoming = args.u32(2)?;
        let outgoing = args.opt_u32(3, incoming)?;
        enet::enet_host_bandwidth_limit(host, incoming, outgoing);
        Ok(())
    }
}

/// One 32-bit field read from the live host; in background mode, its published `field`,
/// without the lock (background.rs).
///
/// # Safety
/// The body contract (lua.rs).
#[inline(always)]
unsafe fn host_counter(args: Args, read: fn(&ENetHost) -> u32, field: usize) -> Ret<i64> {
    let core = args.host(1)?;
    // With the thread running, the published row (which it has while it runs).
    if core.live_events()?.1 {
        if let Some(value) = core.background.published_host(field) {
            return Ok(value.into());
        }
    }
    let host = core.live_as(Access::READ)?;
    // SAFETY: a live host, read by shared reference during `read` only.
    Ok(read(unsafe { &*host }).into())
}

/// One integer read from the live host, under the lock in background mode.
///
/// # Safety
/// The body contract (lua.rs).
#[inline(always)]
unsafe fn host_integer(args: Args, read: fn(&ENetHost) -> u64) -> Ret<i64> {
    let (_, host) = args.live_host_as(1, Access::READ)?;
    // SAFETY: a live host, read by shared reference for the duration of `read`.
    Ok(read(unsafe { &*host }) as i64)
}

/// `host:get_peer(index)`, 1-based; the index wraps to a C int as in the reference.
unsafe fn get_peer(args: Args) -> Ret<PeerObject> {
    // SAFETY: live host; the slot is range-checked before use.
    unsafe {
        let (_, host) = args.live_host_as(1, Access::READ)?;
        let index = args.u32(2)? as i32;
        if index < 1 || index as usize > (*host).peerCount {
            return Err(Raise::Arg(2, c"Invalid peer index"));
        }
        Ok(PeerObject {
            host: 1,
            slot: index as usize - 1,
        })
    }
}

/// The socket's bound address, `0.0.0.0:0` when the OS cannot tell.
///
/// # Safety
/// `host` is a live ENet host.
unsafe fn socket_address(host: *mut ENetHost) -> ENetAddress {
    let mut addr = ENetAddress::default();
    // SAFETY: live host; `addr` is a valid out-parameter.
    if unsafe { enet::enet_socket_get_address((*host).socket, &mut addr) } != 0 {
        addr = ENetAddress::default();
    }
    addr
}

/// Whether the socket address prints as `[::]`: only for a host bound to `"[::]"` written out.
/// A `"*"` or unbound host's dual-stack socket is bound to `::` too, but keeps printing as
/// `0.0.0.0`, which programs written for lua-enet parse.
fn shows_ipv6_any(core: &HostCore, addr: &ENetAddress) -> bool {
    core.bound_ipv6_any && addr.host == [0; 16]
}

/// `host:get_socket_address()`
unsafe fn get_socket_address(args: Args) -> Ret<Text> {
    // SAFETY: live host.
    unsafe {
        let (core, host) = args.live_host_as(1, Access::READ)?;
        let addr = socket_address(host);
        if core.bound_ipv6_any {
            return Ok(text!("{}", address::DisplayIpv6Any(&addr)));
        }
        Ok(text!("{}", address::Display(&addr)))
    }
}

/// `host:get_socket_ip_port()`: the bound ip string, port number and family.
unsafe fn get_socket_ip_port(args: Args) -> Ret<(Text, i64, Name)> {
    // SAFETY: live host.
    unsafe {
        let (core, host) = args.live_host_as(1, Access::READ)?;
        let addr = socket_address(host);
        if shows_ipv6_any(core, &addr) {
            return Ok((text!("::"), addr.port.into(), Name::Inet6));
        }
        Ok((
            text!("{}", address::Ip(&addr)),
            addr.port.into(),
            address::family(&addr),
        ))
    }
}

/// `host:destroy()`, `__gc` and `__close`: destroys the ENet host once (object.rs).
unsafe fn destroy(args: Args) -> Ret<()> {
    args.host(1)?.destroy();
    Ok(())
}

/// `host:shutdown([timeout_ms [, data]])`: says goodbye to every peer after its queued data
/// (`disconnect_later`), refuses new connections meanwhile, and services the host until every
/// peer is gone or `timeout_ms` (default 3000) passes; the rest are disconnected at once.
/// Events during the wait are consumed (received packets dropped). Returns the number of peers
/// that disconnected cleanly and the number that had to be cut off. The host stays usable.
unsafe fn shutdown(args: Args) -> Ret<(i64, i64)> {
    // SAFETY: live host; peers are slots of its array; received packets are ours to free. The
    // loop runs ENet only: no Lua code can run until the body returns.
    unsafe {
        let (core, host) = args.live_host(1)?;
        let timeout = args.opt_u32(2, 3000)?;
        let data = args.opt_u32(3, 0)?;
        let was_refusing = core.admission.refusing();
        core.admission.set_refusing(&mut *host, true);

        let count = (*host).peerCount;
        let active =
            |slot: usize| (*(*host).peers.add(slot)).state != enet::ENET_PEER_STATE_DISCONNECTED;
        for slot in (0..count).filter(|&s| active(s)) {
            enet::enet_peer_disconnect_later((*host).peers.add(slot), data);
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(timeout.into());
        let mut clean = 0;
        while (0..count).any(active) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            let mut event = ENetEvent::empty();
            match enet::enet_host_service(host, &mut event, left.as_millis().min(10) as u32) {
                rc if rc < 0 => break,
                0 => {}
                _ if event.r#type == enet::ENET_EVENT_TYPE_RECEIVE => {
                    enet::enet_packet_destroy(event.packet)
                }
                _ if event.r#type == enet::ENET_EVENT_TYPE_DISCONNECT => clean += 1,
                _ => {}
            }
        }
        let mut forced = 0;
        for slot in (0..count).filter(|&s| active(s)) {
            enet::enet_peer_disconnect_now((*host).peers.add(slot), data);
            forced += 1;
        }
        enet::enet_host_flush(host);
        core.admission.set_refusing(&mut *host, was_refusing);
        Ok((clean, forced))
    }
}

/// `host:background([on])`: starts (`true`) or stops (`false`) the thread that services the
/// host (background.rs); returns whether it runs, or `nil, message` when it cannot start.
unsafe fn background(args: Args) -> Ret<Result<bool, Failure>> {
    let (core, _) = args.live_host_as(1, Access::READ)?;
    if !args.absent(2) {
        if args.truthy(2) {
            if !core.start_background() {
                let what = "could not start the background thread";
                return Ok(Err(Failure::os(what, None)));
            }
        } else {
            core.stop_background();
        }
    }
    Ok(Ok(core.background.running()))
}

/// `host:background_stats([t])`: what the background thread did (background.rs).
unsafe fn background_stats(args: Args) -> Ret<BackgroundStats> {
    let (core, _) = args.live_host_as(1, Access::READ)?;
    let (running, counters) = core.background.stats();
    Ok(BackgroundStats {
        running,
        counters,
        fill_argument: args.is_table(2),
    })
}

/// Whether the background thread runs and what it did, over every run.
#[derive(Clone, Copy)]
struct BackgroundStats {
    running: bool,
    counters: [u64; background::COUNTERS],
    /// Fill the caller's table (argument 2) instead of a new one.
    fill_argument: bool,
}

impl Push for BackgroundStats {
    unsafe fn push(self, l: State) -> c_int {
        // SAFETY: plain table writes with at most three extra stack slots (raw sets: a
        // caller's `__newindex` never runs).
        unsafe {
            if self.fill_argument {
                ffi::lua_settop(l, 2);
            } else {
                ffi::lua_settop(l, 1);
                ffi::lua_createtable(l, 0, background::COUNTERS as c_int + 1);
            }
            ffi::lua_pushstring(l, c"running".as_ptr());
            ffi::lua_pushboolean(l, c_int::from(self.running));
            ffi::lua_rawset(l, -3);
            for (name, value) in background::COUNTER_NAMES.iter().zip(self.counters) {
                ffi::lua_pushstring(l, name.as_ptr());
                ffi::lua_pushinteger(l, value as ffi::lua_Integer);
                ffi::lua_rawset(l, -3);
            }
        }
        1
    }
}

/// The host methods of the reference and the statistics additions (config.rs has the rest).
pub const METHODS: Methods = methods! {
    c"service" => service,
    c"check_events" => check_events,
    c"connect" [2] => connect,
    c"flush" => flush,
    c"broadcast" [2, 4] => broadcast,
    c"channel_limit" => channel_limit,
    c"bandwidth_limit" => bandwidth_limit,
    c"total_sent_data" => host_counter(|h| h.totalSentData, host_field::TOTAL_SENT_DATA),
    c"total_received_data" =>
        host_counter(|h| h.totalReceivedData, host_field::TOTAL_RECEIVED_DATA),
    c"service_time" => host_counter(|h| h.serviceTime, host_field::SERVICE_TIME),
    c"peer_count" => host_counter(|h| h.peerCount as u32, host_field::PEER_COUNT),
    c"get_peer" => get_peer,
    c"get_socket_address" => get_socket_address,
    c"destroy" => destroy,
    // additions
    c"connected_peers" => host_counter(|h| h.connectedPeers as u32, host_field::CONNECTED_PEERS),
    c"total_sent_packets" => host_counter(|h| h.totalSentPackets, host_field::TOTAL_SENT_PACKETS),
    c"total_received_packets" =>
        host_counter(|h| h.totalReceivedPackets, host_field::TOTAL_RECEIVED_PACKETS),
    c"get_socket_ip_port" => get_socket_ip_port,
    // bytes held for every peer's incoming commands until the application receives them,
    // ENet's bookkeeping included
    c"waiting_data" => host_integer(|h| h.totalWaitingData as u64),
    c"shutdown" => shutdown,
    c"background" => background,
    c"background_stats" => background_stats,
};

/// Metamethods of the host metatable besides `__index`.
#[cfg(any(feature = "lua54", feature = "lua55"))]
pub const META: Methods = methods! {
    c"__gc" => destroy,
    c"__close" => destroy,
};
#[cfg(not(any(feature = "lua54", feature = "lua55")))]
pub const META: Methods = methods! {
    c"__gc" => destroy,
};
