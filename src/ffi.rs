//! The part of ENet's C API (vendor/enet/include/enet/enet.h, 1.3.18) that the module uses.
//!
//! This file is the one list of what we assume about ENet's ABI: `build.rs` reads it and checks
//! every `ENet*` struct's size and field offsets, and every `ENET_*` constant's value, against
//! the C compiler: at build time where it can run a probe (compile-time assertions, included
//! at the bottom), and always at `require` time against a table compiled for the target
//! ([`check_layout`]), so a cross or Windows build with a different layout fails cleanly with
//! `enet: ABI mismatch` instead of corrupting memory. Fields keep their C names for that.
#![allow(non_snake_case, non_camel_case_types, dead_code)]

use std::os::raw::{c_char, c_int, c_void};

#[cfg(not(windows))]
pub type ENetSocket = c_int;
#[cfg(windows)]
pub type ENetSocket = usize;

/// An IPv6 address and port (vendor/enet/patches/0019-ipv6-address.patch): an IPv4 address
/// a.b.c.d is held as `::ffff:a.b.c.d`, all zeros is the "any" address.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct ENetAddress {
    /// IPv6 address in network byte order.
    pub host: [u8; 16],
    /// Port in host byte order.
    pub port: u16,
    /// Interface index of a link-local IPv6 address, 0 otherwise.
    pub scopeID: u32,
}

/// The families a host's socket reaches (0020-dual-stack-socket): `IPV4` is an AF_INET socket,
/// `IPV6` an IPv6-only AF_INET6 one, `DUAL` an AF_INET6 one that reaches IPv4 peers too.
pub const ENET_ADDRESS_FAMILY_IPV4: c_int = 1;
pub const ENET_ADDRESS_FAMILY_IPV6: c_int = 2;
pub const ENET_ADDRESS_FAMILY_DUAL: c_int = 3;

#[repr(C)]
pub struct ENetListNode {
    pub next: *mut ENetListNode,
    pub previous: *mut ENetListNode,
}

#[repr(C)]
pub struct ENetList {
    pub sentinel: ENetListNode,
}

#[cfg(not(windows))]
#[repr(C)]
pub struct ENetBuffer {
    pub data: *mut c_void,
    pub dataLength: usize,
}
#[cfg(windows)]
#[repr(C)]
pub struct ENetBuffer {
    pub dataLength: usize,
    pub data: *mut c_void,
}

/// `ENetProtocol` is a packed union of wire commands; we never look inside it.
pub type ENetProtocol = [u8; 48];
pub const ENET_PROTOCOL_MAXIMUM_PACKET_COMMANDS: usize = 32;
pub const ENET_BUFFER_MAXIMUM: usize = 1 + 2 * ENET_PROTOCOL_MAXIMUM_PACKET_COMMANDS;
pub const ENET_PROTOCOL_MAXIMUM_MTU: usize = 4096;
pub const ENET_PROTOCOL_MAXIMUM_PEER_ID: u32 = 0xFFF;
pub const ENET_PEER_UNSEQUENCED_WINDOW_SIZE: usize = 1024;

pub const ENET_PACKET_FLAG_RELIABLE: u32 = 1 << 0;
pub const ENET_PACKET_FLAG_UNSEQUENCED: u32 = 1 << 1;

pub type ENetPacketFreeCallback = Option<unsafe extern "C" fn(*mut ENetPacket)>;

#[repr(C)]
pub struct ENetPacket {
    pub referenceCount: usize,
    pub flags: u32,
    pub data: *mut u8,
    pub dataLength: usize,
    pub freeCallback: ENetPacketFreeCallback,
    pub userData: *mut c_void,
}

pub const ENET_SOCKOPT_RCVBUF: c_int = 3;
pub const ENET_SOCKOPT_SNDBUF: c_int = 4;
pub const ENET_PROTOCOL_MINIMUM_MTU: u32 = 576;

