//! Host configuration, the additions of docs/api.md "Host statistics and tunables": numeric
//! tunables, checksums, compression, socket buffers, and admission (who may connect).
use crate::args::Args;
use crate::ffi::{self as enet, ENetHost};
use crate::lua::{methods, Methods, Raise, Ret};
use crate::published::Access;
use crate::text::Failure;
use std::os::raw::c_int;
use std::ptr;

/// Getter/setter of a numeric host tunable, the new value checked against `min..=i32::MAX`
/// (`range` is the error text).
///
/// # Safety
/// The body contract (lua.rs).
unsafe fn tunable(
    args: Args,
    field: fn(&mut ENetHost) -> &mut usize,
    min: u32,
    range: &'static std::ffi::CStr,
) -> Ret<i64> {
    // A new value is published with the host's row (`maximum_packet_size` is read without the
    // lock by a background host's `send`, sendq.rs).
    let access = if args.absent(2) {
        Access::READ
    } else {
        Access::ALL
    };
    let (_, host) = args.live_host_as(1, access)?;
    // SAFETY: a live host, borrowed only inside the body (no Lua code runs meanwhile, and no
    // other reference to the ENet host is made while this one lives).
    let host = unsafe { &mut *host };
    if !args.absent(2) {
        let value = args.u32(2)?;
        if value < min || value > i32::MAX as u32 {
            return Err(Raise::Arg(2, range));
        }
        *field(host) = value as usize;
    }
    Ok(*field(host) as i64)
}

/// `host:mtu([bytes])`: the MTU offered to future connections (576..4096).
unsafe fn mtu(args: Args) -> Ret<i64> {
    // SAFETY: live host.
    unsafe {
        let (_, host) = args.live_host(1)?;
        if !args.absent(2) {
            let value = args.u32(2)?;
            if !(enet::ENET_PROTOCOL_MINIMUM_MTU..=enet::ENET_PROTOCOL_MAXIMUM_MTU as u32)
                .contains(&value)
            {
                return Err(Raise::Arg(2, c"mtu must be 576..4096"));
            }
            (*host).mtu = value;
        }
        Ok((*host).mtu.into())
    }
}

/// `host:duplicate_peers([n])`: how many peers may connect from one IP address (0..4095).
unsafe fn duplicate_peers(args: Args) -> Ret<i64> {
    // SAFETY: live host and its core.
    unsafe {
        let (core, host) = args.live_host(1)?;
        let host = &mut *host;
        if !args.absent(2) {
            let value = args.u32(2)?;
            if value > enet::ENET_PROTOCOL_MAXIMUM_PEER_ID {
                return Err(Raise::Arg(2, c"duplicate_peers must be 0..4095"));
            }
            core.admission.set_duplicate_peers(host, value as usize);
        }
        Ok(core.admission.duplicate_peers(host) as i64)
    }
}

/// `host:refuse_connections([on])`: while on, new incoming connections are ignored (ENet does
/// not answer them, so the other side sees its attempt fail). Returns the current setting.
unsafe fn refuse_connections(args: Args) -> Ret<bool> {
    // SAFETY: live host and its core.
    unsafe {
        let (core, host) = args.live_host(1)?;
        if !args.absent(2) {
            core.admission.set_refusing(&mut *host, args.truthy(2));
        }
        Ok(core.admission.refusing())
    }
}

/// The most records `flood_defence` accepts: 262,144 records are about 29 MB.
const MAXIMUM_CONNECT_RECORDS: u32 = 1 << 18;

/// `host:flood_defence([on [, records [, timeout]]])`: the handshake defence of vendor patches
/// 0023-0028 (docs/contract.md §10, docs/handshake.md), on by default. `on` false gives stock
/// ENet's handshake to new connections (handshakes under way finish as they began); `records` is
/// how many handshakes the host keeps without a slot under pressure (0..262144, rounded down to a
/// power of 2; 0 keeps none; live records move to the new table, and the clients of those that do
/// not fit are told DISCONNECT); `timeout` is how long (ms, 1..60000) an unverified handshake
/// lives. Returns the three settings; raises `enet: out of memory` when a new table cannot be
/// allocated (nothing changes then).
unsafe fn flood_defence(args: Args) -> Ret<(bool, i64, i64)> {
    // SAFETY: live host, borrowed only inside the body.
    unsafe {
        let (_, host) = args.live_host(1)?;
        if !args.absent(2) {
            let on = args.truthy(2);
            let (mut records, mut timeout) =
                ((*host).connectRecordLimit as u32, (*host).connectTimeout);
            if !args.absent(3) {
                records = args.u32(3)?;
                if records > MAXIMUM_CONNECT_RECORDS {
                    return Err(Raise::Arg(3, c"records must be 0..262144"));
                }
            }
            if !args.absent(4) {
                timeout = args.u32(4)?;
                if !(1..=60000).contains(&timeout) {
                    return Err(Raise::Arg(4, c"timeout must be 1..60000"));
                }
            }
            if enet::enet_host_connect_defence(host, c_int::from(on), records as usize, timeout) < 0
            {
                return Err(Raise::Msg(c"enet: out of memory"));
            }
        }
        let host = &*host;
        Ok((
            host.connectDefence != 0,
            host.connectRecordLimit as i64,
            host.connectTimeout.into(),
        ))
    }
}

