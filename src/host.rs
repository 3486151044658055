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
    check_bytes, check_u32, ffi, is_absent, lua_fn, opt_bytes, opt_u32, push_bytes, to_udata,
    type_error, Raise, Ret, State, HOST_MT,
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
    /// Per-slot state the binding keeps (addition): counters and user-data ownership. Empty
    /// once destroyed. The userdata memory is freed by Lua without Drop, so `destroy` frees it.
    pub slots: Vec<SlotInfo>,
    /// `duplicatePeers` saved while `refuse_connections(true)` holds it at 0.
    pub refused_duplicate_peers: Option<usize>,
}

/// What the binding remembers about one peer slot, for the connection `connect_id`.
#[derive(Clone, Copy, Default)]
pub struct SlotInfo {
    pub connect_id: u32,
    pub messages_sent: u64,
    pub bytes_sent: u64,
    pub messages_received: u64,
    pub bytes_received: u64,
    /// The connection that `peer:set_data` was called for.
    pub data_connect_id: u32,
}

impl HostUd {
    /// The slot's info for the peer's current connection; counters restart with a new one.
    ///
    /// # Safety
    /// `peer` must be slot `slot` of this block's live host.
    pub unsafe fn slot_info(
        &mut self,
        slot: usize,
        peer: *const enet::ENetPeer,
    ) -> Option<&mut SlotInfo> {
        // SAFETY: by contract `peer` is valid.
        let connect_id = unsafe { (*peer).connectID };
        let info = self.slots.get_mut(slot)?;
        if connect_id != 0 && info.connect_id != connect_id {
            *info = SlotInfo {
                connect_id,
                data_connect_id: info.data_connect_id,
                ..SlotInfo::default()
            };
        }
        Some(info)
    }

    /// Copies a received packet into a Lua string on the stack, frees it, and counts it.
    ///
    /// # Safety
    /// `packet` was just received from `peer` (slot `slot` of this live host) and is ours.
    pub unsafe fn deliver_packet(
        &mut self,
        l: State,
        slot: usize,
        peer: *const enet::ENetPeer,
        packet: *mut ENetPacket,
    ) {
        // SAFETY: the packet is parked in `pending` while Lua copies it (a memory error then
        // leaves it to the next call to free), and freed right after.
        unsafe {
            self.pending = packet;
            let bytes = crate::event::packet_bytes(packet);
            let len = bytes.len() as u64;
            push_bytes(l, bytes);
            self.free_pending();
            if let Some(info) = self.slot_info(slot, peer) {
                info.messages_received += 1;
                info.bytes_received += len;
            }
        }
    }
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
                slots: Vec::new(),
                refused_duplicate_peers: None,
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
        (*ud).slots = vec![SlotInfo::default(); peers as usize];
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
        let ud = check_host_ud(l, 1)?;
        let host = live_host(ud)?;
        let timeout = opt_u32(l, 2, 0)?;
        (*ud).free_pending();
        let mut event = ENetEvent::empty();
        let rc = enet::enet_host_service(host, &mut event, timeout);
        dispatch(l, rc, &event, 3, "service")
    }
}

/// `host:check_events([event])`
unsafe fn check_events(l: State) -> Ret {
    // SAFETY: as `service`.
    unsafe {
        let ud = check_host_ud(l, 1)?;
        let host = live_host(ud)?;
        (*ud).free_pending();
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
        let channel = match opt_u32(l, 3, 0) {
            Ok(c) => c as u8,
            Err(e) => {
                enet::enet_packet_destroy(packet);
                return Err(e);
            }
        };
        count_broadcast(check_host_ud(l, 1)?, host, channel, (*packet).dataLength);
        enet::enet_host_broadcast(host, channel, packet);
        Ok(0)
    }
}

