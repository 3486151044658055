//! The `enet_peer` Lua class: one userdata per slot of a host (see host.rs for how the objects
//! are cached and how they keep their host alive).
use crate::address;
use crate::ffi::{self as enet, ENetAddress, ENetHost, ENetPacket, ENetPeer};
use crate::host::HostUd;
use crate::lua::{
    check_bytes, check_u32, ffi, is_absent, lua_fn, opt_bytes, opt_u32, push_bytes, to_udata,
    type_error, Raise, Ret, State, PEER_MT,
};
use std::os::raw::c_int;

/// The block inside a peer userdata.
#[repr(C)]
pub struct PeerUd {
    /// The host userdata's block, kept alive through this userdata's user value.
    host: *mut HostUd,
    /// 0-based slot in the host's peer array (always < peerCount).
    slot: usize,
    /// The address the slot had when its host was destroyed, for `tostring`.
    last_address: ENetAddress,
}

impl PeerUd {
    pub fn new(host: *mut HostUd, slot: usize) -> Self {
        PeerUd {
            host,
            slot,
            last_address: ENetAddress::default(),
        }
    }
}

/// The peer userdata at `idx`, or a type error naming `enet_peer`.
unsafe fn check_peer_ud(l: State, idx: c_int) -> Result<*mut PeerUd, Raise> {
    // SAFETY: to_udata checks the metatable, so the block is a PeerUd.
    let ud = unsafe { to_udata(l, idx, PEER_MT) } as *mut PeerUd;
    if ud.is_null() {
        // SAFETY: forwarded.
        return Err(unsafe { type_error(l, idx, "enet_peer") });
    }
    Ok(ud)
}

/// The one way from a peer object to its ENet peer: argument 1 as a peer of a live host.
///
/// # Safety
/// `l` must run a function of this module.
#[inline]
unsafe fn check_peer(l: State) -> Result<*mut ENetPeer, Raise> {
    // SAFETY: the peer block keeps its host block alive (user value chain, host.rs); a non-null
    // host pointer means the ENet host is alive, and `slot < peerCount` was checked when the
    // object was made.
    unsafe {
        let ud = check_peer_ud(l, 1)?;
        let host = (*(*ud).host).host;
        if host.is_null() {
            return Err(Raise::Msg("enet: peer of a destroyed host".into()));
        }
        Ok((*host).peers.add((*ud).slot))
    }
}

/// Records the current address of the peer object at `idx` (if it is one of ours) before
/// `host` is destroyed.
///
/// # Safety
/// `l` must run a function of this module and `host` must be the live host of that peer.
pub unsafe fn remember_address(l: State, idx: c_int, host: *mut ENetHost) {
    // SAFETY: the metatable check proves the block is a PeerUd whose slot is within `host`.
    unsafe {
        let ud = to_udata(l, idx, PEER_MT) as *mut PeerUd;
        if !ud.is_null() {
            (*ud).last_address = (*(*host).peers.add((*ud).slot)).address;
        }
    }
}

/// Builds a packet from `data` (argument 2) and `flag` (argument 4), checked in the reference's
/// order: data, then flag (the caller checks the channel, argument 3, afterwards).
///
/// # Safety
/// `l` must be a valid state; the caller owns the returned packet.
pub unsafe fn packet_from_args(l: State) -> Result<*mut ENetPacket, Raise> {
    // SAFETY: the data slice borrows argument 2, which stays on the stack; ENet copies it.
    unsafe {
        let data = check_bytes(l, 2)?;
        let flags = match opt_bytes(l, 4)? {
            None | Some(b"reliable") => enet::ENET_PACKET_FLAG_RELIABLE,
            Some(b"unreliable") => 0,
            Some(b"unsequenced") => enet::ENET_PACKET_FLAG_UNSEQUENCED,
            Some(other) => {
                let flag = String::from_utf8_lossy(other);
                return Err(Raise::Msg(format!("Unknown packet flag: {flag}").into()));
            }
        };
        let packet = enet::enet_packet_create(data.as_ptr().cast(), data.len(), flags);
        if packet.is_null() {
            return Err(Raise::Msg("Failed to create packet".into()));
        }
        Ok(packet)
    }
}

