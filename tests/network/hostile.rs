//! Hostile datagrams: while a legitimate client talks to a server (through a clean relay, which
//! lets us send from the client's own address), raw UDP from other sockets and from the
//! client's address tries to break the receive path. See tests/net/hostile.lua for what the
//! Lua side asserts.
//!
//! Bad checksums are covered by tests/lua/additions.lua (`host:checksum(true)`: a client that
//! does not checksum never gets in, one that does is served); the fuzz here runs without them.
use crate::common::{lines_with, LuaProcess};
use crate::relay::{Dir, Profile, Relay, Rng};
use crate::wire::{self, Fragment, Session};
use crate::{Ctx, Outcome};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Forged and malformed datagrams that must not disturb the legitimate connection.
    Targeted,
    /// Mutations of captured traffic, also from the client's address: the connection may be
    /// reset (a mutated DISCONNECT is a valid DISCONNECT), but the hosts keep serving.
    Fuzz { iterations: u32, pace: Duration },
}

/// The loopback address a case runs on, and what the server binds.
#[derive(Clone, Copy)]
struct Net {
    loopback: IpAddr,
    bind: &'static str,
}

const IPV4: Net = Net {
    loopback: IpAddr::V4(Ipv4Addr::LOCALHOST),
    bind: "127.0.0.1:*",
};

/// The same cases over IPv6 (docs/contract.md §6): a server bound to `[::1]`, a dual-stack client
/// (a host created with no address) behind the relay on ::1, strangers on ::1.
const IPV6: Net = Net {
    loopback: IpAddr::V6(Ipv6Addr::LOCALHOST),
    bind: "[::1]:*",
};

pub fn targeted(ctx: &Ctx) -> Outcome {
    run(ctx, "hostile_targeted", Mode::Targeted, false, false, IPV4)
}

pub fn targeted_ipv6(ctx: &Ctx) -> Outcome {
    run(
        ctx,
        "ipv6_hostile_targeted",
        Mode::Targeted,
        false,
        false,
        IPV6,
    )
}

pub fn targeted_compressed(ctx: &Ctx) -> Outcome {
    run(
        ctx,
        "hostile_targeted_compressed",
        Mode::Targeted,
        true,
        false,
        IPV4,
    )
}

pub fn fuzz(ctx: &Ctx) -> Outcome {
    let mode = Mode::Fuzz {
        iterations: 20_000,
        pace: Duration::from_micros(60),
    };
    run(ctx, "hostile_fuzz", mode, false, false, IPV4)
}

pub fn fuzz_ipv6(ctx: &Ctx) -> Outcome {
    let mode = Mode::Fuzz {
        iterations: 20_000,
        pace: Duration::from_micros(60),
    };
    run(ctx, "ipv6_hostile_fuzz", mode, false, false, IPV6)
}

pub fn fuzz_compressed(ctx: &Ctx) -> Outcome {
    let mode = Mode::Fuzz {
        iterations: 20_000,
        pace: Duration::from_micros(60),
    };
    run(ctx, "hostile_fuzz_compressed", mode, true, false, IPV4)
}

/// The receive-path fuzz once under valgrind, with compression on (the range decoder too).
pub fn fuzz_valgrind(ctx: &Ctx) -> Outcome {
    if ctx.interp == "luajit" {
        return Ok("skipped: valgrind runs on a PUC Lua flavour (the lua54 run)".into());
    }
    if !crate::common::have("valgrind") {
        return if ctx.ci {
            Err("valgrind not found".into())
        } else {
            Ok("SKIPPED: valgrind not found".into())
        };
    }
    let mode = Mode::Fuzz {
        iterations: 3_000,
        pace: Duration::from_micros(700),
    };
    run(ctx, "hostile_fuzz_valgrind", mode, true, true, IPV4)
}

