//! The `enet_peer` Lua class: one userdata per slot of a host (object.rs says how the objects
//! are kept and how they keep their host alive).
use crate::address;
use crate::args::Args;
use crate::ffi::{self as enet, ENetPeer};
use crate::lua::{ffi, methods, Methods, Name, Push, Raise, Ret, State};
use crate::object::{GetData, PeerUd, SetData};
use crate::packet::{self, Message, Owned};
use crate::published::field;
use crate::published::Access;
use crate::text::{text, Text};
use std::os::raw::c_int;

/// `peer:send(data [, channel [, flag]])`: 0 when queued, -1 when ENet refused (the packet is
/// then freed, unlike the reference, which leaked it).
unsafe fn send(args: Args) -> Ret<i64> {
    let ud = args.peer(1)?;
    if ud.core().background.running() {
        if let Some(sent) = send_queued(args, ud)? {
            return Ok(sent);
        }
    }
    // SAFETY: live peer; a refused packet that no queue references is ours to free.
    unsafe {
        let peer = ud.live_as(Access::WAKE)?;
        let message = Message::from_args(args)?;
        let packet = message.packet()?;
        let rc = enet::enet_peer_send(peer, message.channel, packet);
        if rc < 0 {
            if (*packet).referenceCount == 0 {
                enet::enet_packet_destroy(packet);
            }
            return Ok(-1);
        }
        if let Some(info) = ud.core().connection(ud.slot(), (*peer).connectID) {
            info.count_sent(message.data.len());
        }
        Ok(0)
    }
}

/// `send` of a background host without its lock (sendq.rs): `Some(0)` when queued, `None` when
/// the message must be sent under the lock (ENet's answer is not known, or the queue is full).
#[cold]
#[inline(never)]
fn send_queued(args: Args, ud: &PeerUd) -> Result<Option<i64>, Raise> {
    let message = Message::from_args(args)?;
    let background = &ud.core().background;
    let Some(connect_id) =
        background.try_queue(ud.slot(), message.channel, message.flags, message.data)
    else {
        return Ok(None);
    };
    if let Some(info) = ud.core().connection(ud.slot(), connect_id) {
        info.count_sent(message.data.len());
    }
    Ok(Some(0))
}

/// A received packet, ours to free, and its channel: pushed as the data string and the channel.
#[derive(Clone, Copy)]
pub struct Received {
    packet: Owned,
    channel: u8,
}

impl Push for Received {
    unsafe fn push(self, l: State) -> c_int {
        // SAFETY: the packet is ours and this reply is its one push (packet::push's contract).
        unsafe {
            packet::push(l, self.packet);
            ffi::lua_pushinteger(l, self.channel.into());
        }
        2
    }
}

/// `peer:receive()`: the next queued packet's data and channel, or nothing.
unsafe fn receive(args: Args) -> Ret<Option<Received>> {
    // SAFETY: live peer; the packet is ours from enet_peer_receive on.
    unsafe {
        let (ud, peer) = args.live_peer(1)?;
        args.opt_u32(2, 0)?; // checked for compatibility, has no effect (as in the reference)
        let mut channel = 0u8;
        let packet = enet::enet_peer_receive(peer, &mut channel);
        if packet.is_null() {
            return Ok(None);
        }
        if let Some(info) = ud.core().connection(ud.slot(), (*peer).connectID) {
            info.count_received(packet::bytes(packet).len());
        }
        Ok(Some(Received {
            packet: Owned::take(packet),
            channel,
        }))
    }
}

/// Calls an ENet peer function that takes an optional 32-bit `data` argument (`disconnect`,
/// `disconnect_now`, `disconnect_later`).
///
/// # Safety
/// The body contract (lua.rs).
unsafe fn with_data(args: Args, f: unsafe extern "C" fn(*mut ENetPeer, u32)) -> Ret<()> {
    // Every slot in use is published too: `disconnect_now`, and `disconnect` of a peer not yet
    // connected, flush the host (`enet_host_flush`), which sends every peer's queue and so may
    // move another peer from disconnect_later on to disconnecting (the attack review of
    // 8977ef5 found that peer's getter stale until the thread's next pass). Disconnects are
    // rare: the cost is small.
    let (_, peer) = args.live_peer_as(1, Access::WAKE.with(Access::ALL))?;
    let data = args.opt_u32(2, 0)?;
    // SAFETY: a live peer (no Lua code runs in a body, so it stays so); ENet's peer functions
    // take any data value.
    unsafe { f(peer, data) };
    Ok(())
}

