//! Hostile datagrams: while a legitimate client talks to a server (through a clean relay, which
//! lets us send from the client's own address), raw UDP from other sockets and from the
//! client's address tries to break the receive path. See tests/net/hostile.lua for what the
//! Lua side asserts.
//!
//! Not covered: bad checksums. ENet's checksum (enet_crc32) cannot be switched on from the Lua
//! API yet, so a host never verifies one; when a host tunable for it exists, add a case here.
use crate::common::{lines_with, LuaProcess};
use crate::relay::{Dir, Profile, Relay, Rng};
use crate::wire::{self, Fragment, Session};
use crate::{Ctx, Outcome};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Forged and malformed datagrams that must not disturb the legitimate connection.
    Targeted,
    /// Mutations of captured traffic, also from the client's address: the connection may be
    /// reset (a mutated DISCONNECT is a valid DISCONNECT), but the hosts keep serving.
    Fuzz { iterations: u32, pace: Duration },
}

pub fn targeted(ctx: &Ctx) -> Outcome {
    run(ctx, "hostile_targeted", Mode::Targeted, false, false)
}

pub fn targeted_compressed(ctx: &Ctx) -> Outcome {
    run(
        ctx,
        "hostile_targeted_compressed",
        Mode::Targeted,
        true,
        false,
    )
}

pub fn fuzz(ctx: &Ctx) -> Outcome {
    let mode = Mode::Fuzz {
        iterations: 20_000,
        pace: Duration::from_micros(60),
    };
    run(ctx, "hostile_fuzz", mode, false, false)
}

pub fn fuzz_compressed(ctx: &Ctx) -> Outcome {
    let mode = Mode::Fuzz {
        iterations: 20_000,
        pace: Duration::from_micros(60),
    };
    run(ctx, "hostile_fuzz_compressed", mode, true, false)
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
    run(ctx, "hostile_fuzz_valgrind", mode, true, true)
}

fn run(ctx: &Ctx, name: &str, mode: Mode, compress: bool, valgrind: bool) -> Outcome {
    let seed = ctx.seed_for(name);
    let mut rng = Rng::new(seed);
    let relay = Relay::start(seed, Profile::CLEAN);
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
        .map(|_| UdpSocket::bind("127.0.0.1:0").expect("socket"))
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