pub const ENET_PEER_STATE_DISCONNECTED: c_int = 0;
pub const ENET_PEER_STATE_CONNECTING: c_int = 1;
pub const ENET_PEER_STATE_ACKNOWLEDGING_CONNECT: c_int = 2;
pub const ENET_PEER_STATE_CONNECTION_PENDING: c_int = 3;
pub const ENET_PEER_STATE_CONNECTION_SUCCEEDED: c_int = 4;
pub const ENET_PEER_STATE_CONNECTED: c_int = 5;
pub const ENET_PEER_STATE_DISCONNECT_LATER: c_int = 6;
pub const ENET_PEER_STATE_DISCONNECTING: c_int = 7;
pub const ENET_PEER_STATE_ACKNOWLEDGING_DISCONNECT: c_int = 8;
pub const ENET_PEER_STATE_ZOMBIE: c_int = 9;

pub const ENET_PEER_PACKET_LOSS_SCALE: u32 = 1 << 16;
pub const ENET_PEER_PACKET_THROTTLE_SCALE: u32 = 32;

#[repr(C)]
pub struct ENetChannel {
    _opaque: [u8; 0],
}

/// Local patches 0023 and 0026: the server's side of an unverified handshake (`vendor/enet`'s
/// `ENetHandshake`). The binding never reads it; it is here for the size of `ENetPeer`.
#[repr(C)]
pub struct ENetHandshake {
    /// The VERIFY_CONNECT command as sent (ENet's packed `ENetProtocolVerifyConnect`).
    pub verify: [u8; 44],
    pub connectData: u32,
    pub incomingBandwidth: u32,
    pub outgoingBandwidth: u32,
    pub startTime: u32,
    pub answerTime: u32,
    pub lifetime: u32,
    pub clientPeerID: u16,
    pub sentTimes: [u16; 2],
    pub credit: u16,
    pub issued: u8,
    pub echoed: u8,
    pub answers: u8,
    pub failures: u8,
    pub heard: u8,
}