unsafe fn ping(args: Args) -> Ret<()> {
    // SAFETY: live peer.
    unsafe { enet::enet_peer_ping(args.live_peer_as(1, Access::WAKE)?.1) };
    Ok(())
}

unsafe fn reset(args: Args) -> Ret<()> {
    // SAFETY: live peer.
    unsafe { enet::enet_peer_reset(args.live_peer(1)?.1) };
    Ok(())
}

/// `peer:ping_interval([interval])`: sets when given, returns the current interval.
unsafe fn ping_interval(args: Args) -> Ret<i64> {
    // SAFETY: live peer.
    unsafe {
        let (_, peer) = args.live_peer(1)?;
        if !args.absent(2) {
            enet::enet_peer_ping_interval(peer, args.u32(2)?);
        }
        Ok((*peer).pingInterval.into())
    }
}

/// Getter/setter of one u32 statistic of the peer (the reference writes it directly; ENet
/// keeps its arithmetic defined for any value: vendor/enet/patches/0011-retransmit-timeout.patch).
///
/// # Safety
/// The body contract (lua.rs).
#[inline(always)]
unsafe fn peer_u32_field(
    args: Args,
    field: fn(&mut ENetPeer) -> &mut u32,
    read: fn(&ENetPeer) -> u32,
    published: usize,
) -> Ret<i64> {
    if args.absent(2) {
        // A getter: no lock in background mode (background.rs).
        return Ok(args.peer(1)?.read(read, published)?.into());
    }
    let (_, peer) = args.live_peer(1)?;
    // SAFETY: a live peer, borrowed only inside the body (no Lua code runs meanwhile, and no
    // other reference to the ENet peer is made while this one lives).
    let peer = unsafe { &mut *peer };
    if !args.absent(2) {
        *field(peer) = args.u32(2)?;
    }
    Ok((*field(peer)).into())
}

/// One integer read from the live peer; in background mode, its slot's published `field`,
/// without the lock (background.rs).
///
/// # Safety
/// The body contract (lua.rs).
#[inline(always)]
unsafe fn peer_integer(args: Args, read: fn(&ENetPeer) -> u32, field: usize) -> Ret<i64> {
    Ok(args.peer(1)?.read(read, field)?.into())
}

/// `peer:throttle_configure(interval, acceleration, deceleration)`
unsafe fn throttle_configure(args: Args) -> Ret<()> {
    // SAFETY: live peer.
    unsafe {
        let (_, peer) = args.live_peer_as(1, Access::WAKE)?;
        let interval = args.u32(2)?;
        let acceleration = args.u32(3)?;
        let deceleration = args.u32(4)?;
        enet::enet_peer_throttle_configure(peer, interval, acceleration, deceleration);
        Ok(())
    }
}

/// `peer:timeout([limit [, minimum [, maximum]]])`: with no argument a pure getter (docs/api.md);
/// otherwise sets all three, nil or absent meaning ENet's default. Returns the three values.
unsafe fn timeout(args: Args) -> Ret<(i64, i64, i64)> {
    // SAFETY: live peer.
    unsafe {
        let (_, peer) = args.live_peer(1)?;
        if !(args.absent(2) && args.absent(3) && args.absent(4)) {
            let maximum = args.opt_u32(4, 0)?;
            let minimum = args.opt_u32(3, 0)?;
            let limit = args.opt_u32(2, 0)?;
            enet::enet_peer_timeout(peer, limit, minimum, maximum);
        }
        let p = &*peer;
        Ok((
            p.timeoutLimit.into(),
            p.timeoutMinimum.into(),
            p.timeoutMaximum.into(),
        ))
    }
}

