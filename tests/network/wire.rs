//! ENet 1.3 datagrams by hand, after vendor/enet/include/enet/protocol.h: a 2-byte header
//! (peer id in the low 12 bits, session in bits 12-13, COMPRESSED bit 14, SENT_TIME bit 15),
//! an optional 2-byte sent time, then commands, each starting with a 4-byte command header
//! (command | flags, channel, reliable sequence number). All multi-byte fields are big-endian.
#![allow(dead_code)]
use crate::relay::Rng;

pub const ACKNOWLEDGE: u8 = 1;
pub const CONNECT: u8 = 2;
pub const VERIFY_CONNECT: u8 = 3;
pub const DISCONNECT: u8 = 4;
pub const PING: u8 = 5;
pub const SEND_RELIABLE: u8 = 6;
pub const SEND_UNRELIABLE: u8 = 7;
pub const SEND_FRAGMENT: u8 = 8;
pub const SEND_UNSEQUENCED: u8 = 9;
pub const BANDWIDTH_LIMIT: u8 = 10;
pub const THROTTLE_CONFIGURE: u8 = 11;
pub const SEND_UNRELIABLE_FRAGMENT: u8 = 12;
pub const FLAG_ACKNOWLEDGE: u8 = 1 << 7;
pub const FLAG_UNSEQUENCED: u8 = 1 << 6;
pub const HEADER_COMPRESSED: u16 = 1 << 14;
pub const HEADER_SENT_TIME: u16 = 1 << 15;
/// The peer id of datagrams that belong to no peer yet (CONNECT).
pub const NO_PEER: u16 = 0xFFF;
pub const MAXIMUM_FRAGMENT_COUNT: u32 = 1024 * 1024;
/// Receive buffer of an ENet host (ENET_PROTOCOL_MAXIMUM_MTU).
pub const MAXIMUM_MTU: usize = 4096;

/// Who a datagram claims to come from: the header fields a peer puts on its datagrams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Session {
    pub peer: u16,
    pub session: u8,
}

/// The peer id and session of a captured datagram (None for datagrams of no peer).
pub fn session_of(datagram: &[u8]) -> Option<Session> {
    let raw = u16::from_be_bytes([*datagram.first()?, *datagram.get(1)?]);
    let peer = raw & 0xFFF;
    (peer != NO_PEER).then_some(Session {
        peer,
        session: ((raw >> 12) & 3) as u8,
    })
}

/// A protocol header; `flags` are HEADER_* bits.
pub fn header(peer: u16, session: u8, flags: u16, sent_time: Option<u16>) -> Vec<u8> {
    let mut raw = (peer & 0xFFF) | ((session as u16 & 3) << 12) | flags;
    if sent_time.is_some() {
        raw |= HEADER_SENT_TIME;
    }
    let mut v = raw.to_be_bytes().to_vec();
    if let Some(t) = sent_time {
        v.extend_from_slice(&t.to_be_bytes());
    }
    v
}

pub fn with_header(s: Session, body: &[u8]) -> Vec<u8> {
    let mut v = header(s.peer, s.session, 0, Some(0x1234));
    v.extend_from_slice(body);
    v
}

/// A command header.
pub fn command(cmd: u8, channel: u8, seq: u16) -> Vec<u8> {
    let mut v = vec![cmd, channel];
    v.extend_from_slice(&seq.to_be_bytes());
    v
}

pub fn u16s(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_be_bytes());
}

pub fn u32s(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_be_bytes());
}

/// SEND_RELIABLE / SEND_UNRELIABLE / SEND_UNSEQUENCED with a declared length and actual data.
pub fn send(cmd: u8, channel: u8, seq: u16, group: u16, declared: u16, data: &[u8]) -> Vec<u8> {
    let flags = match cmd {
        SEND_RELIABLE => FLAG_ACKNOWLEDGE,
        SEND_UNSEQUENCED => FLAG_UNSEQUENCED,
        _ => 0,
    };
    let mut v = command(cmd | flags, channel, seq);
    if cmd != SEND_RELIABLE {
        u16s(&mut v, group);
    }
    u16s(&mut v, declared);
    v.extend_from_slice(data);
    v
}

/// A SEND_FRAGMENT or SEND_UNRELIABLE_FRAGMENT command with every field chosen by the caller.
pub struct Fragment {
    pub cmd: u8,
    pub channel: u8,
    pub seq: u16,
    pub start: u16,
    pub declared: u16,
    pub count: u32,
    pub number: u32,
    pub total: u32,
    pub offset: u32,
    pub data: Vec<u8>,
}