/// `peer:send(data [, channel [, flag]])`: 0 when queued, -1 when ENet refused (the packet is
/// then freed, unlike the reference, which leaked it).
unsafe fn send(l: State) -> Ret {
    // SAFETY: live peer; a refused packet that no queue references is ours to free.
    unsafe {
        let peer = check_peer(l)?;
        let packet = packet_from_args(l)?;
        let channel = match opt_u32(l, 3, 0) {
            Ok(c) => c as u8,
            Err(e) => {
                enet::enet_packet_destroy(packet);
                return Err(e);
            }
        };
        let rc = enet::enet_peer_send(peer, channel, packet);
        if rc < 0 && (*packet).referenceCount == 0 {
            enet::enet_packet_destroy(packet);
        }
        ffi::lua_pushinteger(l, if rc < 0 { -1 } else { 0 });
        Ok(1)
    }
}

/// `peer:receive()`: the next queued packet's data and channel, or nothing.
unsafe fn receive(l: State) -> Ret {
    // SAFETY: live peer; the packet is parked in `pending` while Lua copies it, then freed.
    unsafe {
        let peer = check_peer(l)?;
        opt_u32(l, 2, 0)?; // validated for compatibility, has no effect (as in the reference)
        let hud = (*check_peer_ud(l, 1)?).host;
        (*hud).free_pending();
        let mut channel = 0u8;
        let packet = enet::enet_peer_receive(peer, &mut channel);
        if packet.is_null() {
            return Ok(0);
        }
        (*hud).pending = packet;
        push_bytes(l, crate::event::packet_bytes(packet));
        (*hud).free_pending();
        ffi::lua_pushinteger(l, channel.into());
        Ok(2)
    }
}

/// Calls an ENet peer function that takes an optional 32-bit `data` argument.
unsafe fn with_data(l: State, f: unsafe extern "C" fn(*mut ENetPeer, u32)) -> Ret {
    // SAFETY: live peer.
    unsafe {
        let peer = check_peer(l)?;
        f(peer, opt_u32(l, 2, 0)?);
        Ok(0)
    }
}

unsafe fn disconnect(l: State) -> Ret {
    // SAFETY: forwarded.
    unsafe { with_data(l, enet::enet_peer_disconnect) }
}

unsafe fn disconnect_now(l: State) -> Ret {
    // SAFETY: forwarded.
    unsafe { with_data(l, enet::enet_peer_disconnect_now) }
}

unsafe fn disconnect_later(l: State) -> Ret {
    // SAFETY: forwarded.
    unsafe { with_data(l, enet::enet_peer_disconnect_later) }
}

unsafe fn ping(l: State) -> Ret {
    // SAFETY: live peer.
    unsafe { enet::enet_peer_ping(check_peer(l)?) };
    Ok(0)
}

unsafe fn reset(l: State) -> Ret {
    // SAFETY: live peer.
    unsafe { enet::enet_peer_reset(check_peer(l)?) };
    Ok(0)
}

/// `peer:ping_interval([interval])`: sets when given, returns the current interval.
unsafe fn ping_interval(l: State) -> Ret {
    // SAFETY: live peer.
    unsafe {
        let peer = check_peer(l)?;
        if !is_absent(l, 2) {
            enet::enet_peer_ping_interval(peer, check_u32(l, 2)?);
        }
        ffi::lua_pushinteger(l, (*peer).pingInterval.into());
        Ok(1)
    }
}

/// Getter/setter of one u32 statistic of the peer (the reference writes it directly).
unsafe fn peer_u32_field(l: State, field: fn(&mut ENetPeer) -> &mut u32) -> Ret {
    // SAFETY: live peer, borrowed mutably only inside this call.
    unsafe {
        let peer = &mut *check_peer(l)?;
        if !is_absent(l, 2) {
            *field(peer) = check_u32(l, 2)?;
        }
        ffi::lua_pushinteger(l, (*field(peer)).into());
        Ok(1)
    }
}

unsafe fn round_trip_time(l: State) -> Ret {
    // SAFETY: forwarded.
    unsafe { peer_u32_field(l, |p| &mut p.roundTripTime) }
}

unsafe fn last_round_trip_time(l: State) -> Ret {
    // SAFETY: forwarded.
    unsafe { peer_u32_field(l, |p| &mut p.lastRoundTripTime) }
}

/// `peer:throttle_configure(interval, acceleration, deceleration)`
unsafe fn throttle_configure(l: State) -> Ret {
    // SAFETY: live peer.
    unsafe {
        let peer = check_peer(l)?;
        let interval = check_u32(l, 2)?;
        let acceleration = check_u32(l, 3)?;
        let deceleration = check_u32(l, 4)?;
        enet::enet_peer_throttle_configure(peer, interval, acceleration, deceleration);
        Ok(0)
    }
}