fn run(ctx: &Ctx, name: &str, mode: Mode, compress: bool, valgrind: bool, net: Net) -> Outcome {
    let seed = ctx.seed_for(name);
    let mut rng = Rng::new(seed);
    let relay = Relay::start_on(net.loopback, seed, Profile::CLEAN);
    let stop_file = ctx
        .module_dir
        .join(format!("stop-{name}-{}", std::process::id()));
    let _ = std::fs::remove_file(&stop_file);
    let env = [
        ("ENET_RELAY", relay.addr.to_string()),
        (
            "ENET_MODE",
            if mode == Mode::Targeted {
                "strict"
            } else {
                "fuzz"
            }
            .to_string(),
        ),
        ("ENET_COMPRESS", if compress { "1" } else { "" }.to_string()),
        ("ENET_STOP_FILE", stop_file.display().to_string()),
        ("ENET_SLOW", if valgrind { "1" } else { "" }.to_string()),
        ("ENET_BIND", net.bind.to_string()),
    ];
    let mut acks = ctx.acks(name);
    let mut cmd = ctx.lua(ctx.interp, &ctx.module_dir, "hostile.lua", &env);
    cmd.env("ENET_ACK_DIR", &acks.dir);
    if valgrind {
        cmd = crate::common::under_valgrind(&cmd);
    }
    let mut proc = LuaProcess::spawn(cmd)?;
    let startup = Duration::from_secs(if valgrind { 60 } else { 20 });
    relay.command_acked(&proc.wait_line("RELAY server", startup)?, &mut acks);
    let ready = proc.wait_line("READY", startup)?;
    let server: SocketAddr = ready[6..]
        .trim()
        .parse()
        .map_err(|e| format!("{ready}: {e}"))?;
    let (up, down) = relay.captured();
    let to_server = up.iter().find_map(|d| wire::session_of(d));
    let to_client = down.iter().find_map(|d| wire::session_of(d));
    let (Some(to_server), Some(to_client)) = (to_server, to_client) else {
        return Err("no session seen in the captured handshake".into());
    };
    let foreign: Vec<UdpSocket> = (0..4)
        .map(|_| UdpSocket::bind((net.loopback, 0)).expect("socket"))
        .collect();
    let mut sink = Sink {
        relay: &relay,
        foreign: &foreign,
        server,
        sent: 0,
        pace: match mode {
            Mode::Targeted => Duration::from_micros(100),
            Mode::Fuzz { pace, .. } => pace,
        },
    };

    let injected = match mode {
        Mode::Targeted => {
            let until = Instant::now() + Duration::from_millis(2500);
            let mut rounds = 0;
            while Instant::now() < until {
                catalogue(&mut rng, &mut sink, to_server, to_client);
                rounds += 1;
            }
            format!("{} crafted datagrams in {rounds} rounds", sink.sent)
        }
        Mode::Fuzz { iterations, .. } => {
            // Let the legitimate traffic fill the capture with real datagrams to mutate.
            std::thread::sleep(Duration::from_millis(300));
            let (up, down) = relay.captured();
            for _ in 0..iterations {
                let (dir, pool) = match rng.below(10) {
                    0..=5 => (Some(Dir::ToServer), &up),
                    6..=8 => (Some(Dir::ToClient), &down),
                    _ => (None, &up),
                };
                let pick = |rng: &mut Rng| &pool[rng.below(pool.len() as u64) as usize];
                let seed_dgram = pick(&mut rng).clone();
                let other = pick(&mut rng).clone();
                let dgram = wire::mutate(&mut rng, &seed_dgram, &other);
                match dir {
                    Some(d) => sink.via_peer(d, dgram),
                    None => sink.foreign(&mut rng, &dgram),
                }
            }
            format!(
                "{iterations} fuzz iterations (mutations of {} captured datagrams)",
                up.len() + down.len()
            )
        }
    };
    // Give the injections queued in the relay time to go out before stopping.
    std::thread::sleep(Duration::from_millis(100));
    std::fs::write(&stop_file, b"stop").map_err(|e| e.to_string())?;
    let timeout = Duration::from_secs(if valgrind { 240 } else { 60 });
    let result = proc.finish(timeout, |_| {});
    let _ = std::fs::remove_file(&stop_file);
    let out = result?;
    Ok(format!(
        "{injected}, {} injected by the relay; {}",
        relay
            .stats()
            .injected
            .load(std::sync::atomic::Ordering::Relaxed),
        lines_with(&out, "COUNT ")
    ))
}

/// Where crafted datagrams go.
struct Sink<'a> {
    relay: &'a Relay,
    foreign: &'a [UdpSocket],
    server: SocketAddr,
    sent: u64,
    /// A pause after each datagram: we test malformed input, not a flood (a flood fills the
    /// receiver's socket buffer, the legitimate datagrams are lost with the garbage, and the
    /// connection times out, as any UDP protocol would).
    pace: Duration,
}

