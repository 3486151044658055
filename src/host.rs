//! The `enet_host` Lua class: `enet.host_create` and the host methods.
//!
//! A host userdata holds a [`HostUd`]. Its user value is the host's peer cache: a weak-valued
//! table `slot -> peer userdata` that also holds the host userdata itself as a (strong) key.
//! Every peer userdata has that same table as its user value, so a live peer keeps its host
//! alive (SPEC §7), and peers of different hosts can never be the same object.
use crate::address;
use crate::event::push_event;
use crate::ffi::{self as enet, ENetEvent, ENetHost, ENetPacket};
use crate::lua::{
    check_bytes, check_u32, ffi, lua_fn, opt_bytes, opt_u32, push_bytes, to_udata, type_error,
    Raise, Ret, State, HOST_MT,
};
use crate::peer::{self, PeerUd};
use std::os::raw::c_int;
use std::ptr;

/// The block inside a host userdata.
#[repr(C)]
pub struct HostUd {
    /// The ENet host; null once destroyed. Read only through [`check_host`] / [`live_host`].
    pub host: *mut ENetHost,
    /// A received packet while its bytes are being copied into Lua. If a memory error interrupts
    /// the copy, the packet is freed by the next call (or by `destroy`) instead of leaking.
    pub pending: *mut ENetPacket,
}

impl HostUd {
    /// Frees a packet left behind by an interrupted copy.
    ///
    /// # Safety
    /// `pending` is null or a packet we own.
    pub unsafe fn free_pending(&mut self) {
        if !self.pending.is_null() {
            // SAFETY: a non-null `pending` is a packet ENet handed over and nobody else frees.
            unsafe { enet::enet_packet_destroy(self.pending) };
            self.pending = ptr::null_mut();
        }
    }
}

/// The host userdata at `idx`, or a type error naming `enet_host`.
///
/// # Safety
/// `l` must run a function of this module.
pub unsafe fn check_host_ud(l: State, idx: c_int) -> Result<*mut HostUd, Raise> {
    // SAFETY: to_udata checks the metatable, so the block is a HostUd.
    let ud = unsafe { to_udata(l, idx, HOST_MT) } as *mut HostUd;
    if ud.is_null() {
        // SAFETY: forwarded.
        return Err(unsafe { type_error(l, idx, "enet_host") });
    }
    Ok(ud)
}

/// The live ENet host behind a host block, or the reference's error once it is destroyed.
///
/// # Safety
/// `ud` must point to a HostUd kept alive by the caller.
#[inline]
pub unsafe fn live_host(ud: *mut HostUd) -> Result<*mut ENetHost, Raise> {
    // SAFETY: by contract `ud` is valid.
    let host = unsafe { (*ud).host };
    if host.is_null() {
        return Err(Raise::Msg("Tried to index a nil host!".into()));
    }
    Ok(host)
}

/// Argument 1 as a live ENet host.
///
/// # Safety
/// `l` must run a function of this module.
#[inline]
unsafe fn check_host(l: State) -> Result<*mut ENetHost, Raise> {
    // SAFETY: the userdata sits in argument 1 for the whole call, which keeps it alive.
    unsafe { live_host(check_host_ud(l, 1)?) }
}

/// `enet.host_create([address [, peer_count [, channel_count [, in_bw [, out_bw]]]]])`
unsafe fn host_create(l: State) -> Ret {
    // SAFETY: arguments are read from a valid state; the userdata is set up completely (and
    // given its __gc) before the ENet host exists, so a Lua memory error cannot leak the host.
    unsafe {
        let bind = match opt_bytes(l, 1)? {
            None => None,
            Some(text) => Some(address::resolve(text).map_err(|e| Raise::Msg(e.message().into()))?),
        };
        // The reference checks the numbers from the last to the first.
        let out_bw = opt_u32(l, 5, 0)?;
        let in_bw = opt_u32(l, 4, 0)?;
        let channels = opt_u32(l, 3, 1)?;
        let peers = opt_u32(l, 2, 64)?;
        if peers == 0 || peers as usize > enet::ENET_PROTOCOL_MAXIMUM_PEER_ID {
            return Ok(push_failure(
                l,
                "failed to create host (peer_count must be 1..4095)",
            ));
        }

        ffi::lua_settop(l, 0);
        let ud = ffi::lua_newuserdata(l, std::mem::size_of::<HostUd>()) as *mut HostUd;
        ptr::write(
            ud,
            HostUd {
                host: ptr::null_mut(),
                pending: ptr::null_mut(),
            },
        );
        ffi::lua_pushvalue(l, ffi::lua_upvalueindex(HOST_MT));
        ffi::lua_setmetatable(l, 1);
        new_peer_cache(l, 1);
        ffi::lua_setuservalue(l, 1);

        let bind_ptr = bind.as_ref().map_or(ptr::null(), |a| a as *const _);
        let host =
            enet::enet_host_create(bind_ptr, peers as usize, channels as usize, in_bw, out_bw);
        if host.is_null() {
            let cause = std::io::Error::last_os_error();
            let what = match &bind {
                Some(a) => format!("failed to create host ({}: {cause})", address::format(a)),
                None => format!("failed to create host ({cause})"),
            };
            return Ok(push_failure(l, &what));
        }
        (*ud).host = host;
        Ok(1)
    }
}