/// `peer:index()`, 1-based. Raises on a destroyed host, as the reference does.
unsafe fn index(args: Args) -> Ret<i64> {
    let (ud, _) = args.live_peer(1)?;
    Ok(ud.slot() as i64 + 1)
}

unsafe fn state(args: Args) -> Ret<Name> {
    let state = args.peer(1)?.read(|p| p.state as u32, field::STATE)?;
    Ok(Name::of_state(state as c_int))
}

/// `tostring(peer)`: `a.b.c.d:port` or `[ipv6]:port`, the last known address once the host is gone.
unsafe fn tostring(args: Args) -> Ret<Text> {
    let addr = args.peer(1)?.address();
    Ok(text!("{}", address::Display(&addr)))
}

// ---- Additions: statistics, identity, user data. All optional to callers. ----

/// `peer:address()`: the remote ip string, port number and family (last known once the host is
/// gone).
unsafe fn peer_address(args: Args) -> Ret<(Text, i64, Name)> {
    let addr = args.peer(1)?.address();
    Ok((
        text!("{}", address::Ip(&addr)),
        addr.port.into(),
        address::family(&addr),
    ))
}

/// ENet's packet loss and throttle are ratios scaled by these constants.
const PACKET_LOSS_SCALE: f64 = enet::ENET_PEER_PACKET_LOSS_SCALE as f64;
const PACKET_THROTTLE_SCALE: f64 = enet::ENET_PEER_PACKET_THROTTLE_SCALE as f64;

/// `peer:packet_loss()`: mean loss of reliable packets, 0..1.
unsafe fn packet_loss(args: Args) -> Ret<f64> {
    let loss = args.peer(1)?.read(|p| p.packetLoss, field::PACKET_LOSS)?;
    Ok(f64::from(loss) / PACKET_LOSS_SCALE)
}

/// Every statistic of `peer:stats()`, read in the body, written into a table by the reply.
#[derive(Clone, Copy)]
pub struct Stats {
    integers: [u64; 19],
    ratios: [f64; 3],
    /// The caller's table (argument 2) or a new one.
    fill_argument: bool,
}

const STATS_INTEGERS: [&std::ffi::CStr; 19] = [
    c"round_trip_time",
    c"round_trip_time_variance",
    c"last_round_trip_time",
    c"lowest_round_trip_time",
    c"mtu",
    c"channel_count",
    c"connect_id",
    c"incoming_bandwidth",
    c"outgoing_bandwidth",
    c"last_send_time",
    c"last_receive_time",
    c"reliable_data_in_transit",
    c"packets_sent",
    c"packets_lost",
    c"messages_sent",
    c"bytes_sent",
    c"messages_received",
    c"bytes_received",
    c"waiting_data",
];
const STATS_RATIOS: [&std::ffi::CStr; 3] =
    [c"packet_loss", c"packet_loss_variance", c"packet_throttle"];

/// Sets every statistic into the table (raw sets: a caller's `__newindex` never runs).
impl Push for Stats {
    unsafe fn push(self, l: State) -> c_int {
        // SAFETY: plain table writes with at most three extra stack slots.
        unsafe {
            if self.fill_argument {
                ffi::lua_settop(l, 2);
            } else {
                ffi::lua_settop(l, 1);
                ffi::lua_createtable(l, 0, 22);
            }
            for (name, value) in STATS_INTEGERS.iter().zip(self.integers) {
                ffi::lua_pushstring(l, name.as_ptr());
                ffi::lua_pushinteger(l, value as ffi::lua_Integer);
                ffi::lua_rawset(l, -3);
            }
            for (name, value) in STATS_RATIOS.iter().zip(self.ratios) {
                ffi::lua_pushstring(l, name.as_ptr());
                ffi::lua_pushnumber(l, value);
                ffi::lua_rawset(l, -3);
            }
        }
        1
    }
}