impl Sink<'_> {
    /// From a socket the server has never heard of.
    fn foreign(&mut self, rng: &mut Rng, data: &[u8]) {
        let s = &self.foreign[rng.below(self.foreign.len() as u64) as usize];
        if s.send_to(data, self.server).is_ok() {
            self.sent += 1;
        }
        std::thread::sleep(self.pace);
        // Drain whatever the server answers (VERIFY_CONNECT to forged CONNECTs).
        let mut buf = [0u8; 64];
        s.set_nonblocking(true).unwrap();
        while s.recv_from(&mut buf).is_ok() {}
    }

    /// From the legitimate peer's own address (through the relay).
    fn via_peer(&mut self, dir: Dir, data: Vec<u8>) {
        self.relay.inject(dir, data);
        self.sent += 1;
        std::thread::sleep(self.pace);
    }
}

/// One round of every kind of malformed or forged datagram we know how to make.
fn catalogue(rng: &mut Rng, sink: &mut Sink, to_server: Session, to_client: Session) {
    let parts: [(&str, Part); 7] = [
        ("random_and_oversized", random_and_oversized),
        ("truncated", truncated),
        ("forged_ids", forged_ids),
        ("connects", connects),
        ("compressed_garbage", compressed_garbage),
        ("bad_fragments", bad_fragments),
        ("malformed_commands", malformed_commands),
    ];
    for (name, part) in parts {
        // HOSTILE_PARTS=name,name narrows a failing round down to its culprit.
        if std::env::var("HOSTILE_PARTS").map_or(true, |v| v.split(',').any(|p| p == name)) {
            part(rng, sink, to_server, to_client);
        }
    }
}

type Part = fn(&mut Rng, &mut Sink, Session, Session);

/// Random bytes of every length up to an MTU, and a few oversized ones.
fn random_and_oversized(rng: &mut Rng, sink: &mut Sink, to_server: Session, to_client: Session) {
    for _ in 0..8 {
        let n = rng.below(1500) as usize;
        sink.foreign(rng, &rng.clone().bytes(n));
        rng.next();
    }
    let big = [wire::MAXIMUM_MTU + 1, 5000, 9000, 65000][rng.below(4) as usize];
    for n in [wire::MAXIMUM_MTU + 1, big] {
        let mut d = wire::header(wire::NO_PEER, 0, 0, None);
        d.extend(rng.bytes(n - 2));
        sink.foreign(rng, &d);
        sink.via_peer(Dir::ToServer, wire::with_header(to_server, &rng.bytes(n)));
        sink.via_peer(Dir::ToClient, wire::with_header(to_client, &rng.bytes(n)));
    }
}

/// Truncated headers and commands.
fn truncated(rng: &mut Rng, sink: &mut Sink, to_server: Session, _: Session) {
    let full = wire::with_header(
        to_server,
        &wire::send(wire::SEND_RELIABLE, 2, 1, 0, 4, b"abcd"),
    );
    for cut in 0..full.len() {
        sink.foreign(rng, &full[..cut]);
        sink.via_peer(Dir::ToServer, full[..cut].to_vec());
    }
    // A SENT_TIME flag without the sent time, and a header alone.
    sink.via_peer(
        Dir::ToServer,
        vec![
            0x80 | (to_server.peer >> 8) as u8 | (to_server.session << 4),
            to_server.peer as u8,
            0,
        ],
    );
    sink.via_peer(
        Dir::ToServer,
        wire::header(to_server.peer, to_server.session, 0, None),
    );
}

/// Forged peer ids and session ids from foreign addresses: the legitimate peer's slot with
/// every session, slots that do not exist, and NO_PEER with commands other than CONNECT.
fn forged_ids(rng: &mut Rng, sink: &mut Sink, to_server: Session, _: Session) {
    for session in 0..4u8 {
        for cmd in [
            wire::command(wire::DISCONNECT | wire::FLAG_ACKNOWLEDGE, 0xFF, 1)
                .into_iter()
                .chain([0, 0, 0, 0])
                .collect::<Vec<_>>(),
            wire::send(
                wire::SEND_RELIABLE,
                0,
                rng.below(65536) as u16,
                0,
                4,
                b"evil",
            ),
            wire::command(wire::ACKNOWLEDGE, 0, 1)
                .into_iter()
                .chain([0, 1, 0, 0])
                .collect(),
            wire::command(wire::PING | wire::FLAG_ACKNOWLEDGE, 0xFF, 2),
        ] {
            let mut d = wire::header(to_server.peer, session, 0, Some(rng.next() as u16));
            d.extend_from_slice(&cmd);
            sink.foreign(rng, &d);
            let mut d = wire::header(rng.below(0xFFF) as u16, session, 0, None);
            d.extend_from_slice(&cmd);
            sink.foreign(rng, &d);
            let mut d = wire::header(wire::NO_PEER, session, 0, None);
            d.extend_from_slice(&cmd);
            sink.foreign(rng, &d);
        }
    }
}