#[repr(C)]
pub struct ENetPeer {
    pub dispatchList: ENetListNode,
    pub host: *mut ENetHost,
    pub outgoingPeerID: u16,
    pub incomingPeerID: u16,
    pub connectID: u32,
    pub outgoingSessionID: u8,
    pub incomingSessionID: u8,
    pub address: ENetAddress,
    pub data: *mut c_void,
    /// `ENetPeerState`, a C enum (int-sized on every ABI we build for).
    pub state: c_int,
    pub channels: *mut ENetChannel,
    pub channelCount: usize,
    pub incomingBandwidth: u32,
    pub outgoingBandwidth: u32,
    pub incomingBandwidthThrottleEpoch: u32,
    pub outgoingBandwidthThrottleEpoch: u32,
    pub incomingDataTotal: u32,
    pub outgoingDataTotal: u32,
    pub lastSendTime: u32,
    pub lastReceiveTime: u32,
    pub nextTimeout: u32,
    pub earliestTimeout: u32,
    pub packetLossEpoch: u32,
    pub packetsSent: u32,
    pub packetsLost: u32,
    pub packetLoss: u32,
    pub packetLossVariance: u32,
    pub packetThrottle: u32,
    pub packetThrottleLimit: u32,
    pub packetThrottleCounter: u32,
    pub packetThrottleEpoch: u32,
    pub packetThrottleAcceleration: u32,
    pub packetThrottleDeceleration: u32,
    pub packetThrottleInterval: u32,
    pub pingInterval: u32,
    pub timeoutLimit: u32,
    pub timeoutMinimum: u32,
    pub timeoutMaximum: u32,
    pub lastRoundTripTime: u32,
    pub lowestRoundTripTime: u32,
    pub lastRoundTripTimeVariance: u32,
    pub highestRoundTripTimeVariance: u32,
    pub roundTripTime: u32,
    pub roundTripTimeVariance: u32,
    pub mtu: u32,
    pub windowSize: u32,
    pub reliableDataInTransit: u32,
    pub outgoingReliableSequenceNumber: u16,
    pub acknowledgements: ENetList,
    pub sentReliableCommands: ENetList,
    pub outgoingSendReliableCommands: ENetList,
    pub outgoingCommands: ENetList,
    pub dispatchedCommands: ENetList,
    pub flags: u16,
    pub reserved: u16,
    pub incomingUnsequencedGroup: u16,
    pub outgoingUnsequencedGroup: u16,
    pub unsequencedWindow: [u32; ENET_PEER_UNSEQUENCED_WINDOW_SIZE / 32],
    pub eventData: u32,
    pub totalWaitingData: usize,
    /// Local patch (vendor/enet/patches/0007-disconnect-reason.patch): why the last DISCONNECT
    /// event happened.
    pub disconnectReason: u32,
    /// Local patch 0017-sent-reliable-table: ENet's own index of what is in flight (the
    /// binding never reads these three; they are here for the struct's size).
    pub sentReliableTable: *mut c_void,
    pub sentReliableTableSize: usize,
    pub sentReliableCount: usize,
    /// Local patch 0023 (the handshake under a forged-CONNECT flood): the handshake of
    /// an unverified half-open peer (C-owned; the binding never reads it).
    pub handshake: ENetHandshake,
    /// Local patch 0024: the connection record whose offer reserved this free slot.
    pub connectReservation: u32,
    /// Local patch 0024: the peer id its client sends when it is another slot's (an alias).
    pub connectAlias: u16,
    /// Local patch 0024: its place in the host's index of peers by address and port.
    pub endpointChain: u32,
    pub endpointNext: u32,
    /// Local patch 0024: the sessions a client may still send under this slot's id without a peer.
    pub offeredIncomingSessionID: u8,
    pub offeredOutgoingSessionID: u8,
    /// Local patch 0041: the data of a connect event not dispatched yet (C-owned).
    pub connectData: u32,
}

#[repr(C)]
pub struct ENetCompressor {
    pub context: *mut c_void,
    pub compress: *mut c_void,
    pub decompress: *mut c_void,
    pub destroy: *mut c_void,
}

pub type ENetChecksumCallback = Option<unsafe extern "C" fn(*const ENetBuffer, usize) -> u32>;