/// Counts a broadcast on every peer that ENet will queue it for (its own acceptance test).
unsafe fn count_broadcast(ud: *mut HostUd, host: *mut ENetHost, channel: u8, len: usize) {
    // SAFETY: live host; `slots` has one entry per peer slot.
    unsafe {
        let peers = std::slice::from_raw_parts((*host).peers, (*host).peerCount);
        for (slot, peer) in peers.iter().enumerate() {
            if peer.state == enet::ENET_PEER_STATE_CONNECTED
                && usize::from(channel) < peer.channelCount
                && len <= (*host).maximumPacketSize
            {
                if let Some(info) = (*ud).slot_info(slot, peer) {
                    info.messages_sent += 1;
                    info.bytes_sent += len as u64;
                }
            }
        }
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
    // SAFETY: live host.
    unsafe {
        let addr = socket_address(check_host(l)?);
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
        drop(std::mem::take(&mut (*ud).slots));
        enet::enet_host_destroy(host);
        Ok(0)
    }
}

// ---- Additions (issue 7): statistics and tunables. All optional to callers. ----

unsafe fn connected_peers(l: State) -> Ret {
    // SAFETY: forwarded.
    unsafe { push_host_integer(l, |h| h.connectedPeers as u64) }
}

unsafe fn total_sent_packets(l: State) -> Ret {
    // SAFETY: forwarded.
    unsafe { push_host_integer(l, |h| h.totalSentPackets.into()) }
}

unsafe fn total_received_packets(l: State) -> Ret {
    // SAFETY: forwarded.
    unsafe { push_host_integer(l, |h| h.totalReceivedPackets.into()) }
}

/// The socket's bound address, `0.0.0.0:0` when the OS cannot tell.
unsafe fn socket_address(host: *mut ENetHost) -> enet::ENetAddress {
    let mut addr = enet::ENetAddress::default();
    // SAFETY: live host; `addr` is a valid out-parameter.
    if unsafe { enet::enet_socket_get_address((*host).socket, &mut addr) } != 0 {
        addr = enet::ENetAddress::default();
    }
    addr
}

/// `host:get_socket_ip_port()`: the bound ip string and port number.
unsafe fn get_socket_ip_port(l: State) -> Ret {
    // SAFETY: live host.
    unsafe {
        let addr = socket_address(check_host(l)?);
        push_bytes(l, address::format_ip(&addr).as_bytes());
        ffi::lua_pushinteger(l, addr.port.into());
        Ok(2)
    }
}

/// Getter/setter of a numeric host tunable, the new value checked against `min..=max`.
unsafe fn tunable(l: State, field: fn(&mut ENetHost) -> &mut usize, min: u32, name: &str) -> Ret {
    // SAFETY: live host, borrowed mutably only inside this call.
    unsafe {
        let host = &mut *check_host(l)?;
        if !is_absent(l, 2) {
            let value = check_u32(l, 2)?;
            if value < min || value > i32::MAX as u32 {
                return Err(Raise::Arg(
                    2,
                    format!("{name} must be {min}..{}", i32::MAX).into(),
                ));
            }
            *field(host) = value as usize;
        }
        ffi::lua_pushinteger(l, *field(host) as ffi::lua_Integer);
        Ok(1)
    }
}

/// `host:maximum_packet_size([bytes])`: larger sends are refused (`send` returns -1).
unsafe fn maximum_packet_size(l: State) -> Ret {
    // SAFETY: forwarded.
    unsafe { tunable(l, |h| &mut h.maximumPacketSize, 1, "maximum_packet_size") }
}

/// `host:maximum_waiting_data([bytes])`: per-peer cap on data buffered for delivery.
unsafe fn maximum_waiting_data(l: State) -> Ret {
    // SAFETY: forwarded.
    unsafe { tunable(l, |h| &mut h.maximumWaitingData, 1, "maximum_waiting_data") }
}

/// `host:mtu([bytes])`: the MTU offered to future connections (576..4096).
unsafe fn mtu(l: State) -> Ret {
    // SAFETY: live host.
    unsafe {
        let host = check_host(l)?;
        if !is_absent(l, 2) {
            let value = check_u32(l, 2)?;
            if !(enet::ENET_PROTOCOL_MINIMUM_MTU..=enet::ENET_PROTOCOL_MAXIMUM_MTU as u32)
                .contains(&value)
            {
                return Err(Raise::Arg(2, "mtu must be 576..4096".into()));
            }
            (*host).mtu = value;
        }
        ffi::lua_pushinteger(l, (*host).mtu.into());
        Ok(1)
    }
}

/// `host:duplicate_peers([n])`: how many peers may connect from one IP address (0..4095).
unsafe fn duplicate_peers(l: State) -> Ret {
    // SAFETY: live host and its block.
    unsafe {
        let ud = check_host_ud(l, 1)?;
        let host = live_host(ud)?;
        if !is_absent(l, 2) {
            let value = check_u32(l, 2)? as usize;
            if value > enet::ENET_PROTOCOL_MAXIMUM_PEER_ID {
                return Err(Raise::Arg(2, "duplicate_peers must be 0..4095".into()));
            }
            match &mut (*ud).refused_duplicate_peers {
                Some(saved) => *saved = value,
                None => (*host).duplicatePeers = value,
            }
        }
        let current = (*ud)
            .refused_duplicate_peers
            .unwrap_or((*host).duplicatePeers);
        ffi::lua_pushinteger(l, current as ffi::lua_Integer);
        Ok(1)
    }
}

/// `host:refuse_connections([on])`: while on, new incoming connections are ignored (ENet does
/// not answer them, so the other side sees its attempt fail). Returns the current setting.
unsafe fn refuse_connections(l: State) -> Ret {
    // SAFETY: live host and its block.
    unsafe {
        let ud = check_host_ud(l, 1)?;
        let host = live_host(ud)?;
        if !is_absent(l, 2) {
            set_refusing(ud, host, ffi::lua_toboolean(l, 2) != 0);
        }
        ffi::lua_pushboolean(l, (*ud).refused_duplicate_peers.is_some() as c_int);
        Ok(1)
    }
}

/// ENet refuses a connection when an address already has `duplicatePeers` peers; 0 refuses all.
unsafe fn set_refusing(ud: *mut HostUd, host: *mut ENetHost, on: bool) {
    // SAFETY: live host and its block, by the callers' checks.
    unsafe {
        match (on, (*ud).refused_duplicate_peers) {
            (true, None) => {
                (*ud).refused_duplicate_peers = Some((*host).duplicatePeers);
                (*host).duplicatePeers = 0;
            }
            (false, Some(saved)) => {
                (*host).duplicatePeers = saved;
                (*ud).refused_duplicate_peers = None;
            }
            _ => {}
        }
    }
}

unsafe extern "C" fn crc32(buffers: *const enet::ENetBuffer, count: usize) -> u32 {
    // SAFETY: ENet passes its own buffer array, as it would to enet_crc32 directly.
    unsafe { enet::enet_crc32(buffers, count) }
}

/// `host:checksum([on])`: CRC32 checksums on every datagram (both ends must agree).
unsafe fn checksum(l: State) -> Ret {
    // SAFETY: live host.
    unsafe {
        let host = check_host(l)?;
        if !is_absent(l, 2) {
            (*host).checksum = (ffi::lua_toboolean(l, 2) != 0).then_some(crc32 as _);
        }
        ffi::lua_pushboolean(l, (*host).checksum.is_some() as c_int);
        Ok(1)
    }
}

/// `host:compression([on])`: ENet's range coder on or off (both ends must agree).
unsafe fn compression(l: State) -> Ret {
    // SAFETY: live host.
    unsafe {
        let host = check_host(l)?;
        if !is_absent(l, 2) {
            if ffi::lua_toboolean(l, 2) != 0 {
                if enet::enet_host_compress_with_range_coder(host) != 0 {
                    return Ok(push_failure(l, "could not enable compression"));
                }
            } else {
                enet::enet_host_compress(host, ptr::null());
            }
        }
        ffi::lua_pushboolean(l, !(*host).compressor.context.is_null() as c_int);
        Ok(1)
    }
}

/// `host:socket_buffer_sizes([receive [, send]])`: sets the given sizes (bytes) and returns
/// both as the OS reports them (Linux reports twice what was asked).
unsafe fn socket_buffer_sizes(l: State) -> Ret {
    // SAFETY: live host; out-parameters are valid.
    unsafe {
        let host = check_host(l)?;
        let socket = (*host).socket;
        for (idx, option) in [
            (2, enet::ENET_SOCKOPT_RCVBUF),
            (3, enet::ENET_SOCKOPT_SNDBUF),
        ] {
            if !is_absent(l, idx) {
                let size = check_u32(l, idx)?.min(i32::MAX as u32) as c_int;
                enet::enet_socket_set_option(socket, option, size);
            }
        }
        for option in [enet::ENET_SOCKOPT_RCVBUF, enet::ENET_SOCKOPT_SNDBUF] {
            let mut value: c_int = 0;
            enet::enet_socket_get_option(socket, option, &mut value);
            ffi::lua_pushinteger(l, value.into());
        }
        Ok(2)
    }
}

/// `host:shutdown([timeout_ms [, data]])`: says goodbye to every peer after its queued data
/// (`disconnect_later`), refuses new connections meanwhile, and services the host until every
/// peer is gone or `timeout_ms` (default 3000) passes; the rest are disconnected at once.
/// Events during the wait are consumed (received packets dropped). Returns the number of peers
/// that disconnected cleanly and the number that had to be cut off. The host stays usable.
unsafe fn shutdown(l: State) -> Ret {
    // SAFETY: live host; peers are slots of its array; received packets are ours to free.
    unsafe {
        let ud = check_host_ud(l, 1)?;
        let host = live_host(ud)?;
        let timeout = opt_u32(l, 2, 3000)?;
        let data = opt_u32(l, 3, 0)?;
        let was_refusing = (*ud).refused_duplicate_peers.is_some();
        set_refusing(ud, host, true);

        // Raw pointers, not a slice: enet_host_service mutates the peers while we loop.
        let peers: Vec<*mut enet::ENetPeer> = (0..(*host).peerCount)
            .map(|i| (*host).peers.add(i))
            .collect();
        let active = |p: &*mut enet::ENetPeer| (**p).state != enet::ENET_PEER_STATE_DISCONNECTED;
        for &peer in peers.iter().filter(|p| active(p)) {
            enet::enet_peer_disconnect_later(peer, data);
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(timeout.into());
        let mut clean = 0;
        while peers.iter().any(active) {
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
        for &peer in peers.iter().filter(|p| active(p)) {
            enet::enet_peer_disconnect_now(peer, data);
            forced += 1;
        }
        enet::enet_host_flush(host);
        set_refusing(ud, host, was_refusing);
        ffi::lua_pushinteger(l, clean);
        ffi::lua_pushinteger(l, forced);
        Ok(2)
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
lua_fn!(lua_connected_peers => connected_peers);
lua_fn!(lua_total_sent_packets => total_sent_packets);
lua_fn!(lua_total_received_packets => total_received_packets);
lua_fn!(lua_get_socket_ip_port => get_socket_ip_port);
lua_fn!(lua_maximum_packet_size => maximum_packet_size);
lua_fn!(lua_maximum_waiting_data => maximum_waiting_data);
lua_fn!(lua_mtu => mtu);
lua_fn!(lua_duplicate_peers => duplicate_peers);
lua_fn!(lua_refuse_connections => refuse_connections);
lua_fn!(lua_checksum => checksum);
lua_fn!(lua_compression => compression);
lua_fn!(lua_socket_buffer_sizes => socket_buffer_sizes);
lua_fn!(lua_shutdown => shutdown);

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
    // additions
    (c"connected_peers", lua_connected_peers),
    (c"total_sent_packets", lua_total_sent_packets),
    (c"total_received_packets", lua_total_received_packets),
    (c"get_socket_ip_port", lua_get_socket_ip_port),
    (c"maximum_packet_size", lua_maximum_packet_size),
    (c"maximum_waiting_data", lua_maximum_waiting_data),
    (c"mtu", lua_mtu),
    (c"duplicate_peers", lua_duplicate_peers),
    (c"refuse_connections", lua_refuse_connections),
    (c"checksum", lua_checksum),
    (c"compression", lua_compression),
    (c"socket_buffer_sizes", lua_socket_buffer_sizes),
    (c"shutdown", lua_shutdown),
];

/// Metamethods of the host metatable besides `__index`.
pub const META: &[(&std::ffi::CStr, ffi::lua_CFunction)] = &[
    (c"__gc", lua_destroy),
    #[cfg(any(feature = "lua54", feature = "lua55"))]
    (c"__close", lua_destroy),
];
