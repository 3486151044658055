//! The `enet_peer` Lua class: one userdata per slot of a host (see host.rs for how the objects
//! are cached and how they keep their host alive).
use crate::address;
use crate::ffi::{self as enet, ENetAddress, ENetHost, ENetPacket, ENetPeer};
use crate::host::HostUd;
use crate::lua::{
    check_bytes, check_u32, ffi, is_absent, lua_fn, opt_bytes, opt_u32, push_bytes, push_name,
    push_name_at, to_udata, type_error, Name, Raise, Ret, State, PEER_MT,
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

/// The one way from a peer object to its ENet peer: argument 1 as a peer of a live host,
/// with its block.
///
/// # Safety
/// `l` must run a function of this module.
#[inline]
unsafe fn check_peer_full(l: State) -> Result<(*mut PeerUd, *mut ENetPeer), Raise> {
    // SAFETY: the peer block keeps its host block alive (user value chain, host.rs); a non-null
    // host pointer means the ENet host is alive, and `slot < peerCount` was checked when the
    // object was made.
    unsafe {
        let ud = check_peer_ud(l, 1)?;
        let host = (*(*ud).host).host;
        if host.is_null() {
            return Err(Raise::Msg("enet: peer of a destroyed host".into()));
        }
        Ok((ud, (*host).peers.add((*ud).slot)))
    }
}

/// Argument 1 as the ENet peer of a live host (see [`check_peer_full`]).
///
/// # Safety
/// `l` must run a function of this module.
#[inline]
unsafe fn check_peer(l: State) -> Result<*mut ENetPeer, Raise> {
    // SAFETY: forwarded.
    unsafe { check_peer_full(l).map(|(_, peer)| peer) }
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
        let (ud, peer) = check_peer_full(l)?;
        let packet = packet_from_args(l)?;
        let channel = match opt_u32(l, 3, 0) {
            Ok(c) => c as u8,
            Err(e) => {
                enet::enet_packet_destroy(packet);
                return Err(e);
            }
        };
        let len = (*packet).dataLength as u64;
        let rc = enet::enet_peer_send(peer, channel, packet);
        if rc < 0 && (*packet).referenceCount == 0 {
            enet::enet_packet_destroy(packet);
        } else if rc >= 0 {
            if let Some(info) = (*(*ud).host).slot_info((*ud).slot, peer) {
                info.messages_sent += 1;
                info.bytes_sent += len;
            }
        }
        ffi::lua_pushinteger(l, if rc < 0 { -1 } else { 0 });
        Ok(1)
    }
}

/// `peer:receive()`: the next queued packet's data and channel, or nothing.
unsafe fn receive(l: State) -> Ret {
    // SAFETY: live peer; the packet is parked in `pending` while Lua copies it, then freed.
    unsafe {
        let (ud, peer) = check_peer_full(l)?;
        opt_u32(l, 2, 0)?; // validated for compatibility, has no effect (as in the reference)
        let hud = (*ud).host;
        (*hud).free_pending();
        let mut channel = 0u8;
        let packet = enet::enet_peer_receive(peer, &mut channel);
        if packet.is_null() {
            return Ok(0);
        }
        (*hud).deliver_packet(l, (*ud).slot, peer, packet);
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
        let (ud, _) = check_peer_full(l)?;
        let slot = (*ud).slot;
        ffi::lua_pushinteger(l, slot as ffi::lua_Integer + 1);
        Ok(1)
    }
}