#[repr(C)]
pub struct ENetHost {
    pub socket: ENetSocket,
    /// `ENetAddressFamily`, a C enum (local patch 0020-dual-stack-socket).
    pub addressFamily: c_int,
    pub address: ENetAddress,
    pub incomingBandwidth: u32,
    pub outgoingBandwidth: u32,
    pub bandwidthThrottleEpoch: u32,
    pub mtu: u32,
    pub randomSeed: u32,
    pub recalculateBandwidthLimits: c_int,
    pub peers: *mut ENetPeer,
    pub peerCount: usize,
    pub channelLimit: usize,
    pub serviceTime: u32,
    pub dispatchQueue: ENetList,
    pub totalQueued: u32,
    pub packetSize: usize,
    pub headerFlags: u16,
    pub commands: [ENetProtocol; ENET_PROTOCOL_MAXIMUM_PACKET_COMMANDS],
    pub commandCount: usize,
    pub buffers: [ENetBuffer; ENET_BUFFER_MAXIMUM],
    pub bufferCount: usize,
    pub checksum: ENetChecksumCallback,
    pub compressor: ENetCompressor,
    pub packetData: [[u8; ENET_PROTOCOL_MAXIMUM_MTU]; 2],
    pub receivedAddress: ENetAddress,
    pub receivedData: *mut u8,
    pub receivedDataLength: usize,
    pub totalSentData: u32,
    pub totalSentPackets: u32,
    pub totalReceivedData: u32,
    pub totalReceivedPackets: u32,
    pub intercept: *mut c_void,
    pub connectedPeers: usize,
    pub bandwidthLimitedPeers: usize,
    pub duplicatePeers: usize,
    pub maximumPacketSize: usize,
    pub maximumWaitingData: usize,
    /// Local patch (vendor/enet/patches/0014-held-data-limits.patch): memory held for every
    /// peer's incoming commands, bookkeeping included.
    pub totalWaitingData: usize,
    /// Local patch 0014: the most the peers of one address may hold beyond their reserve.
    pub maximumAddressWaitingData: usize,
    /// Local patch 0014: the most all peers together may hold beyond their reserve.
    pub maximumHostWaitingData: usize,
    /// Local patch 0014: ENet's own cache while it receives a datagram.
    pub receivedAddressWaitingData: usize,
    /// Local patch 0027: 1 for the verified handshake in new connections, 0 for stock ENet's
    /// (`enet_host_connect_defence` sets it, `connectRecordLimit` and `connectTimeout`).
    pub connectDefence: c_int,
    /// Local patch 0024: the ring of connection records and its hash chains (C-owned).
    pub connectRecords: *mut c_void,
    pub connectRecordChains: *mut u32,
    pub connectRecordLimit: usize,
    pub connectRecordHead: usize,
    pub connectRecordCount: usize,
    pub connectRecordSwept: usize,
    pub connectRecordSlot: usize,
    /// Local patch 0024: the index of peers by address and port, and the bitmaps of slots.
    pub endpointChains: *mut u32,
    pub endpointChainCount: usize,
    pub slotBits: *mut u32,
    pub slotWords: usize,
    pub connectTimeout: u32,
    pub connectSecret: [u32; 4],
    /// Local patch 0025: wrong echoes counted for the whole host, per window.
    pub connectGuessWindow: u32,
    pub connectGuesses: u32,
    pub connectGuessesBefore: u32,
    /// Local patch 0026: the received datagram's length before decompression.
    pub receivedWireLength: usize,
    /// Local patch 0027: the counters of `host:flood_statistics()`.
    pub connectsAnswered: u32,
    pub connectRecordsEvicted: u32,
    pub connectRecordsExpired: u32,
    pub connectsCompleted: u32,
    pub connectsDropped: u32,
    /// Local patch 0038: when the send pass must next visit every peer in use, and when it last did.
    pub nextFullSendPass: u32,
    pub lastFullSendPass: u32,
}

pub const ENET_DISCONNECT_REASON_LOCAL: u32 = 1;
pub const ENET_DISCONNECT_REASON_REMOTE: u32 = 2;
pub const ENET_DISCONNECT_REASON_TIMEOUT: u32 = 3;
pub const ENET_DISCONNECT_REASON_REFUSED: u32 = 4;

pub const ENET_EVENT_TYPE_NONE: c_int = 0;
pub const ENET_EVENT_TYPE_CONNECT: c_int = 1;
pub const ENET_EVENT_TYPE_DISCONNECT: c_int = 2;
pub const ENET_EVENT_TYPE_RECEIVE: c_int = 3;

#[repr(C)]
pub struct ENetEvent {
    /// `ENetEventType`, a C enum.
    pub r#type: c_int,
    pub peer: *mut ENetPeer,
    pub channelID: u8,
    pub data: u32,
    pub packet: *mut ENetPacket,
}

impl ENetEvent {
    pub const fn empty() -> Self {
        ENetEvent {
            r#type: ENET_EVENT_TYPE_NONE,
            peer: std::ptr::null_mut(),
            channelID: 0,
            data: 0,
            packet: std::ptr::null_mut(),
        }
    }
}