/// Pushes `nil, "enet: <what>"`, the module's failure value.
unsafe fn push_failure(l: State, what: &str) -> c_int {
    // SAFETY: two free stack slots are guaranteed to a C function.
    unsafe {
        ffi::lua_pushnil(l);
        push_bytes(l, format!("enet: {what}").as_bytes());
    }
    2
}

/// Pushes the weak-valued peer cache of the host userdata at `host_idx` (absolute).
unsafe fn new_peer_cache(l: State, host_idx: c_int) {
    // SAFETY: plain table construction on a valid state.
    unsafe {
        ffi::lua_createtable(l, 0, 1);
        ffi::lua_createtable(l, 0, 1);
        crate::lua::push_cstr(l, c"v");
        ffi::lua_setfield(l, -2, c"__mode".as_ptr());
        ffi::lua_setmetatable(l, -2);
        ffi::lua_pushvalue(l, host_idx);
        ffi::lua_pushboolean(l, 1);
        ffi::lua_rawset(l, -3);
    }
}

/// Pushes the one peer object of slot `slot` of the host userdata at stack index 1, creating
/// and caching it on first use.
///
/// # Safety
/// Argument 1 must be a host userdata of this module with a live host that has `slot`.
pub unsafe fn push_peer(l: State, slot: usize) {
    // SAFETY: the cache is the host's user value (set in host_create); the new peer block is
    // initialised before anything can observe it.
    unsafe {
        ffi::lua_getuservalue(l, 1);
        if ffi::lua_rawgeti(l, -1, slot as ffi::lua_Integer + 1) == ffi::LUA_TUSERDATA {
            ffi::lua_remove(l, -2);
            return;
        }
        ffi::lua_pop(l, 1);
        let ud = ffi::lua_newuserdata(l, std::mem::size_of::<PeerUd>()) as *mut PeerUd;
        ptr::write(
            ud,
            PeerUd::new(ffi::lua_touserdata(l, 1) as *mut HostUd, slot),
        );
        ffi::lua_pushvalue(l, ffi::lua_upvalueindex(crate::lua::PEER_MT));
        ffi::lua_setmetatable(l, -2);
        ffi::lua_pushvalue(l, -2);
        ffi::lua_setuservalue(l, -2);
        ffi::lua_pushvalue(l, -1);
        ffi::lua_rawseti(l, -3, slot as ffi::lua_Integer + 1);
        ffi::lua_remove(l, -2);
    }
}

/// The slot of `peer` in `host`'s peer array.
///
/// # Safety
/// `peer` must point into `host`'s peer array.
pub unsafe fn slot_of(host: *mut ENetHost, peer: *mut enet::ENetPeer) -> usize {
    // SAFETY: both pointers are in the same allocation by contract.
    unsafe { peer.offset_from((*host).peers) as usize }
}

/// `host:service([timeout [, event]])`
unsafe fn service(l: State) -> Ret {
    // SAFETY: `host` is live for the whole call (checked, and self is on the stack).
    unsafe {
        let host = check_host(l)?;
        let timeout = opt_u32(l, 2, 0)?;
        (*check_host_ud(l, 1)?).free_pending();
        let mut event = ENetEvent::empty();
        let rc = enet::enet_host_service(host, &mut event, timeout);
        dispatch(l, rc, &event, 3, "service")
    }
}