/// CONNECTs with edge values in mtu, window size and channel count (some are valid and
/// create half-open peers that time out on their own).
fn connects(rng: &mut Rng, sink: &mut Sink, _: Session, _: Session) {
    for _ in 0..3 {
        let mut d = wire::header(wire::NO_PEER, 0, 0, Some(1));
        let (mtu, window, channels) = (wire::edge32(rng), wire::edge32(rng), wire::edge32(rng));
        d.extend(wire::connect(rng, mtu, window, channels));
        sink.foreign(rng, &d);
    }
}

/// The COMPRESSED flag on garbage: NO_PEER reaches the range decoder without any address
/// check when the host compresses; from the peer's address it reaches it anyway.
fn compressed_garbage(rng: &mut Rng, sink: &mut Sink, to_server: Session, _: Session) {
    for _ in 0..6 {
        let n = rng.below(1400) as usize;
        let mut d = wire::header(wire::NO_PEER, 0, wire::HEADER_COMPRESSED, Some(7));
        d.extend(rng.bytes(n));
        sink.foreign(rng, &d);
        let mut d = wire::header(
            to_server.peer,
            to_server.session,
            wire::HEADER_COMPRESSED,
            None,
        );
        d.extend(rng.bytes(n));
        sink.foreign(rng, &d);
    }
    // (Compressed garbage from the peer's own address is left to the fuzz: whatever it
    // decompresses to runs as that peer's commands and may legitimately end the connection.)
}

/// Bad fragment headers, from the peer's own address, on channels the legitimate traffic
/// does not use (2, 3) and on channels that do not exist.
fn bad_fragments(rng: &mut Rng, sink: &mut Sink, to_server: Session, to_client: Session) {
    for cmd in [wire::SEND_FRAGMENT, wire::SEND_UNRELIABLE_FRAGMENT] {
        for (dir, who) in [(Dir::ToServer, to_server), (Dir::ToClient, to_client)] {
            let channel = [2u8, 3, 200, 255][rng.below(4) as usize];
            let start = 1 + rng.below(8) as u16;
            let base = Fragment {
                cmd,
                channel,
                seq: start,
                start,
                declared: 16,
                count: 4,
                number: 0,
                total: 64,
                offset: 0,
                data: rng.bytes(16),
            };
            let variants = [
                Fragment {
                    declared: 0,
                    data: vec![],
                    ..clone(&base)
                },
                Fragment {
                    count: 0,
                    ..clone(&base)
                },
                Fragment {
                    count: 0xFFFF_FFFF,
                    ..clone(&base)
                },
                Fragment {
                    count: wire::MAXIMUM_FRAGMENT_COUNT + 1,
                    ..clone(&base)
                },
                Fragment {
                    number: 4,
                    ..clone(&base)
                },
                Fragment {
                    number: 0xFFFF_FFFF,
                    ..clone(&base)
                },
                Fragment {
                    total: 3,
                    ..clone(&base)
                },
                Fragment {
                    total: 0,
                    ..clone(&base)
                },
                Fragment {
                    total: 0xFFFF_FFFF,
                    ..clone(&base)
                },
                Fragment {
                    offset: 64,
                    ..clone(&base)
                },
                Fragment {
                    offset: 60,
                    ..clone(&base)
                },
                Fragment {
                    offset: 0xFFFF_FFF0,
                    ..clone(&base)
                },
                Fragment {
                    declared: 1000,
                    ..clone(&base)
                },
                Fragment {
                    declared: 0xFFFF,
                    ..clone(&base)
                },
                Fragment {
                    count: 2,
                    number: 1,
                    total: 1 << 20,
                    offset: 1 << 19,
                    ..clone(&base)
                },
                Fragment {
                    number: 31,
                    count: 32,
                    total: 32 * 16,
                    offset: 31 * 16,
                    ..clone(&base)
                },
                Fragment {
                    number: 1,
                    ..clone(&base)
                },
                Fragment {
                    start: start.wrapping_add(0x8000),
                    ..clone(&base)
                },
                clone(&base),
            ];
            for f in variants {
                sink.via_peer(dir, wire::with_header(who, &f.bytes()));
            }
        }
    }
}