impl Fragment {
    pub fn bytes(&self) -> Vec<u8> {
        let flags = if self.cmd == SEND_FRAGMENT {
            FLAG_ACKNOWLEDGE
        } else {
            0
        };
        let mut v = command(self.cmd | flags, self.channel, self.seq);
        u16s(&mut v, self.start);
        u16s(&mut v, self.declared);
        u32s(&mut v, self.count);
        u32s(&mut v, self.number);
        u32s(&mut v, self.total);
        u32s(&mut v, self.offset);
        v.extend_from_slice(&self.data);
        v
    }
}

/// A CONNECT command (the fields of ENetProtocolConnect, in order).
pub fn connect(rng: &mut Rng, mtu: u32, window: u32, channels: u32) -> Vec<u8> {
    let mut v = command(CONNECT | FLAG_ACKNOWLEDGE, 0xFF, 1);
    u16s(&mut v, rng.below(0x1000) as u16); // outgoingPeerID
    v.push(rng.byte()); // incomingSessionID
    v.push(rng.byte()); // outgoingSessionID
    u32s(&mut v, mtu);
    u32s(&mut v, window);
    u32s(&mut v, channels);
    for _ in 0..5 {
        u32s(&mut v, rng.next() as u32); // bandwidths, throttle
    }
    u32s(&mut v, rng.next() as u32); // connectID
    u32s(&mut v, rng.next() as u32); // data
    v
}

/// Numbers that sit on the edges of ENet's checks.
pub const EDGES32: &[u32] = &[
    0,
    1,
    2,
    31,
    32,
    255,
    256,
    1364,
    4095,
    4096,
    65535,
    65536,
    MAXIMUM_FRAGMENT_COUNT,
    MAXIMUM_FRAGMENT_COUNT + 1,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFFE,
    0xFFFF_FFFF,
];

pub fn edge32(rng: &mut Rng) -> u32 {
    EDGES32[rng.below(EDGES32.len() as u64) as usize]
}

/// One random mutation of a captured datagram, in the spirit of a dumb fuzzer that knows where
/// the header and command fields sit.
pub fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let len = v.len().max(1) as u64;
        match rng.below(10) {
            0 | 1 => {
                // flip bits
                if !v.is_empty() {
                    let i = rng.below(len) as usize;
                    v[i] ^= 1 << rng.below(8);
                }
            }
            2 => {
                // an edge value into a 16- or 32-bit field (past the 4-byte header)
                let at = 2 + rng.below(len) as usize;
                let x = edge32(rng).to_be_bytes();
                let wide = if rng.chance(0.5) { 4 } else { 2 };
                for k in 0..wide {
                    if let Some(b) = v.get_mut(at + k) {
                        *b = x[4 - wide + k];
                    }
                }
            }
            3 => {
                // truncate
                let keep = rng.below(len + 1) as usize;
                v.truncate(keep);
            }
            4 => {
                // random tail
                let n = rng.below(64) as usize;
                v.extend(rng.bytes(n));
            }
            5 => {
                // splice another datagram's commands on
                let from = 2.min(other.len());
                v.extend_from_slice(&other[from..]);
            }
            6 => {
                // a different command number in the first command
                if v.len() > 4 {
                    v[4] = (v[4] & 0xF0) | rng.below(16) as u8;
                }
            }
            7 => {
                // header flags: compressed, sent time, session
                if v.len() >= 2 {
                    v[0] ^= [0x40, 0x80, 0x10, 0x20][rng.below(4) as usize];
                }
            }
            8 => {
                // a random byte, anywhere
                if !v.is_empty() {
                    let i = rng.below(len) as usize;
                    v[i] = rng.byte();
                }
            }
            _ => {
                // repeat the body (many commands in one datagram)
                if v.len() > 4 && v.len() < 1200 {
                    let body = v[4..].to_vec();
                    v.extend_from_slice(&body);
                }
            }
        }
    }
    v
}

/// The size of each command's fixed part (ENet's `commandSizes`), by command number.
pub const COMMAND_SIZES: [usize; 13] = [0, 8, 48, 44, 8, 4, 6, 8, 24, 8, 12, 16, 24];

/// One command of a received datagram.
#[derive(Clone, Debug)]
pub struct Command {
    pub number: u8,
    pub flags: u8,
    pub channel: u8,
    pub seq: u16,
    /// The fixed part after the command header (the payload is not included).
    pub fields: Vec<u8>,
}

impl Command {
    pub fn u16_at(&self, at: usize) -> u16 {
        u16::from_be_bytes([self.fields[at], self.fields[at + 1]])
    }
    pub fn u32_at(&self, at: usize) -> u32 {
        u32::from_be_bytes([
            self.fields[at],
            self.fields[at + 1],
            self.fields[at + 2],
            self.fields[at + 3],
        ])
    }
}