/// `host:check_events([event])`
unsafe fn check_events(l: State) -> Ret {
    // SAFETY: as `service`.
    unsafe {
        let host = check_host(l)?;
        (*check_host_ud(l, 1)?).free_pending();
        let mut event = ENetEvent::empty();
        let rc = enet::enet_host_check_events(host, &mut event);
        dispatch(l, rc, &event, 2, "check_events")
    }
}

/// Turns the result of `enet_host_service`/`check_events` into Lua results: nothing when there
/// was no event, the event table, or `nil, message` on a socket error (SPEC §8).
unsafe fn dispatch(l: State, rc: c_int, event: &ENetEvent, table_arg: c_int, what: &str) -> Ret {
    // SAFETY: `event` was filled by ENet for the host in argument 1.
    unsafe {
        if rc < 0 {
            let cause = std::io::Error::last_os_error();
            return Ok(push_failure(l, &format!("host {what} failed ({cause})")));
        }
        if rc == 0 {
            return Ok(0);
        }
        let target = (ffi::lua_type(l, table_arg) == ffi::LUA_TTABLE).then_some(table_arg);
        push_event(l, event, target);
        Ok(1)
    }
}

/// `host:compress_with_range_coder()`
unsafe fn compress_with_range_coder(l: State) -> Ret {
    // SAFETY: live host.
    unsafe {
        let host = check_host(l)?;
        let ok = enet::enet_host_compress_with_range_coder(host) == 0;
        ffi::lua_pushboolean(l, ok as c_int);
        Ok(1)
    }
}

/// `host:connect(address [, channel_count [, data]])`
unsafe fn connect(l: State) -> Ret {
    // SAFETY: live host; the returned peer points into its peer array.
    unsafe {
        let host = check_host(l)?;
        let target =
            address::resolve(check_bytes(l, 2)?).map_err(|e| Raise::Msg(e.message().into()))?;
        let data = opt_u32(l, 4, 0)?;
        let channels = opt_u32(l, 3, 1)?;
        let peer = enet::enet_host_connect(host, &target, channels as usize, data);
        if peer.is_null() {
            return Err(Raise::Msg("Failed to create peer".into()));
        }
        push_peer(l, slot_of(host, peer));
        Ok(1)
    }
}

/// `host:flush()`
unsafe fn flush(l: State) -> Ret {
    // SAFETY: live host.
    unsafe { enet::enet_host_flush(check_host(l)?) };
    Ok(0)
}

/// `host:broadcast(data [, channel [, flag]])`
unsafe fn broadcast(l: State) -> Ret {
    // SAFETY: live host; ENet takes the packet and frees it if no peer accepted it.
    unsafe {
        let host = check_host(l)?;
        let packet = peer::packet_from_args(l)?;
        let channel = opt_u32(l, 3, 0)? as u8;
        enet::enet_host_broadcast(host, channel, packet);
        Ok(0)
    }
}

/// `host:channel_limit(limit)`
unsafe fn channel_limit(l: State) -> Ret {
    // SAFETY: live host.
    unsafe {
        let host = check_host(l)?;
        enet::enet_host_channel_limit(host, check_u32(l, 2)? as usize);
        Ok(0)
    }
}

/// `host:bandwidth_limit(incoming [, outgoing])`: outgoing defaults to incoming, which is what
/// the reference (reading argument 2 twice) gave callers that passed one value.
unsafe fn bandwidth_limit(l: State) -> Ret {
    // SAFETY: live host.
    unsafe {
        let host = check_host(l)?;
        let incoming = check_u32(l, 2)?;
        let outgoing = opt_u32(l, 3, incoming)?;
        enet::enet_host_bandwidth_limit(host, incoming, outgoing);
        Ok(0)
    }
}

/// Pushes one integer read from the live host.
unsafe fn push_host_integer(l: State, read: fn(&ENetHost) -> u64) -> Ret {
    // SAFETY: live host, read by shared reference for the duration of `read`.
    unsafe {
        let host = check_host(l)?;
        ffi::lua_pushinteger(l, read(&*host) as ffi::lua_Integer);
        Ok(1)
    }
}

unsafe fn total_sent_data(l: State) -> Ret {
    // SAFETY: forwarded.
    unsafe { push_host_integer(l, |h| h.totalSentData.into()) }
}

unsafe fn total_received_data(l: State) -> Ret {
    // SAFETY: forwarded.
    unsafe { push_host_integer(l, |h| h.totalReceivedData.into()) }
}