extern "C" {
    pub fn enet_initialize() -> c_int;
    pub fn enet_linked_version() -> u32;

    pub fn enet_socket_get_address(socket: ENetSocket, address: *mut ENetAddress) -> c_int;
    pub fn enet_socket_set_option(socket: ENetSocket, option: c_int, value: c_int) -> c_int;
    pub fn enet_socket_get_option(socket: ENetSocket, option: c_int, value: *mut c_int) -> c_int;
    pub fn enet_crc32(buffers: *const ENetBuffer, bufferCount: usize) -> u32;
    pub fn enet_host_compress(host: *mut ENetHost, compressor: *const ENetCompressor);

    pub fn enet_address_set_host(address: *mut ENetAddress, hostName: *const c_char) -> c_int;
    pub fn enet_address_to_socket_address(
        address: *const ENetAddress,
        family: c_int,
        sockAddr: *mut c_void,
    ) -> usize;
    pub fn enet_address_from_socket_address(
        address: *mut ENetAddress,
        sockAddr: *const c_void,
    ) -> c_int;

    pub fn enet_packet_create(
        data: *const c_void,
        dataLength: usize,
        flags: u32,
    ) -> *mut ENetPacket;
    pub fn enet_packet_destroy(packet: *mut ENetPacket);

    pub fn enet_host_create(
        address: *const ENetAddress,
        peerCount: usize,
        channelLimit: usize,
        incomingBandwidth: u32,
        outgoingBandwidth: u32,
    ) -> *mut ENetHost;
    pub fn enet_host_destroy(host: *mut ENetHost);
    pub fn enet_host_connect(
        host: *mut ENetHost,
        address: *const ENetAddress,
        channelCount: usize,
        data: u32,
    ) -> *mut ENetPeer;
    pub fn enet_host_check_events(host: *mut ENetHost, event: *mut ENetEvent) -> c_int;
    pub fn enet_host_service(host: *mut ENetHost, event: *mut ENetEvent, timeout: u32) -> c_int;
    pub fn enet_host_flush(host: *mut ENetHost);
    pub fn enet_host_broadcast(host: *mut ENetHost, channelID: u8, packet: *mut ENetPacket);
    pub fn enet_host_compress_with_range_coder(host: *mut ENetHost) -> c_int;
    pub fn enet_host_channel_limit(host: *mut ENetHost, channelLimit: usize);
    pub fn enet_host_bandwidth_limit(host: *mut ENetHost, incoming: u32, outgoing: u32);
    /// Local patch 0027: 0, or -1 when a new record table could not be allocated.
    pub fn enet_host_connect_defence(
        host: *mut ENetHost,
        enabled: c_int,
        record_limit: usize,
        timeout: u32,
    ) -> c_int;

    pub fn enet_peer_send(peer: *mut ENetPeer, channelID: u8, packet: *mut ENetPacket) -> c_int;
    pub fn enet_peer_receive(peer: *mut ENetPeer, channelID: *mut u8) -> *mut ENetPacket;
    pub fn enet_peer_ping(peer: *mut ENetPeer);
    pub fn enet_peer_ping_interval(peer: *mut ENetPeer, pingInterval: u32);
    pub fn enet_peer_timeout(peer: *mut ENetPeer, limit: u32, minimum: u32, maximum: u32);
    pub fn enet_peer_reset(peer: *mut ENetPeer);
    pub fn enet_peer_disconnect(peer: *mut ENetPeer, data: u32);
    pub fn enet_peer_disconnect_now(peer: *mut ENetPeer, data: u32);
    pub fn enet_peer_disconnect_later(peer: *mut ENetPeer, data: u32);
    pub fn enet_peer_throttle_configure(
        peer: *mut ENetPeer,
        interval: u32,
        acceleration: u32,
        deceleration: u32,
    );
}

// Compile-time proof that the structs above match the C compiler's view of enet.h (empty when
// build.rs could not run its probe: cross and Windows builds).
include!(concat!(env!("OUT_DIR"), "/layout_check.rs"));

// `LAYOUT_EXPECTED`: every size, offset and constant above, as Rust sees them, in the order of
// the C table `enet_rs_layout` that build.rs compiled for the target.
include!(concat!(env!("OUT_DIR"), "/layout_table.rs"));