unsafe fn state(l: State) -> Ret {
    // SAFETY: live peer.
    unsafe {
        let state = (*check_peer(l)?).state;
        if (0..10).contains(&state) {
            push_name_at(l, Name::Disconnected as i32 + state);
        } else {
            push_name(l, Name::Unknown);
        }
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

/// The peer's address: the slot's current one, or the last known once the host is gone.
unsafe fn current_address(ud: *mut PeerUd) -> ENetAddress {
    // SAFETY: the block is ours; the ENet peer is read only while its host is live.
    unsafe {
        let host = (*(*ud).host).host;
        if host.is_null() {
            (*ud).last_address
        } else {
            (*(*host).peers.add((*ud).slot)).address
        }
    }
}

/// `tostring(peer)`: `a.b.c.d:port`, the last known address once the host is gone.
unsafe fn tostring(l: State) -> Ret {
    // SAFETY: the block is checked to be ours.
    unsafe {
        let addr = current_address(check_peer_ud(l, 1)?);
        push_bytes(l, address::format(&addr).as_bytes());
        Ok(1)
    }
}

// ---- Additions (issue 7): statistics, identity, user data. All optional to callers. ----

/// `peer:address()`: the remote ip string and port number (last known once the host is gone).
unsafe fn peer_address(l: State) -> Ret {
    // SAFETY: the block is checked to be ours.
    unsafe {
        let addr = current_address(check_peer_ud(l, 1)?);
        push_bytes(l, address::format_ip(&addr).as_bytes());
        ffi::lua_pushinteger(l, addr.port.into());
        Ok(2)
    }
}

/// ENet's packet loss and throttle are ratios scaled by these constants.
const PACKET_LOSS_SCALE: f64 = 65536.0;
const PACKET_THROTTLE_SCALE: f64 = 32.0;

/// Pushes one number read from the live peer.
unsafe fn push_peer_number(l: State, read: fn(&ENetPeer) -> f64) -> Ret {
    // SAFETY: live peer.
    unsafe {
        let peer = check_peer(l)?;
        ffi::lua_pushnumber(l, read(&*peer));
        Ok(1)
    }
}

/// Pushes one integer read from the live peer.
unsafe fn push_peer_integer(l: State, read: fn(&ENetPeer) -> u64) -> Ret {
    // SAFETY: live peer.
    unsafe {
        let peer = check_peer(l)?;
        ffi::lua_pushinteger(l, read(&*peer) as ffi::lua_Integer);
        Ok(1)
    }
}

/// `peer:packet_loss()`: mean loss of reliable packets, 0..1.
unsafe fn packet_loss(l: State) -> Ret {
    // SAFETY: forwarded.
    unsafe { push_peer_number(l, |p| f64::from(p.packetLoss) / PACKET_LOSS_SCALE) }
}

unsafe fn round_trip_time_variance(l: State) -> Ret {
    // SAFETY: forwarded.
    unsafe { push_peer_integer(l, |p| p.roundTripTimeVariance.into()) }
}

unsafe fn peer_mtu(l: State) -> Ret {
    // SAFETY: forwarded.
    unsafe { push_peer_integer(l, |p| p.mtu.into()) }
}

unsafe fn channel_count(l: State) -> Ret {
    // SAFETY: forwarded.
    unsafe { push_peer_integer(l, |p| p.channelCount as u64) }
}

/// `peer:stats([t])`: every statistic in one table (the caller's `t`, filled, or a new one).
unsafe fn stats(l: State) -> Ret {
    // SAFETY: live peer and its host block; only plain table writes on the Lua side.
    unsafe {
        let (ud, peer) = check_peer_full(l)?;
        let peer = &*peer;
        let info = (*(*ud).host)
            .slot_info((*ud).slot, peer)
            .copied()
            .unwrap_or_default();
        if ffi::lua_type(l, 2) == ffi::LUA_TTABLE {
            ffi::lua_settop(l, 2);
        } else {
            ffi::lua_settop(l, 1);
            ffi::lua_createtable(l, 0, 24);
        }
        let integers: [(&std::ffi::CStr, u64); 19] = [
            (c"round_trip_time", peer.roundTripTime.into()),
            (
                c"round_trip_time_variance",
                peer.roundTripTimeVariance.into(),
            ),
            (c"last_round_trip_time", peer.lastRoundTripTime.into()),
            (c"lowest_round_trip_time", peer.lowestRoundTripTime.into()),
            (c"mtu", peer.mtu.into()),
            (c"channel_count", peer.channelCount as u64),
            (c"connect_id", peer.connectID.into()),
            (c"incoming_bandwidth", peer.incomingBandwidth.into()),
            (c"outgoing_bandwidth", peer.outgoingBandwidth.into()),
            (c"last_send_time", peer.lastSendTime.into()),
            (c"last_receive_time", peer.lastReceiveTime.into()),
            (
                c"reliable_data_in_transit",
                peer.reliableDataInTransit.into(),
            ),
            (c"packets_sent", peer.packetsSent.into()),
            (c"packets_lost", peer.packetsLost.into()),
            (c"messages_sent", info.messages_sent),
            (c"bytes_sent", info.bytes_sent),
            (c"messages_received", info.messages_received),
            (c"bytes_received", info.bytes_received),
            (c"waiting_data", peer.totalWaitingData as u64),
        ];
        // Raw sets: the caller's table may have a __newindex that could run Lua code (and
        // destroy the host) while `peer` is borrowed.
        for (name, value) in integers {
            ffi::lua_pushstring(l, name.as_ptr());
            ffi::lua_pushinteger(l, value as ffi::lua_Integer);
            ffi::lua_rawset(l, -3);
        }
        let ratios: [(&std::ffi::CStr, f64); 3] = [
            (
                c"packet_loss",
                f64::from(peer.packetLoss) / PACKET_LOSS_SCALE,
            ),
            (
                c"packet_loss_variance",
                f64::from(peer.packetLossVariance) / PACKET_LOSS_SCALE,
            ),
            (
                c"packet_throttle",
                f64::from(peer.packetThrottle) / PACKET_THROTTLE_SCALE,
            ),
        ];
        for (name, value) in ratios {
            ffi::lua_pushstring(l, name.as_ptr());
            ffi::lua_pushnumber(l, value);
            ffi::lua_rawset(l, -3);
        }
        Ok(1)
    }
}

/// Pushes the per-host store of peer user data: the metatable of the peer cache (a strong
/// table owned by the host, see host.rs), indexed by slot + 1.
unsafe fn push_data_store(l: State) -> bool {
    // SAFETY: argument 1 is a checked peer; its user value is its host's peer cache.
    unsafe {
        ffi::lua_getuservalue(l, 1);
        let ok = ffi::lua_getmetatable(l, -1) != 0;
        ffi::lua_remove(l, if ok { -2 } else { -1 });
        ok
    }
}

/// `peer:set_data(value)`: attaches any Lua value to the peer's current connection. It stays
/// readable through that connection's disconnect event, and is dropped when a new connection
/// starts on the slot.
unsafe fn set_data(l: State) -> Ret {
    // SAFETY: live peer; the store is a plain table.
    unsafe {
        let (ud, peer) = check_peer_full(l)?;
        let host_ud = &mut *(*ud).host;
        if let Some(info) = host_ud.slots.get_mut((*ud).slot) {
            info.data_connect_id = (*peer).connectID;
        }
        ffi::lua_settop(l, 2);
        if push_data_store(l) {
            ffi::lua_pushvalue(l, 2);
            ffi::lua_rawseti(l, -2, (*ud).slot as ffi::lua_Integer + 1);
        }
        Ok(0)
    }
}

/// `peer:get_data()`: the value given to `set_data` for this connection, or nil.
unsafe fn get_data(l: State) -> Ret {
    // SAFETY: live peer; the store is a plain table.
    unsafe {
        let (ud, peer) = check_peer_full(l)?;
        let host_ud = &*(*ud).host;
        let owner = host_ud
            .slots
            .get((*ud).slot)
            .map_or(0, |i| i.data_connect_id);
        let current = (*peer).connectID;
        ffi::lua_settop(l, 1);
        if !push_data_store(l) {
            return Ok(0);
        }
        let slot = (*ud).slot as ffi::lua_Integer + 1;
        // connectID is 0 once ENet reset the slot (so during its disconnect event).
        if current != 0 && current != owner {
            ffi::lua_pushnil(l);
            ffi::lua_rawseti(l, -2, slot);
            return Ok(0);
        }
        ffi::lua_rawgeti(l, -1, slot);
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
lua_fn!(lua_peer_address => peer_address);
lua_fn!(lua_packet_loss => packet_loss);
lua_fn!(lua_round_trip_time_variance => round_trip_time_variance);
lua_fn!(lua_peer_mtu => peer_mtu);
lua_fn!(lua_channel_count => channel_count);
lua_fn!(lua_stats => stats);
lua_fn!(lua_set_data => set_data);
lua_fn!(lua_get_data => get_data);

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
    // additions
    (c"address", lua_peer_address),
    (c"packet_loss", lua_packet_loss),
    (c"round_trip_time_variance", lua_round_trip_time_variance),
    (c"mtu", lua_peer_mtu),
    (c"channel_count", lua_channel_count),
    (c"stats", lua_stats),
    (c"set_data", lua_set_data),
    (c"get_data", lua_get_data),
];

/// Metamethods of the peer metatable besides `__index`.
pub const META: &[(&std::ffi::CStr, ffi::lua_CFunction)] = &[(c"__tostring", lua_tostring)];