/// Unknown and malformed commands from the peer's address: command numbers past the last
/// one, NONE, send commands whose declared length runs past the datagram, many commands.
fn malformed_commands(rng: &mut Rng, sink: &mut Sink, to_server: Session, to_client: Session) {
    for (dir, who) in [(Dir::ToServer, to_server), (Dir::ToClient, to_client)] {
        let unused = 2 + rng.below(2) as u8;
        let mut bodies = vec![
            wire::command(13, unused, 1),
            wire::command(15 | wire::FLAG_ACKNOWLEDGE, unused, 1),
            wire::command(0, 0, 0),
            wire::send(wire::SEND_RELIABLE, unused, 1, 0, 60000, b"short"),
            wire::send(wire::SEND_UNRELIABLE, unused, 0, 1, 9, b"short"),
            wire::send(
                wire::SEND_UNSEQUENCED,
                unused,
                0,
                rng.next() as u16,
                1200,
                b"short",
            ),
            wire::send(wire::SEND_UNRELIABLE, 250, 0, 1, 4, b"nope"),
            wire::send(wire::SEND_RELIABLE, 255, 1, 0, 4, b"nope"),
        ];
        let mut many = Vec::new();
        for i in 0..300u16 {
            many.extend(wire::send(wire::SEND_UNSEQUENCED, unused, 0, i, 1, b"x"));
        }
        bodies.push(many);
        for b in bodies {
            sink.via_peer(dir, wire::with_header(who, &b));
        }
    }
}

fn clone(f: &Fragment) -> Fragment {
    Fragment {
        data: f.data.clone(),
        ..*f
    }
}

/// The largest total a peer's unfinished reassemblies may claim on the fragments.lua server
/// (`host:maximum_waiting_data`), and what one claim in the `claims` case asks for.
const MAX_WAITING: u64 = 100 << 20;
const CLAIM: u32 = 32 << 20;