/// A datagram's header and commands, as ENet reads them (no compression, no checksum): the
/// raw peer id field, the sent time if there is one, and the commands up to the first one
/// that does not fit.
pub fn parse(datagram: &[u8]) -> Option<(u16, Option<u16>, Vec<Command>)> {
    let raw = u16::from_be_bytes([*datagram.first()?, *datagram.get(1)?]);
    let (sent, mut at) = if raw & HEADER_SENT_TIME != 0 {
        (
            Some(u16::from_be_bytes([*datagram.get(2)?, *datagram.get(3)?])),
            4,
        )
    } else {
        (None, 2)
    };
    let mut commands = Vec::new();
    while at + 4 <= datagram.len() {
        let number = datagram[at] & 0x0F;
        let size = *COMMAND_SIZES.get(number as usize)?;
        if size == 0 || at + size > datagram.len() {
            break;
        }
        let command = Command {
            number,
            flags: datagram[at] & 0xC0,
            channel: datagram[at + 1],
            seq: u16::from_be_bytes([datagram[at + 2], datagram[at + 3]]),
            fields: datagram[at + 4..at + size].to_vec(),
        };
        let payload = match number {
            SEND_RELIABLE => command.u16_at(0) as usize,
            SEND_UNRELIABLE | SEND_UNSEQUENCED | SEND_FRAGMENT | SEND_UNRELIABLE_FRAGMENT => {
                command.u16_at(2) as usize
            }
            _ => 0,
        };
        at += size + payload;
        commands.push(command);
    }
    Some((raw, sent, commands))
}

/// An ACKNOWLEDGE of reliable command `seq` on `channel`, echoing the sent time of the
/// datagram that carried it.
pub fn ack(channel: u8, seq: u16, sent_time: u16) -> Vec<u8> {
    let mut v = command(ACKNOWLEDGE, channel, seq);
    u16s(&mut v, seq);
    u16s(&mut v, sent_time);
    v
}

/// What a CONNECT or VERIFY_CONNECT says besides the peer id and sessions, in wire order.
#[derive(Clone, Copy, Debug)]
pub struct Handshake {
    pub mtu: u32,
    pub window: u32,
    pub channels: u32,
    pub incoming_bandwidth: u32,
    pub outgoing_bandwidth: u32,
    pub throttle_interval: u32,
    pub throttle_acceleration: u32,
    pub throttle_deceleration: u32,
    pub connect_id: u32,
}

impl Handshake {
    /// A stock client's CONNECT values (ENet's defaults), with our own connect id.
    pub fn stock(channels: u32, connect_id: u32) -> Handshake {
        Handshake {
            mtu: 1392,
            window: 65536,
            channels,
            incoming_bandwidth: 0,
            outgoing_bandwidth: 0,
            throttle_interval: 5000,
            throttle_acceleration: 2,
            throttle_deceleration: 2,
            connect_id,
        }
    }

    /// The values of a received CONNECT or VERIFY_CONNECT (`fields` from its fixed part).
    pub fn read(c: &Command) -> Handshake {
        Handshake {
            mtu: c.u32_at(4),
            window: c.u32_at(8),
            channels: c.u32_at(12),
            incoming_bandwidth: c.u32_at(16),
            outgoing_bandwidth: c.u32_at(20),
            throttle_interval: c.u32_at(24),
            throttle_acceleration: c.u32_at(28),
            throttle_deceleration: c.u32_at(32),
            connect_id: u32::from_ne_bytes(c.fields[36..40].try_into().unwrap()),
        }
    }

    fn put(&self, v: &mut Vec<u8>) {
        for x in [
            self.mtu,
            self.window,
            self.channels,
            self.incoming_bandwidth,
            self.outgoing_bandwidth,
            self.throttle_interval,
            self.throttle_acceleration,
            self.throttle_deceleration,
        ] {
            u32s(v, x);
        }
        // connectID is copied by ENet as it is, without byte swapping
        v.extend_from_slice(&self.connect_id.to_ne_bytes());
    }

    /// A CONNECT from our peer `peer` (the id the server puts on its datagrams to us).
    pub fn connect(&self, peer: u16) -> Vec<u8> {
        let mut v = command(CONNECT | FLAG_ACKNOWLEDGE, 0xFF, 1);
        u16s(&mut v, peer);
        v.extend_from_slice(&[0xFF, 0xFF]);
        self.put(&mut v);
        u32s(&mut v, 0); // data
        v
    }

    /// A VERIFY_CONNECT naming our peer `peer` and the sessions of both directions.
    pub fn verify(&self, peer: u16, incoming_session: u8, outgoing_session: u8) -> Vec<u8> {
        let mut v = command(VERIFY_CONNECT | FLAG_ACKNOWLEDGE, 0xFF, 1);
        u16s(&mut v, peer);
        v.push(incoming_session);
        v.push(outgoing_session);
        self.put(&mut v);
        v
    }
}