/// `host:flood_statistics()`: what the handshake defence did, as five counters: VERIFY_CONNECTs
/// sent to unverified addresses, records evicted before they expired, records and half-open
/// peers expired, handshakes completed by an acknowledgement that echoed the random sent time,
/// and handshakes dropped (slot taken meanwhile, or wrong echoes).
unsafe fn flood_statistics(args: Args) -> Ret<[i64; 5]> {
    // SAFETY: live host, read by shared reference inside the body.
    unsafe {
        let host = &*args.live_host_as(1, Access::READ)?.1;
        Ok([
            host.connectsAnswered.into(),
            host.connectRecordsEvicted.into(),
            host.connectRecordsExpired.into(),
            host.connectsCompleted.into(),
            host.connectsDropped.into(),
        ])
    }
}

unsafe extern "C" fn crc32(buffers: *const enet::ENetBuffer, count: usize) -> u32 {
    // SAFETY: ENet passes its own buffer array, as it would to enet_crc32 directly.
    unsafe { enet::enet_crc32(buffers, count) }
}

/// `host:checksum([on])`: CRC32 checksums on every datagram (both ends must agree).
unsafe fn checksum(args: Args) -> Ret<bool> {
    // SAFETY: live host.
    unsafe {
        let (_, host) = args.live_host(1)?;
        if !args.absent(2) {
            (*host).checksum = args.truthy(2).then_some(crc32 as _);
        }
        Ok((*host).checksum.is_some())
    }
}

/// `host:compress_with_range_coder()`: the reference's switch, true when it worked.
unsafe fn compress_with_range_coder(args: Args) -> Ret<bool> {
    // SAFETY: live host.
    unsafe {
        let (_, host) = args.live_host(1)?;
        Ok(enet::enet_host_compress_with_range_coder(host) == 0)
    }
}

/// `host:compression([on])`: ENet's range coder on or off (both ends must agree).
unsafe fn compression(args: Args) -> Ret<Result<bool, Failure>> {
    // SAFETY: live host.
    unsafe {
        let (_, host) = args.live_host(1)?;
        if !args.absent(2) {
            if args.truthy(2) {
                if enet::enet_host_compress_with_range_coder(host) != 0 {
                    return Ok(Err(Failure::new("could not enable compression")));
                }
            } else {
                enet::enet_host_compress(host, ptr::null());
            }
        }
        Ok(Ok(!(*host).compressor.context.is_null()))
    }
}

/// `host:socket_buffer_sizes([receive [, send]])`: sets the given sizes (bytes) and returns
/// both as the OS reports them (Linux reports twice what was asked).
unsafe fn socket_buffer_sizes(args: Args) -> Ret<(i64, i64)> {
    // SAFETY: live host; out-parameters are valid.
    unsafe {
        let (_, host) = args.live_host(1)?;
        let socket = (*host).socket;
        let options = [enet::ENET_SOCKOPT_RCVBUF, enet::ENET_SOCKOPT_SNDBUF];
        let mut sizes = [None; 2];
        for (i, idx) in [2, 3].into_iter().enumerate() {
            if !args.absent(idx) {
                sizes[i] = Some(args.u32(idx)?.min(i32::MAX as u32) as c_int);
            }
        }
        for (option, size) in options.into_iter().zip(sizes) {
            if let Some(size) = size {
                enet::enet_socket_set_option(socket, option, size);
            }
        }
        let mut values = [0 as c_int; 2];
        for (option, value) in options.into_iter().zip(values.iter_mut()) {
            enet::enet_socket_get_option(socket, option, value);
        }
        Ok((values[0].into(), values[1].into()))
    }
}

/// The configuration methods of the host class.
pub const METHODS: Methods = methods! {
    c"compress_with_range_coder" => compress_with_range_coder,
    // larger sends are refused (`send` returns -1)
    c"maximum_packet_size" => tunable(
        |h| &mut h.maximumPacketSize,
        1,
        c"maximum_packet_size must be 1..2147483647",
    ),
    // per-peer cap on what its incoming commands hold until they are received (payload and
    // bookkeeping)
    c"maximum_waiting_data" => tunable(
        |h| &mut h.maximumWaitingData,
        1,
        c"maximum_waiting_data must be 1..2147483647",
    ),
    // cap on what the peers of one IP address hold together, past the reserve each peer keeps
    // (docs/api.md, "What a peer may make a host hold")
    c"maximum_address_waiting_data" => tunable(
        |h| &mut h.maximumAddressWaitingData,
        1,
        c"maximum_address_waiting_data must be 1..2147483647",
    ),
    // cap on what all peers hold together, past the reserve each peer keeps
    c"maximum_host_waiting_data" => tunable(
        |h| &mut h.maximumHostWaitingData,
        1,
        c"maximum_host_waiting_data must be 1..2147483647",
    ),
    c"mtu" => mtu,
    c"duplicate_peers" => duplicate_peers,
    c"refuse_connections" => refuse_connections,
    c"checksum" => checksum,
    c"compression" => compression,
    c"socket_buffer_sizes" => socket_buffer_sizes,
    c"flood_defence" => flood_defence,
    c"flood_statistics" => flood_statistics,
};