extern "C" {
    static enet_rs_layout: [u64; LAYOUT_EXPECTED.len()];
}

/// A disagreement between this file and the C compiler: what, and the two values.
#[derive(Clone, Copy, Debug)]
pub struct Mismatch {
    pub what: &'static str,
    pub rust: u64,
    pub c: u64,
}

/// Compares this file with the C compiler's view of enet.h for the target (module comment):
/// `Err` names the first disagreement.
pub fn check_layout() -> Result<(), Mismatch> {
    // SAFETY: a constant array of that length, defined by the C file build.rs compiles.
    compare_layout(&LAYOUT_EXPECTED, unsafe { &enet_rs_layout })
}

fn compare_layout(expected: &[(&'static str, u64)], actual: &[u64]) -> Result<(), Mismatch> {
    if expected.len() != actual.len() {
        return Err(Mismatch {
            what: "number of items",
            rust: expected.len() as u64,
            c: actual.len() as u64,
        });
    }
    for (&(what, rust), &c) in expected.iter().zip(actual) {
        if rust != c {
            return Err(Mismatch { what, rust, c });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_table_matches_this_file() {
        if let Err(e) = check_layout() {
            panic!("{e:?}");
        }
        let labels: Vec<&str> = LAYOUT_EXPECTED.iter().map(|(l, _)| *l).collect();
        for wanted in [
            "sizeof(ENetPeer)",
            "offsetof(ENetPeer, disconnectReason)",
            "offsetof(ENetHost, maximumWaitingData)",
            "offsetof(ENetEvent, type)",
            "ENET_PEER_STATE_ZOMBIE",
            "ENET_PACKET_FLAG_UNSEQUENCED",
        ] {
            assert!(labels.contains(&wanted), "{wanted} is checked");
        }
    }

    #[test]
    fn a_mismatch_is_reported_not_ignored() {
        let actual: Vec<u64> = LAYOUT_EXPECTED.iter().map(|(_, v)| *v).collect();
        let mut wrong = actual.clone();
        let at = labels_index("offsetof(ENetHost, peers)");
        wrong[at] += 8;
        let Err(err) = compare_layout(&LAYOUT_EXPECTED, &wrong) else {
            panic!("a wrong offset passed");
        };
        assert_eq!(err.what, "offsetof(ENetHost, peers)");
        assert_eq!(err.c, err.rust + 8);
        assert!(compare_layout(&LAYOUT_EXPECTED, &actual[1..]).is_err());
    }

    /// ENet's own conversion between `ENetAddress` and system socket addresses (vendor/enet
    /// 0020): an IPv4 peer of an AF_INET6 socket must be a mapped `sockaddr_in6`, which macOS and
    /// FreeBSD insist on while Linux would also take a `sockaddr_in`, so only this test catches it
    /// here.
    #[cfg(unix)]
    #[test]
    fn socket_addresses_follow_the_socket_family() {
        use std::mem::{size_of, zeroed};
        let to = |a: &ENetAddress, family: c_int| -> (usize, libc::sockaddr_storage) {
            // SAFETY: sockaddr_storage is plain data with room for either socket address.
            let mut storage: libc::sockaddr_storage = unsafe { zeroed() };
            let ptr = &mut storage as *mut libc::sockaddr_storage as *mut c_void;
            // SAFETY: a valid address and a buffer as large as the function requires.
            (
                unsafe { enet_address_to_socket_address(a, family, ptr) },
                storage,
            )
        };
        let as_v6 = |s: &libc::sockaddr_storage| {
            // SAFETY: sockaddr_storage is large and aligned enough for a sockaddr_in6.
            unsafe { *(s as *const libc::sockaddr_storage as *const libc::sockaddr_in6) }
        };
        let as_v4 = |s: &libc::sockaddr_storage| {
            // SAFETY: as above, for a sockaddr_in.
            unsafe { *(s as *const libc::sockaddr_storage as *const libc::sockaddr_in) }
        };
        let mut ipv4 = ENetAddress {
            port: 6789,
            ..ENetAddress::default()
        };
        ipv4.host[10..].copy_from_slice(&[0xFF, 0xFF, 192, 0, 2, 7]);

        for family in [ENET_ADDRESS_FAMILY_DUAL, ENET_ADDRESS_FAMILY_IPV6] {
            let (len, s) = to(&ipv4, family);
            assert_eq!(len, size_of::<libc::sockaddr_in6>(), "family {family}");
            let sin6 = as_v6(&s);
            assert_eq!(i32::from(sin6.sin6_family), libc::AF_INET6);
            assert_eq!(u16::from_be(sin6.sin6_port), 6789);
            assert_eq!(sin6.sin6_addr.s6_addr, ipv4.host, "::ffff:192.0.2.7");
        }
        let (len, s) = to(&ipv4, ENET_ADDRESS_FAMILY_IPV4);
        assert_eq!(len, size_of::<libc::sockaddr_in>());
        let sin = as_v4(&s);
        assert_eq!(i32::from(sin.sin_family), libc::AF_INET);
        assert_eq!(u16::from_be(sin.sin_port), 6789);
        assert_eq!(sin.sin_addr.s_addr.to_ne_bytes(), [192, 0, 2, 7]);

        // The any address binds INADDR_ANY on an IPv4 socket and :: on an IPv6 one.
        let any = ENetAddress::default();
        assert_eq!(
            as_v4(&to(&any, ENET_ADDRESS_FAMILY_IPV4).1).sin_addr.s_addr,
            0
        );
        assert_eq!(
            as_v6(&to(&any, ENET_ADDRESS_FAMILY_DUAL).1)
                .sin6_addr
                .s6_addr,
            [0; 16]
        );

        // An IPv6 address: with its scope on an IPv6 socket, unreachable from an IPv4 one.
        let mut link_local = ENetAddress {
            port: 1,
            scopeID: 7,
            ..ENetAddress::default()
        };
        link_local.host[..2].copy_from_slice(&[0xfe, 0x80]);
        link_local.host[15] = 1;
        let sin6 = as_v6(&to(&link_local, ENET_ADDRESS_FAMILY_DUAL).1);
        assert_eq!(sin6.sin6_scope_id, 7);
        assert_eq!(sin6.sin6_addr.s6_addr, link_local.host);
        assert_eq!(to(&link_local, ENET_ADDRESS_FAMILY_IPV4).0, 0);

        // Back: a sockaddr_in and a mapped sockaddr_in6 give the same address.
        let from = |s: &libc::sockaddr_storage| {
            let mut a = ENetAddress::default();
            let ptr = s as *const libc::sockaddr_storage as *const c_void;
            // SAFETY: a socket address in a buffer of its type's size at least.
            let rc = unsafe { enet_address_from_socket_address(&mut a, ptr) };
            (rc, a)
        };
        assert_eq!(from(&to(&ipv4, ENET_ADDRESS_FAMILY_IPV4).1), (0, ipv4));
        assert_eq!(from(&to(&ipv4, ENET_ADDRESS_FAMILY_DUAL).1), (0, ipv4));
        assert_eq!(
            from(&to(&link_local, ENET_ADDRESS_FAMILY_DUAL).1),
            (0, link_local)
        );
        // SAFETY: plain data.
        let mut unix: libc::sockaddr_storage = unsafe { zeroed() };
        unix.ss_family = libc::AF_UNIX as libc::sa_family_t;
        assert_eq!(from(&unix).0, -1);
    }

    fn labels_index(label: &str) -> usize {
        LAYOUT_EXPECTED
            .iter()
            .position(|(l, _)| *l == label)
            .unwrap()
    }
}