unsafe fn service_time(l: State) -> Ret {
    // SAFETY: forwarded.
    unsafe { push_host_integer(l, |h| h.serviceTime.into()) }
}

unsafe fn peer_count(l: State) -> Ret {
    // SAFETY: forwarded.
    unsafe { push_host_integer(l, |h| h.peerCount as u64) }
}

/// `host:get_peer(index)`, 1-based; the index wraps to a C int as in the reference.
unsafe fn get_peer(l: State) -> Ret {
    // SAFETY: live host; the slot is range-checked before use.
    unsafe {
        let host = check_host(l)?;
        let index = check_u32(l, 2)? as i32;
        if index < 1 || index as usize > (*host).peerCount {
            return Err(Raise::Arg(2, "Invalid peer index".into()));
        }
        push_peer(l, index as usize - 1);
        Ok(1)
    }
}

/// `host:get_socket_address()`
unsafe fn get_socket_address(l: State) -> Ret {
    // SAFETY: live host; `addr` is a valid out-parameter.
    unsafe {
        let host = check_host(l)?;
        let mut addr = enet::ENetAddress::default();
        if enet::enet_socket_get_address((*host).socket, &mut addr) != 0 {
            addr = enet::ENetAddress::default();
        }
        push_bytes(l, address::format(&addr).as_bytes());
        Ok(1)
    }
}

/// `host:destroy()`, `__gc` and `__close`: destroys the ENet host once.
unsafe fn destroy(l: State) -> Ret {
    // SAFETY: the host block is checked; peer blocks found in the cache are ours (metatable
    // checked by peer::remember_address); the host is destroyed after the last read of it.
    unsafe {
        let ud = check_host_ud(l, 1)?;
        let host = (*ud).host;
        if host.is_null() {
            return Ok(0);
        }
        // Peers outlive the host's memory: give each live peer object its last address.
        ffi::lua_settop(l, 1);
        ffi::lua_getuservalue(l, 1);
        if ffi::lua_type(l, 2) == ffi::LUA_TTABLE {
            ffi::lua_pushnil(l);
            while ffi::lua_next(l, 2) != 0 {
                peer::remember_address(l, -1, host);
                ffi::lua_pop(l, 1);
            }
        }
        (*ud).free_pending();
        (*ud).host = ptr::null_mut();
        enet::enet_host_destroy(host);
        Ok(0)
    }
}

lua_fn!(lua_host_create => host_create);
lua_fn!(lua_service => service);
lua_fn!(lua_check_events => check_events);
lua_fn!(lua_compress_with_range_coder => compress_with_range_coder);
lua_fn!(lua_connect => connect);
lua_fn!(lua_flush => flush);
lua_fn!(lua_broadcast => broadcast);
lua_fn!(lua_channel_limit => channel_limit);
lua_fn!(lua_bandwidth_limit => bandwidth_limit);
lua_fn!(lua_total_sent_data => total_sent_data);
lua_fn!(lua_total_received_data => total_received_data);
lua_fn!(lua_service_time => service_time);
lua_fn!(lua_peer_count => peer_count);
lua_fn!(lua_get_peer => get_peer);
lua_fn!(lua_get_socket_address => get_socket_address);
lua_fn!(lua_destroy => destroy);

/// The host methods, as Lua sees them.
pub const METHODS: &[(&std::ffi::CStr, ffi::lua_CFunction)] = &[
    (c"service", lua_service),
    (c"check_events", lua_check_events),
    (c"compress_with_range_coder", lua_compress_with_range_coder),
    (c"connect", lua_connect),
    (c"flush", lua_flush),
    (c"broadcast", lua_broadcast),
    (c"channel_limit", lua_channel_limit),
    (c"bandwidth_limit", lua_bandwidth_limit),
    (c"total_sent_data", lua_total_sent_data),
    (c"total_received_data", lua_total_received_data),
    (c"service_time", lua_service_time),
    (c"peer_count", lua_peer_count),
    (c"get_peer", lua_get_peer),
    (c"get_socket_address", lua_get_socket_address),
    (c"destroy", lua_destroy),
];

/// Metamethods of the host metatable besides `__index`.
pub const META: &[(&std::ffi::CStr, ffi::lua_CFunction)] = &[
    (c"__gc", lua_destroy),
    #[cfg(any(feature = "lua54", feature = "lua55"))]
    (c"__close", lua_destroy),
];