/// `peer:stats([t])`: every statistic in one table (the caller's `t`, filled, or a new one).
unsafe fn stats(args: Args) -> Ret<Stats> {
    let (ud, peer) = args.live_peer(1)?;
    // SAFETY: live peer, read by shared reference inside the body only.
    let p = unsafe { &*peer };
    let [messages_sent, bytes_sent, messages_received, bytes_received] = ud
        .core()
        .connection(ud.slot(), p.connectID)
        .map_or([0; 4], |info| info.counters());
    Ok(Stats {
        integers: [
            p.roundTripTime.into(),
            p.roundTripTimeVariance.into(),
            p.lastRoundTripTime.into(),
            p.lowestRoundTripTime.into(),
            p.mtu.into(),
            p.channelCount as u64,
            p.connectID.into(),
            p.incomingBandwidth.into(),
            p.outgoingBandwidth.into(),
            p.lastSendTime.into(),
            p.lastReceiveTime.into(),
            p.reliableDataInTransit.into(),
            p.packetsSent.into(),
            p.packetsLost.into(),
            messages_sent,
            bytes_sent,
            messages_received,
            bytes_received,
            p.totalWaitingData as u64,
        ],
        ratios: [
            f64::from(p.packetLoss) / PACKET_LOSS_SCALE,
            f64::from(p.packetLossVariance) / PACKET_LOSS_SCALE,
            f64::from(p.packetThrottle) / PACKET_THROTTLE_SCALE,
        ],
        fill_argument: args.is_table(2),
    })
}

/// `peer:set_data(value)`: attaches any Lua value to the peer's current connection. It stays
/// readable through that connection's disconnect event, and is dropped when a new connection
/// starts on the slot.
unsafe fn set_data(args: Args) -> Ret<SetData> {
    let (ud, peer) = args.live_peer(1)?;
    if let Some(info) = ud.core().slot(ud.slot()) {
        // SAFETY: live peer.
        info.set_data_connect_id(unsafe { (*peer).connectID });
    }
    Ok(SetData(ud.slot()))
}

/// `peer:get_data()`: the value given to `set_data` for this connection, or nil.
unsafe fn get_data(args: Args) -> Ret<GetData> {
    let (ud, peer) = args.live_peer(1)?;
    let owner = ud.core().slot(ud.slot()).map_or(0, |i| i.data_connect_id());
    // SAFETY: live peer.
    let current = unsafe { (*peer).connectID };
    // connectID is 0 once ENet reset the slot (so during its disconnect event).
    Ok(GetData {
        slot: ud.slot(),
        stale: current != 0 && current != owner,
    })
}

/// The peer methods, as Lua sees them.
pub const METHODS: Methods = methods! {
    c"connect_id" => peer_integer(|p| p.connectID, field::CONNECT_ID),
    c"disconnect" => with_data(enet::enet_peer_disconnect),
    c"disconnect_now" => with_data(enet::enet_peer_disconnect_now),
    c"disconnect_later" => with_data(enet::enet_peer_disconnect_later),
    c"index" => index,
    c"ping" => ping,
    c"ping_interval" => ping_interval,
    c"reset" => reset,
    c"send" [2, 4] => send,
    c"state" => state,
    c"receive" => receive,
    c"round_trip_time" => peer_u32_field(
        |p| &mut p.roundTripTime,
        |p| p.roundTripTime,
        field::ROUND_TRIP_TIME,
    ),
    c"last_round_trip_time" => peer_u32_field(
        |p| &mut p.lastRoundTripTime,
        |p| p.lastRoundTripTime,
        field::LAST_ROUND_TRIP_TIME,
    ),
    c"throttle_configure" => throttle_configure,
    c"timeout" => timeout,
    // additions
    c"address" => peer_address,
    c"packet_loss" => packet_loss,
    c"round_trip_time_variance" => peer_integer(
        |p| p.roundTripTimeVariance,
        field::ROUND_TRIP_TIME_VARIANCE,
    ),
    c"mtu" => peer_integer(|p| p.mtu, field::MTU),
    c"channel_count" => peer_integer(|p| p.channelCount as u32, field::CHANNEL_COUNT),
    c"stats" => stats,
    c"set_data" => set_data,
    c"get_data" => get_data,
};

/// Metamethods of the peer metatable besides `__index`.
pub const META: Methods = methods! {
    c"__tostring" => tostring,
};