/// Crafted fragments as the legitimate client's peer (vendor patches 0009-0010): the gapped attack
/// (fragments that do not cover the packet), overlapping, duplicated, short, past-the-end and
/// mixed-size fragments, stock tilings in reverse and shuffled order, the same with unreliable
/// fragments, and reassemblies that claim 32 MiB each with a single fragment. Each case has a
/// channel of its own, so an unfinished packet in one cannot hold up another. Every packet the
/// server delivers on those channels must be exactly the stock tiling the case completes it with
/// (its bytes at their places, nothing from a rejected fragment, nothing unwritten); see
/// tests/net/fragments.lua for what the Lua side asserts.
pub fn fragments(ctx: &Ctx) -> Outcome {
    let name = "hostile_fragments";
    let seed = ctx.seed_for(name);
    let mut rng = Rng::new(seed);
    let relay = Relay::start(seed, Profile::CLEAN);
    let stop_file = ctx
        .module_dir
        .join(format!("stop-{name}-{}", std::process::id()));
    let _ = std::fs::remove_file(&stop_file);
    let env = [
        ("ENET_RELAY", relay.addr.to_string()),
        ("ENET_STOP_FILE", stop_file.display().to_string()),
        ("ENET_MAX_WAITING", MAX_WAITING.to_string()),
    ];
    let mut acks = ctx.acks(name);
    let mut cmd = ctx.lua(ctx.interp, &ctx.module_dir, "fragments.lua", &env);
    cmd.env("ENET_ACK_DIR", &acks.dir);
    let mut proc = LuaProcess::spawn(cmd)?;
    relay.command_acked(
        &proc.wait_line("RELAY server", Duration::from_secs(20))?,
        &mut acks,
    );
    proc.wait_line("READY", Duration::from_secs(30))?;
    let (up, _) = relay.captured();
    let Some(peer) = up.iter().find_map(|d| wire::session_of(d)) else {
        return Err("no session seen in the captured handshake".into());
    };

    let cases = fragment_cases(&mut rng);
    // Every datagram twice: one lost in a full socket buffer must not change what a case
    // completes. Repeats are harmless: a fragment already received is ignored, and one of a
    // packet already delivered is behind the channel's window.
    let mut sent = 0;
    for _ in 0..2 {
        for case in &cases {
            for datagram in &case.datagrams {
                let mut d = wire::header(peer.peer, peer.session, 0, None);
                for f in datagram {
                    d.extend(f.bytes());
                }
                relay.inject(Dir::ToServer, d);
                sent += 1;
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    let claims: u64 = cases.iter().map(|c| c.claims).sum();
    // Written whole, then renamed: the Lua side must never read half a number.
    let partial = stop_file.with_extension("partial");
    std::fs::write(&partial, claims.to_string()).map_err(|e| e.to_string())?;
    std::fs::rename(&partial, &stop_file).map_err(|e| e.to_string())?;
    let result = proc.finish(Duration::from_secs(60), |_| {});
    let _ = std::fs::remove_file(&stop_file);
    // The deliveries are checked even when the Lua side failed: both say what went wrong.
    let (out, lua_failed) = match result {
        Ok(out) => (out, false),
        Err(out) => (out, true),
    };

    let mut delivered: Vec<(u8, Vec<u8>)> = Vec::new();
    for line in out.lines().filter(|l| l.starts_with("RECV ")) {
        let mut words = line.split(' ').skip(1);
        let (Some(ch), Some(len), hex) = (words.next(), words.next(), words.next()) else {
            return Err(format!("bad line {line:?}\n{out}"));
        };
        let data = unhex(hex.unwrap_or(""));
        let (Ok(ch), Some(data)) = (ch.parse::<u8>(), data) else {
            return Err(format!("bad line {line:?}"));
        };
        if len != data.len().to_string() {
            return Err(format!(
                "RECV on channel {ch}: length {len}, {} bytes",
                data.len()
            ));
        }
        delivered.push((ch, data));
    }
    let mut errors = Vec::new();
    for case in &cases {
        let got: Vec<&Vec<u8>> = delivered
            .iter()
            .filter(|(ch, _)| *ch == case.channel)
            .map(|(_, d)| d)
            .collect();
        let want: Vec<&Vec<u8>> = case.expect.iter().collect();
        if got != want {
            errors.push(format!(
                "case {} ({}, channel {}): delivered {} packet(s) of {:?} bytes, expected {:?}{}",
                case.name,
                if case.reliable {
                    "reliable"
                } else {
                    "unreliable"
                },
                case.channel,
                got.len(),
                got.iter().map(|d| d.len()).collect::<Vec<_>>(),
                want.iter().map(|d| d.len()).collect::<Vec<_>>(),
                got.first()
                    .zip(want.first())
                    .and_then(|(g, w)| first_difference(g, w))
                    .map_or(String::new(), |i| format!(", first wrong byte at {i}")),
            ));
        }
    }
    if let Some((ch, _)) = delivered
        .iter()
        .find(|(ch, _)| !cases.iter().any(|c| c.channel == *ch))
    {
        errors.push(format!("a packet on channel {ch}, which no case used"));
    }
    if !errors.is_empty() || lua_failed {
        return Err(format!("{}\n{out}", errors.join("\n")));
    }
    Ok(format!(
        "{} cases in {sent} datagrams, {} packets delivered exactly as tiled; {}",
        cases.len(),
        delivered.len(),
        lines_with(&out, "COUNT ")
    ))
}

/// One scenario of crafted fragments on a channel of its own: the datagrams (each one or more
/// fragments, in order), the one packet it must deliver (None: nothing), and the bytes its
/// unfinished reassembly still claims at the end.
struct FragmentCase {
    name: &'static str,
    reliable: bool,
    channel: u8,
    datagrams: Vec<Vec<Fragment>>,
    expect: Option<Vec<u8>>,
    claims: u64,
}

/// A packet as a stock sender cuts it: fragments of `size` bytes, the last one shorter.
struct Cut {
    reliable: bool,
    channel: u8,
    size: u32,
    data: Vec<u8>,
}

impl Cut {
    fn new(rng: &mut Rng, reliable: bool, channel: u8, total: u32, size: u32) -> Cut {
        Cut {
            reliable,
            channel,
            size,
            data: rng.bytes(total as usize),
        }
    }

    fn total(&self) -> u32 {
        self.data.len() as u32
    }

    fn count(&self) -> u32 {
        self.total().div_ceil(self.size)
    }

    /// Fragment `number` as a stock sender sends it.
    fn fragment(&self, number: u32) -> Fragment {
        let offset = number * self.size;
        let end = (offset + self.size).min(self.total());
        self.piece(
            number,
            offset,
            self.data[offset as usize..end as usize].to_vec(),
        )
    }

    /// Fragment `number` of this packet (same count and total) carrying `data` at `offset`.
    fn piece(&self, number: u32, offset: u32, data: Vec<u8>) -> Fragment {
        crafted(
            self.reliable,
            self.channel,
            number,
            self.count(),
            self.total(),
            offset,
            data,
        )
    }

    /// Every fragment, in the order given.
    fn fragments(&self, order: impl Iterator<Item = u32>) -> Vec<Vec<Fragment>> {
        order.map(|n| vec![self.fragment(n)]).collect()
    }
}

/// A fragment with every field chosen: reliable ones carry the sequence number a stock sender
/// gives fragment `number` of a packet starting at 1; unreliable ones, the channel's reliable
/// sequence number (0, nothing reliable was sent) and unreliable number 1.
fn crafted(
    reliable: bool,
    channel: u8,
    number: u32,
    count: u32,
    total: u32,
    offset: u32,
    data: Vec<u8>,
) -> Fragment {
    Fragment {
        cmd: if reliable {
            wire::SEND_FRAGMENT
        } else {
            wire::SEND_UNRELIABLE_FRAGMENT
        },
        channel,
        seq: if reliable { 1 + number as u16 } else { 0 },
        start: 1,
        declared: data.len() as u16,
        count,
        number,
        total,
        offset,
        data,
    }
}

fn fragment_cases(rng: &mut Rng) -> Vec<FragmentCase> {
    let mut cases = Vec::new();
    let mut channel = 1u8;
    let mut next = || {
        channel += 1;
        channel
    };
    for reliable in [true, false] {
        // The attack that patch 0010 answers: 2 fragments of 4 bytes at offsets 0 and 3996 of
        // 4,000. The first fits no tiling and is refused; the second is a fine last fragment of a
        // packet cut in 3996-byte pieces, so it starts a reassembly that claims 4,000 bytes and
        // that nothing here finishes.
        let ch = next();
        cases.push(FragmentCase {
            name: "gapped",
            reliable,
            channel: ch,
            datagrams: vec![
                vec![crafted(reliable, ch, 0, 2, 4000, 0, rng.bytes(4))],
                vec![crafted(reliable, ch, 1, 2, 4000, 3996, rng.bytes(4))],
            ],
            expect: None,
            claims: 4000,
        });

        // The same, finished by the only fragment 0 that fits: 3996 bytes.
        let ch = next();
        let good = Cut::new(rng, reliable, ch, 4000, 3996);
        let datagrams = vec![
            vec![good.piece(0, 0, rng.bytes(4))],
            vec![good.fragment(1)],
            vec![good.fragment(0)],
        ];
        cases.push(FragmentCase {
            name: "gapped, then finished",
            reliable,
            channel: ch,
            datagrams,
            expect: Some(good.data),
            claims: 0,
        });

        // The same with the last fragment first: it is a fine last fragment of a packet cut in
        // 3996-byte pieces, so only a 3996-byte fragment 0 may complete it.
        let ch = next();
        let good = Cut::new(rng, reliable, ch, 4000, 3996);
        let datagrams = vec![
            vec![good.fragment(1)],
            vec![good.piece(0, 0, rng.bytes(4))],
            vec![good.fragment(0)],
        ];
        cases.push(FragmentCase {
            name: "gapped, last fragment first",
            reliable,
            channel: ch,
            datagrams,
            expect: Some(good.data),
            claims: 0,
        });

        // Overlapping: fragment 1 half over fragment 0, fragment 2 reaching back into 1.
        let ch = next();
        let good = Cut::new(rng, reliable, ch, 3000, 1000);
        let datagrams = vec![
            vec![good.fragment(0)],
            vec![good.piece(1, 500, rng.bytes(1000))],
            vec![good.piece(2, 1900, rng.bytes(1100))],
            vec![good.fragment(2)],
            vec![good.fragment(1)],
        ];
        cases.push(FragmentCase {
            name: "overlapping",
            reliable,
            channel: ch,
            datagrams,
            expect: Some(good.data),
            claims: 0,
        });

        // Duplicated: fragment 0 again with other bytes (in the same datagram, so that it can
        // never arrive first), fragment 1 in fragment 0's place, fragment 1 twice.
        let ch = next();
        let good = Cut::new(rng, reliable, ch, 3000, 1000);
        let datagrams = vec![
            vec![good.fragment(0), good.piece(0, 0, rng.bytes(1000))],
            vec![good.piece(1, 0, rng.bytes(1000))],
            vec![good.fragment(1)],
            vec![good.fragment(1)],
            vec![good.fragment(2)],
        ];
        cases.push(FragmentCase {
            name: "duplicated",
            reliable,
            channel: ch,
            datagrams,
            expect: Some(good.data),
            claims: 0,
        });

        // Short: one byte missing in the middle, at the end, and a last fragment moved up.
        let ch = next();
        let good = Cut::new(rng, reliable, ch, 3000, 1000);
        let datagrams = vec![
            vec![good.fragment(0)],
            vec![good.piece(1, 1000, rng.bytes(999))],
            vec![good.piece(2, 2000, rng.bytes(999))],
            vec![good.piece(2, 2001, rng.bytes(999))],
            vec![good.fragment(1)],
            vec![good.fragment(2)],
        ];
        cases.push(FragmentCase {
            name: "short",
            reliable,
            channel: ch,
            datagrams,
            expect: Some(good.data),
            claims: 0,
        });

        // Past the end: one fragment too many for the total, a fragment running past the
        // total, one starting at it.
        let ch = next();
        let good = Cut::new(rng, reliable, ch, 3000, 1000);
        let datagrams = vec![
            vec![crafted(reliable, ch, 0, 4, 3000, 0, rng.bytes(1000))],
            vec![good.fragment(0)],
            vec![good.piece(2, 2500, rng.bytes(1000))],
            vec![good.piece(2, 3000, rng.bytes(1))],
            vec![crafted(reliable, ch, 3, 4, 3000, 3000, rng.bytes(1000))],
            vec![good.fragment(2)],
            vec![good.fragment(1)],
        ];
        cases.push(FragmentCase {
            name: "past the end",
            reliable,
            channel: ch,
            datagrams,
            expect: Some(good.data),
            claims: 0,
        });

        // Mixed sizes that cover the packet exactly once, but not as a stock sender cuts it:
        // after a stock first fragment, and before it.
        for odd_first in [false, true] {
            let ch = next();
            let good = Cut::new(rng, reliable, ch, 3000, 1000);
            let odd = vec![
                vec![good.piece(1, 1000, rng.bytes(500))],
                vec![good.piece(2, 1500, rng.bytes(1500))],
            ];
            let mut datagrams = Vec::new();
            if odd_first {
                datagrams.extend(odd);
                datagrams.extend(good.fragments([0, 1, 2].into_iter()));
            } else {
                datagrams.push(vec![good.fragment(0)]);
                datagrams.extend(odd);
                datagrams.extend(good.fragments([2, 1].into_iter()));
            }
            cases.push(FragmentCase {
                name: if odd_first {
                    "mixed sizes, odd one first"
                } else {
                    "mixed sizes"
                },
                reliable,
                channel: ch,
                datagrams,
                expect: Some(good.data),
                claims: 0,
            });
        }

        // A stock tiling in reverse order (the size comes from the last, shorter fragment),
        // first after a last fragment whose length fits no tiling.
        for bad_last in [false, true] {
            let ch = next();
            let good = Cut::new(rng, reliable, ch, 4500, 1000);
            let mut datagrams = Vec::new();
            if bad_last {
                datagrams.push(vec![good.piece(4, 4001, rng.bytes(499))]);
            }
            datagrams.extend(good.fragments((0..good.count()).rev()));
            cases.push(FragmentCase {
                name: if bad_last {
                    "reverse order after a bad last fragment"
                } else {
                    "reverse order"
                },
                reliable,
                channel: ch,
                datagrams,
                expect: Some(good.data),
                claims: 0,
            });
        }

        // A stock-sized tiling (1364-byte fragments, ENet's default MTU) in a shuffled order.
        let ch = next();
        let good = Cut::new(rng, reliable, ch, 20000, 1364);
        let mut order: Vec<u32> = (0..good.count()).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i as u64 + 1) as usize);
        }
        cases.push(FragmentCase {
            name: "shuffled",
            reliable,
            channel: ch,
            datagrams: good.fragments(order.into_iter()),
            expect: Some(good.data),
            claims: 0,
        });
    }

    // Reassemblies that claim 32 MiB each with one 1000-byte fragment and are never finished.
    // The server admits a claim only while it fits under MAX_WAITING beside what the peer
    // already has waiting (or nothing is waiting): 3 of 5 here.
    let mut waiting: u64 = cases.iter().map(|c: &FragmentCase| c.claims).sum();
    for _ in 0..5 {
        let ch = next();
        let claim = crafted(true, ch, 0, CLAIM.div_ceil(1000), CLAIM, 0, rng.bytes(1000));
        let admitted = waiting == 0 || u64::from(CLAIM) <= MAX_WAITING - waiting;
        let claims = if admitted { u64::from(CLAIM) } else { 0 };
        waiting += claims;
        cases.push(FragmentCase {
            name: "32 MiB claim",
            reliable: true,
            channel: ch,
            datagrams: vec![vec![claim]],
            expect: None,
            claims,
        });
    }
    cases
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    a.iter().zip(b).position(|(x, y)| x != y)
}