/// `peer:timeout([limit [, minimum [, maximum]]])`: with no argument a pure getter (SPEC §8);
/// otherwise sets all three, nil or absent meaning ENet's default. Returns the three values.
unsafe fn timeout(l: State) -> Ret {
    // SAFETY: live peer.
    unsafe {
        let peer = check_peer(l)?;
        if !(is_absent(l, 2) && is_absent(l, 3) && is_absent(l, 4)) {
            let maximum = opt_u32(l, 4, 0)?;
            let minimum = opt_u32(l, 3, 0)?;
            let limit = opt_u32(l, 2, 0)?;
            enet::enet_peer_timeout(peer, limit, minimum, maximum);
        }
        ffi::lua_pushinteger(l, (*peer).timeoutLimit.into());
        ffi::lua_pushinteger(l, (*peer).timeoutMinimum.into());
        ffi::lua_pushinteger(l, (*peer).timeoutMaximum.into());
        Ok(3)
    }
}

/// `peer:index()`, 1-based.
unsafe fn index(l: State) -> Ret {
    // SAFETY: the object's slot is fixed; checking the host keeps the reference's behaviour of
    // raising on a destroyed host.
    unsafe {
        check_peer(l)?;
        let slot = (*check_peer_ud(l, 1)?).slot;
        ffi::lua_pushinteger(l, slot as ffi::lua_Integer + 1);
        Ok(1)
    }
}

const STATES: [&std::ffi::CStr; 10] = [
    c"disconnected",
    c"connecting",
    c"acknowledging_connect",
    c"connection_pending",
    c"connection_succeeded",
    c"connected",
    c"disconnect_later",
    c"disconnecting",
    c"acknowledging_disconnect",
    c"zombie",
];

unsafe fn state(l: State) -> Ret {
    // SAFETY: live peer.
    unsafe {
        let peer = check_peer(l)?;
        let name = usize::try_from((*peer).state)
            .ok()
            .and_then(|s| STATES.get(s))
            .copied()
            .unwrap_or(c"unknown");
        crate::lua::push_cstr(l, name);
        Ok(1)
    }
}

unsafe fn connect_id(l: State) -> Ret {
    // SAFETY: live peer.
    unsafe {
        let peer = check_peer(l)?;
        ffi::lua_pushinteger(l, (*peer).connectID.into());
        Ok(1)
    }
}

/// `tostring(peer)`: `a.b.c.d:port`, the last known address once the host is gone.
unsafe fn tostring(l: State) -> Ret {
    // SAFETY: the block is ours (checked); the ENet peer is read only while its host is live.
    unsafe {
        let ud = check_peer_ud(l, 1)?;
        let host = (*(*ud).host).host;
        let addr = if host.is_null() {
            (*ud).last_address
        } else {
            (*(*host).peers.add((*ud).slot)).address
        };
        push_bytes(l, address::format(&addr).as_bytes());
        Ok(1)
    }
}

lua_fn!(lua_send => send);
lua_fn!(lua_receive => receive);
lua_fn!(lua_disconnect => disconnect);
lua_fn!(lua_disconnect_now => disconnect_now);
lua_fn!(lua_disconnect_later => disconnect_later);
lua_fn!(lua_ping => ping);
lua_fn!(lua_reset => reset);
lua_fn!(lua_ping_interval => ping_interval);
lua_fn!(lua_round_trip_time => round_trip_time);
lua_fn!(lua_last_round_trip_time => last_round_trip_time);
lua_fn!(lua_throttle_configure => throttle_configure);
lua_fn!(lua_timeout => timeout);
lua_fn!(lua_index => index);
lua_fn!(lua_state => state);
lua_fn!(lua_connect_id => connect_id);
lua_fn!(lua_tostring => tostring);

/// The peer methods, as Lua sees them.
pub const METHODS: &[(&std::ffi::CStr, ffi::lua_CFunction)] = &[
    (c"connect_id", lua_connect_id),
    (c"disconnect", lua_disconnect),
    (c"disconnect_now", lua_disconnect_now),
    (c"disconnect_later", lua_disconnect_later),
    (c"index", lua_index),
    (c"ping", lua_ping),
    (c"ping_interval", lua_ping_interval),
    (c"reset", lua_reset),
    (c"send", lua_send),
    (c"state", lua_state),
    (c"receive", lua_receive),
    (c"round_trip_time", lua_round_trip_time),
    (c"last_round_trip_time", lua_last_round_trip_time),
    (c"throttle_configure", lua_throttle_configure),
    (c"timeout", lua_timeout),
];

/// Metamethods of the peer metatable besides `__index`.
pub const META: &[(&std::ffi::CStr, ffi::lua_CFunction)] = &[(c"__tostring", lua_tostring)];
