//! Staying joinable under a forged-CONNECT flood (docs/contract.md §10, vendor patches 0023-0028): a
//! generator sends well-formed CONNECTs from hundreds of loopback addresses (127.1.x.y, which
//! Linux routes locally) that never answer, while stock ENet clients (ours, LÖVE's bundled enet,
//! a C client on the system's libenet, and ours behind a 200 ms relay) join a 64-peer server
//! running tests/net/flood.lua, and connected peers time their echoes. Then the handshake by
//! hand: what one forged CONNECT reflects, blind guesses of the acknowledgement, the record
//! table's odd cases, and the switch that gives stock ENet's handshake back.
//!
//! bench/handshake runs the attack cases as a benchmark, at full size and against other
//! servers: ENET_FLOOD_BENCH=1 makes a case print `BENCH <case> key=value ...` lines with its
//! figures (its verdict is unchanged); ENET_FLOOD_SERVER="<interpreter> <module dir>" runs
//! flood.lua's server on another binding (say, leafo's lua-enet on stock ENet) and
//! ENET_FLOOD_DEFENCE=off with `host:flood_defence(false)`; ENET_FLOOD_CLIENTS,
//! ENET_FLOOD_PROCESSES and ENET_FLOOD_STAGGERS size flood_burst_joins, ENET_FLOOD_JOINS and
//! ENET_FLOOD_JOIN_LIMIT the joins of the cases built on [`joins_under`], ENET_FLOOD_FOLLOWUPS
//! and ENET_FLOOD_LINGER_MS the amplification cases (each described where it is read). The
//! sizes apply with the assertions too, so a benchmark's run is a test command.
use crate::common::{self, lines_with, LuaProcess};
use crate::relay::{Profile, Relay, Rng};
use crate::wire::{self, Command};
use crate::{Ctx, Outcome};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::Command as Process;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The rate and sources of the flood case (the issue's goal).
const RATE: u64 = 20_000;
const SOURCES: usize = 300;
/// How long a synchronisation waits for the server's answer (a loaded machine may take
/// seconds; a server that never answers fails the case).
const SYNC: Duration = Duration::from_secs(10);

/// A CONNECT as a stock client sends it (header with sent time, peer id 0xFFF).
pub fn connect_datagram(out_peer: u16, connect_id: u32, sent_time: u16) -> Vec<u8> {
    let mut v = wire::header(wire::NO_PEER, 0, 0, Some(sent_time));
    v.extend(wire::command(
        wire::CONNECT | wire::FLAG_ACKNOWLEDGE,
        0xFF,
        1,
    ));
    wire::u16s(&mut v, out_peer);
    v.push(0xFF); // incomingSessionID: let the server choose
    v.push(0xFF); // outgoingSessionID
    for x in [1392, 32768, 2, 0, 0, 5000, 2, 2] {
        wire::u32s(&mut v, x); // mtu, window, channels, bandwidths, throttle
    }
    wire::u32s(&mut v, connect_id);
    wire::u32s(&mut v, 0); // data
    v
}

/// The `n`th forging address: 127.1.0.1, 127.1.0.2, ... (250 per third octet).
pub fn source(n: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 1, (n / 250) as u8, (n % 250 + 1) as u8)
}

/// A forged-CONNECT generator on its own thread.
pub struct Flood {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<FloodReport>>,
    /// Datagrams sent so far, and the rate asked for.
    sent: Arc<AtomicU64>,
    rate: u64,
}

pub struct FloodReport {
    /// The rate asked for.
    pub target: u64,
    pub sent: u64,
    pub sent_bytes: u64,
    pub replies: u64,
    pub reply_bytes: u64,
    pub secs: f64,
    pub sources: usize,
}

impl FloodReport {
    pub fn rate(&self) -> f64 {
        // A generator stopped before its first round sent nothing: rate 0, not NaN.
        self.sent as f64 / self.secs.max(1e-9)
    }
    pub fn summary(&self) -> String {
        format!(
            "flood: {} forged CONNECTs from {} sources in {:.1} s ({:.0}/s), {} datagrams ({} bytes) back ({:.3} per CONNECT)",
            self.sent,
            self.sources,
            self.secs,
            self.rate(),
            self.replies,
            self.reply_bytes,
            self.replies as f64 / self.sent.max(1) as f64
        )
    }
}

/// Where a flood's datagrams come from.
pub enum Sources {
    /// Round-robin from one socket on each of the first `n` forging addresses ([`source`]);
    /// what comes back is counted, never answered.
    Forging(usize),
    /// Round-robin from `n` sockets (`n` ports) on one address: a spoofer of that address.
    Ports(Ipv4Addr, usize),
    /// Each datagram from a fresh socket on a random address of 127.16.0.0-127.255.255.255, on
    /// a port the system picks: as many sources as datagrams, nothing read back.
    Random,
}

impl Flood {
    /// Starts sending `rate` CONNECTs per second to `target`, round-robin from `sources`
    /// sockets, each with a fresh connect ID; what comes back is counted, never answered.
    pub fn start(
        target: SocketAddr,
        rate: u64,
        sources: usize,
        seed: u64,
    ) -> Result<Flood, String> {
        Flood::start_with(target, rate, Sources::Forging(sources), seed, |rng| {
            connect_datagram(
                rng.below(0x1000) as u16,
                rng.next() as u32,
                rng.next() as u16,
            )
        })
    }

    /// Starts sending `rate` datagrams per second made by `make` to `target` from `from`.
    pub fn start_with(
        target: SocketAddr,
        rate: u64,
        from: Sources,
        seed: u64,
        make: impl FnMut(&mut Rng) -> Vec<u8> + Send + 'static,
    ) -> Result<Flood, String> {
        Flood::start_batched(target, rate, 1, from, seed, make)
    }

    /// [`Flood::start_with`], the datagrams sent `batch` at a time (the first batch at once):
    /// 8 a second in batches of 4 is four every 0.5 s.
    pub fn start_batched(
        target: SocketAddr,
        rate: u64,
        batch: u64,
        from: Sources,
        seed: u64,
        mut make: impl FnMut(&mut Rng) -> Vec<u8> + Send + 'static,
    ) -> Result<Flood, String> {
        let addresses: Vec<Ipv4Addr> = match from {
            Sources::Forging(n) => (0..n).map(source).collect(),
            Sources::Ports(ip, n) => vec![ip; n],
            Sources::Random => Vec::new(),
        };
        let mut sockets = Vec::with_capacity(addresses.len());
        for ip in addresses {
            let s = UdpSocket::bind((ip, 0))
                .map_err(|e| format!("bind {ip}: {e} (127.0.0.0/8 must be loopback)"))?;
            s.set_nonblocking(true).map_err(|e| e.to_string())?;
            sockets.push(s);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let counter = Arc::new(AtomicU64::new(0));
        let sent_so_far = Arc::clone(&counter);
        let thread = std::thread::spawn(move || {
            let mut rng = Rng::new(seed);
            let start = Instant::now();
            let (mut sent, mut sent_bytes, mut replies, mut reply_bytes) = (0u64, 0u64, 0u64, 0u64);
            let mut last_drain = start;
            let mut buf = [0u8; 2048];
            // When the generator last caught up with its schedule: the rate is measured up to
            // there, so a stall of this thread between its last send and the stop (a loaded
            // machine) does not read as a slow attack. A generator too slow to keep up still
            // shows: its sends end later than they were due.
            let mut secs = 0.0;
            while !flag.load(Relaxed) {
                let due = (start.elapsed().as_secs_f64() * rate as f64) as u64;
                let due = if batch > 1 {
                    (due / batch + 1) * batch
                } else {
                    due
                };
                while sent < due {
                    let d = make(&mut rng);
                    if sockets.is_empty() {
                        let ip = Ipv4Addr::from(0x7F10_0000 + rng.below(0x00F0_0000) as u32);
                        if let Ok(s) = UdpSocket::bind((ip, 0)) {
                            let _ = s.send_to(&d, target);
                        }
                    } else {
                        let _ = sockets[(sent % sockets.len() as u64) as usize].send_to(&d, target);
                    }
                    sent += 1;
                    sent_bytes += d.len() as u64;
                }
                secs = start.elapsed().as_secs_f64();
                sent_so_far.store(sent, Relaxed);
                if last_drain.elapsed() >= Duration::from_millis(100) {
                    last_drain = Instant::now();
                    for s in &sockets {
                        while let Ok(n) = s.recv(&mut buf) {
                            replies += 1;
                            reply_bytes += n as u64;
                        }
                    }
                }
                std::thread::sleep(Duration::from_micros(500));
            }
            std::thread::sleep(Duration::from_millis(50));
            for s in &sockets {
                while let Ok(n) = s.recv(&mut buf) {
                    replies += 1;
                    reply_bytes += n as u64;
                }
            }
            FloodReport {
                target: rate,
                sent,
                sent_bytes,
                replies,
                reply_bytes,
                secs,
                sources: if sockets.is_empty() {
                    sent as usize
                } else {
                    sockets.len()
                },
            }
        });
        Ok(Flood {
            stop,
            thread: Some(thread),
            sent: counter,
            rate,
        })
    }

    /// Waits until the generator has sent `seconds` of its rate, however long that takes on a
    /// loaded machine (at most 10 times as long, plus [`SYNC`]): the attack's datagrams, not
    /// the wall clock, say that it is in place.
    pub fn wait_sent(&self, seconds: u64) -> Result<(), String> {
        let want = (self.rate * seconds).max(1);
        let limit = Duration::from_secs(10 * seconds) + SYNC;
        let deadline = Instant::now() + limit;
        while self.sent.load(Relaxed) < want {
            if Instant::now() > deadline {
                return Err(format!(
                    "the generator sent {} of {want} datagrams in {limit:?}",
                    self.sent.load(Relaxed)
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(())
    }

    pub fn stop(mut self) -> FloodReport {
        self.stop.store(true, Relaxed);
        self.thread
            .take()
            .expect("flood thread")
            .join()
            .expect("flood thread panicked")
    }
}

impl Drop for Flood {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A file whose creation tells tests/net/flood.lua's server and echoers to finish.
struct StopFile(PathBuf);

impl StopFile {
    fn new(ctx: &Ctx, name: &str) -> StopFile {
        let path = ctx
            .module_dir
            .join(format!("stop-{name}-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        StopFile(path)
    }
    fn env(&self) -> (&'static str, String) {
        ("ENET_STOP_FILE", self.0.display().to_string())
    }
    fn signal(&self) {
        std::fs::write(&self.0, b"stop").expect("stop file");
    }
}

impl Drop for StopFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// tests/net/flood.lua as server, running until `stop`; returns it and its address.
/// Its Lua host is ENET_FLOOD_SERVER's if set, and ENET_FLOOD_DEFENCE=off turns the defence off.
fn server(
    ctx: &Ctx,
    stop: &StopFile,
    extra: &[(&str, String)],
) -> Result<(LuaProcess, SocketAddr), String> {
    let mut env = vec![("ENET_ROLE", "server".to_string()), stop.env()];
    if std::env::var("ENET_FLOOD_DEFENCE").is_ok_and(|v| v == "off") {
        env.push(("ENET_DEFENCE", "off".to_string()));
    }
    env.extend(extra.iter().cloned());
    let (interp, module_dir) = ctx.host_from_env("ENET_FLOOD_SERVER")?;
    let cmd = ctx.lua(&interp, &module_dir, "flood.lua", &env);
    let mut proc = LuaProcess::spawn_named("flood server", cmd)?;
    let ready = proc.wait_line("READY", Duration::from_secs(20))?;
    let addr = ready[6..]
        .trim()
        .parse()
        .map_err(|e| format!("server address {ready:?}: {e}"))?;
    Ok((proc, addr))
}

/// Whether the cases print their figures for bench/handshake (ENET_FLOOD_BENCH).
fn bench() -> bool {
    std::env::var_os("ENET_FLOOD_BENCH").is_some()
}

/// A case's size: ENET_FLOOD_<name> if set, else `default`.
fn sized<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(format!("ENET_FLOOD_{name}"))
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// In a benchmark's run, prints `BENCH <case> key=value ...` (the server's flood statistics
/// last, when it printed them).
fn bench_line(case: &str, fields: &[(&str, String)], server_out: &str) {
    if !bench() {
        return;
    }
    let mut line = format!("BENCH {case}");
    for (k, v) in fields {
        line += &format!(" {k}={v}");
    }
    // "answered 3 evicted 0 ..." -> " answered=3 evicted=0 ..."
    let stats = lines_with(server_out, "STATS ");
    let stats: Vec<&str> = stats.split_whitespace().collect();
    for pair in stats.chunks(2) {
        if let [k, v] = pair {
            line += &format!(" {k}={v}");
        }
    }
    println!("{line}");
}

/// A server of `peers` slots (unverified handshakes wait 30 s) of which `held` are taken by
/// forged CONNECTs from sources `first..first+held`: unverified peers then hold at least half the
/// free slots, so the next CONNECT gets a record (the server is under pressure).
fn pressured_server(
    ctx: &Ctx,
    stop: &StopFile,
    peers: usize,
    held: usize,
    first: usize,
    extra: &[(&str, String)],
) -> Result<(LuaProcess, SocketAddr), String> {
    let mut env = vec![
        ("ENET_PEER_COUNT", peers.to_string()),
        ("ENET_CONNECT_TIMEOUT", "30000".to_string()),
    ];
    env.extend(extra.iter().cloned());
    let (proc, addr) = server(ctx, stop, &env)?;
    for n in 0..held {
        // answered: the server holds its half-open peer
        Raw::new(first + n, addr)?.offer_for(&connect_datagram(
            0,
            (0x7000 + first + n) as u32,
            1,
        ))?;
    }
    Ok((proc, addr))
}

/// The number after `prefix` in `line` ("JOIN 12" -> 12).
fn number_after(output: &str, prefix: &str) -> Option<u64> {
    output.lines().find_map(|l| {
        l.strip_prefix(prefix)?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    })
}

/// The largest half-open count the server printed.
fn most_half_open(output: &str) -> u64 {
    output
        .lines()
        .filter_map(|l| {
            l.strip_prefix("HALFOPEN ")?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()
        })
        .max()
        .unwrap_or(0)
}

/// The CPU time (ms) of the server's service calls with their events, from its `SERVICE
/// longest <ms> ms, <ms> ms in <n> rounds` line.
fn service_cpu_ms(output: &str) -> Option<f64> {
    let rest = output
        .lines()
        .find_map(|l| l.strip_prefix("SERVICE longest "))?;
    rest.split(", ")
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// What a flood cost the server, in CPU time (which a descheduled process does not accrue, so a
/// loaded machine does not make it look slow): its service calls' CPU time over the flood's
/// datagrams that reached its socket (`dropped` there were never read). The bound is one core
/// at the flood's rate: a server that keeps up with its attacker. It catches work per datagram
/// that grows with the host (a walk of the slots or records); what a datagram costs is
/// bench/flood's figure. It was half a core, which left no margin for a slower machine and
/// the debug build's unoptimised C: flood_4095_slots_50k cost 10.5-13.2 us a datagram on the
/// machine that ran the suite at 07faea3 (8.7 with the C at -O2), against a 10 us bound that
/// dab79c8, from before the changes since, failed there too (10.9-11.4).
/// Err(problem) above it, Ok(figure) otherwise.
fn flood_cost(
    report: &FloodReport,
    server_out: &str,
    dropped: Option<u64>,
) -> Result<String, String> {
    let cpu_ms = service_cpu_ms(server_out).ok_or("the server printed no SERVICE line")?;
    let read = report.sent.saturating_sub(dropped.unwrap_or(0)).max(1);
    let per_us = cpu_ms * 1000.0 / read as f64;
    let bound_us = 1e6 / report.target as f64;
    let figure = format!(
        "server CPU {cpu_ms:.0} ms for {read} attack datagrams read ({} dropped at its socket): {per_us:.1} us each (bound {bound_us:.1} us: one core at {}/s)",
        dropped.map_or("-".into(), |d| d.to_string()),
        report.target
    );
    if per_us > bound_us {
        Err(format!("the attack cost too much CPU: {figure}"))
    } else {
        Ok(figure)
    }
}

/// Named commands of legitimate clients.
type Joiners = Vec<(String, Process)>;

/// Runs the joiners (all at once) and returns "name: JOIN ms" for each.
fn join_all(joiners: Joiners) -> Result<Vec<(String, u64, String)>, String> {
    let mut running = Vec::new();
    for (name, cmd) in joiners {
        running.push((name.clone(), LuaProcess::spawn_named(&name, cmd)?));
    }
    let mut results = Vec::new();
    for (name, proc) in running {
        let out = proc.finish(Duration::from_secs(30), |_| {})?;
        let ms = number_after(&out, "JOIN ")
            .ok_or_else(|| format!("{name} printed no JOIN line:\n{out}"))?;
        results.push((name, ms, out));
    }
    Ok(results)
}

/// The legitimate clients of the flood case: ours, ours behind a 200 ms relay, LÖVE's bundled
/// enet and a C client on Debian's libenet. Missing tools are failures under CI.
fn joiners(ctx: &Ctx, server: SocketAddr, relay: &Relay) -> Result<(Joiners, Vec<String>), String> {
    let client = |name: &str, target: SocketAddr, interp: &str, stock: bool| {
        let mut env = vec![
            ("ENET_ROLE", "client".to_string()),
            ("ENET_NAME", name.to_string()),
            ("ENET_SERVER", target.to_string()),
            ("ENET_JOIN_LIMIT", "1000".to_string()),
        ];
        if stock {
            env.push(("ENET_STOCK", "1".to_string()));
        }
        ctx.lua(interp, &ctx.module_dir, "flood.lua", &env)
    };
    let mut list = vec![
        (
            "ours".to_string(),
            client("ours", server, ctx.interp, false),
        ),
        (
            "ours at 200 ms RTT".to_string(),
            client("ours at 200 ms RTT", relay.addr, ctx.interp, false),
        ),
    ];
    let mut skipped = Vec::new();
    if common::have("love") {
        list.push((
            "LÖVE's enet".to_string(),
            client("LÖVE's enet", server, "love", true),
        ));
    } else if ctx.ci {
        return Err("love not found (tests/install-deps installs it)".into());
    } else {
        skipped.push("LÖVE (not installed)".to_string());
    }
    match crate::stock::compile(ctx, "stock_join.c", "stock_join", &["-lenet"])? {
        Some(bin) => {
            let mut c = Process::new(bin);
            c.args([server.to_string(), "1000".to_string()]);
            list.push(("libenet C client".to_string(), c));
        }
        None => skipped.push("libenet C client (no compiler or libenet-dev)".to_string()),
    }
    Ok((list, skipped))
}

/// Four connected peers of flood.lua's `echoers` role on `addr`, sending and timing echoes
/// until `stop`; returned once they are connected (READY).
fn spawn_echoers(ctx: &Ctx, addr: SocketAddr, stop: &StopFile) -> Result<LuaProcess, String> {
    let echo_env = [
        ("ENET_ROLE", "echoers".to_string()),
        ("ENET_SERVER", addr.to_string()),
        ("ENET_PEERS", "4".to_string()),
        stop.env(),
    ];
    let mut echoers = LuaProcess::spawn_named(
        "echoers",
        ctx.lua(ctx.interp, &ctx.module_dir, "flood.lua", &echo_env),
    )?;
    echoers.wait_line("READY", Duration::from_secs(10))?;
    Ok(echoers)
}

/// The goal of docs/contract.md §10: ≥20,000 forged CONNECTs/s from ≥250 addresses; every legitimate client
/// joins the 64-peer server within 1 s (also at 200 ms RTT); connected peers keep echoing, and
/// the flood costs the server at most one core of CPU time ([`flood_cost`]); the server's
/// memory stays bounded; no more than 3 bytes (2 datagrams) back per forged CONNECT.
pub fn join_under_flood(ctx: &Ctx) -> Outcome {
    let stop = StopFile::new(ctx, "flood");
    let (mut server_proc, addr) = server(ctx, &stop, &[])?;
    let echoers = spawn_echoers(ctx, addr, &stop)?;
    let relay = Relay::start(
        ctx.seed_for("flood"),
        Profile {
            delay_ms: 100,
            ..Profile::CLEAN
        },
    );
    relay.set_server(addr);
    let flood = Flood::start(addr, RATE, SOURCES, ctx.seed_for("flood"))?;
    let flood_started = Instant::now();
    // The flood holds the host's half-open share first (as the verdict asks) before anyone joins.
    wait_half_open(&mut server_proc, 16)?;
    let (list, skipped) = joiners(ctx, addr, &relay)?;
    let joined = join_all(list);
    // The flood goes on for 4 s in all (the echoers keep timing), then the verdicts.
    std::thread::sleep(Duration::from_millis(4000).saturating_sub(flood_started.elapsed()));
    let report = flood.stop();
    let dropped = socket_drops(addr.port());
    stop.signal();
    let echo_out = echoers.finish(Duration::from_secs(20), |_| {});
    let server_out = server_proc.finish(Duration::from_secs(20), |_| {});
    let joined = joined?;
    let echo_out = echo_out?;
    let server_out = server_out?;

    let mut problems = Vec::new();
    if report.rate() < RATE as f64 * 0.98 || report.sources < 250 {
        problems.push(format!("the generator fell short: {}", report.summary()));
    }
    // VERIFY_CONNECT for each CONNECT, and a DISCONNECT when the record table overflows before
    // the record ends (its client may have been told it joined): within 3 bytes per byte.
    if report.replies > 2 * report.sent || report.reply_bytes > 3 * report.sent_bytes {
        problems.push(format!(
            "more than 2 datagrams or 3 bytes back per forged CONNECT: {}",
            report.summary()
        ));
    }
    let half_open = most_half_open(&server_out);
    if half_open < 16 {
        problems.push(format!(
            "the flood never held the host's half-open share (at most {half_open} half-open peers)"
        ));
    }
    let (before, after) = server_out
        .lines()
        .find_map(|l| {
            let mut w = l.strip_prefix("RSS before ")?.split_whitespace();
            Some((
                w.next()?.parse::<u64>().ok()?,
                w.nth(1)?.parse::<u64>().ok()?,
            ))
        })
        .ok_or("the server printed no RSS line")?;
    if after > before + 32 * 1024 {
        problems.push(format!("server RSS grew from {before} to {after} KiB"));
    }
    let cost = flood_cost(&report, &server_out, dropped).unwrap_or_else(|e| {
        problems.push(e.clone());
        e
    });
    for (name, ms, _) in &joined {
        if *ms > 1000 {
            problems.push(format!("{name} joined in {ms} ms"));
        }
    }
    let joins: Vec<String> = joined
        .iter()
        .map(|(n, ms, _)| format!("{n} {ms} ms"))
        .collect();
    let summary = format!(
        "{}; joins: {}{}; {}; max half-open peers {half_open}; {}; {}; {cost}",
        report.summary(),
        joins.join(", "),
        if skipped.is_empty() {
            String::new()
        } else {
            format!(" (SKIPPED: {})", skipped.join(", "))
        },
        lines_with(&echo_out, "COUNT "),
        lines_with(&server_out, "STATS "),
        lines_with(&server_out, "RSS "),
    );
    verdict(problems, summary, &server_out)
}

/// A raw UDP "client" from its own loopback address, reading what the server sends it.
struct Raw {
    sock: UdpSocket,
    server: SocketAddr,
}

/// What a VERIFY_CONNECT offered: the slot, the sessions and the sent time of its datagram.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Offer {
    slot: u16,
    /// The session the client puts on its datagrams (VERIFY_CONNECT's outgoingSessionID).
    session: u8,
    sent_time: u16,
}

impl Raw {
    fn new(n: usize, server: SocketAddr) -> Result<Raw, String> {
        let sock = UdpSocket::bind((source(1000 + n), 0)).map_err(|e| e.to_string())?;
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .map_err(|e| e.to_string())?;
        Ok(Raw { sock, server })
    }
    fn send(&self, d: &[u8]) {
        self.sock.send_to(d, self.server).expect("send");
    }
    /// The answer the server owes: every datagram from the first one (waited for at most
    /// [`SYNC`], so a loaded machine's late answer is not taken for none) to `ms` after it.
    fn answer(&self, ms: u64) -> Vec<Vec<u8>> {
        let until = Instant::now() + SYNC;
        let mut buf = [0u8; 4096];
        while Instant::now() < until {
            if let Ok((n, _)) = self.sock.recv_from(&mut buf) {
                let mut got = vec![buf[..n].to_vec()];
                got.extend(self.collect(ms));
                return got;
            }
        }
        Vec::new()
    }
    /// What has arrived, without waiting (after a [`barrier`]: everything the server sent here
    /// in answer to what we sent before it).
    fn drain(&self) -> Vec<Vec<u8>> {
        let _ = self.sock.set_nonblocking(true);
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok((n, _)) = self.sock.recv_from(&mut buf) {
            got.push(buf[..n].to_vec());
        }
        let _ = self.sock.set_nonblocking(false);
        got
    }
    /// Sends `connect` (again every 300 ms: a loaded server's socket may drop it) until a
    /// VERIFY_CONNECT comes back, at most [`SYNC`]: the server has read it and holds its
    /// handshake.
    fn offer_for(&self, connect: &[u8]) -> Result<Offer, String> {
        let until = Instant::now() + SYNC;
        let mut buf = [0u8; 4096];
        while Instant::now() < until {
            self.send(connect);
            let again = Instant::now() + Duration::from_millis(300);
            while Instant::now() < again {
                if let Ok((n, _)) = self.sock.recv_from(&mut buf) {
                    if let Some(&o) = offers(&[buf[..n].to_vec()]).first() {
                        return Ok(o);
                    }
                }
            }
        }
        Err(format!(
            "no VERIFY_CONNECT from {} within {SYNC:?}",
            self.server
        ))
    }
    /// Every datagram that arrives within `ms`.
    fn collect(&self, ms: u64) -> Vec<Vec<u8>> {
        let until = Instant::now() + Duration::from_millis(ms);
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while Instant::now() < until {
            if let Ok((n, _)) = self.sock.recv_from(&mut buf) {
                got.push(buf[..n].to_vec());
            }
        }
        got
    }
    /// The ACK of VERIFY_CONNECT (reliable command 1 on channel 0xFF) to `slot`.
    fn ack(&self, offer: Offer, echo: u16) {
        let mut d = wire::header(offer.slot, offer.session, 0, None);
        d.extend(wire::ack(0xFF, 1, echo));
        self.send(&d);
    }
}

/// Waits until the server has read everything sent to it before: a CONNECT from a fresh
/// forging address (2,000 on, one per barrier) is answered with VERIFY_CONNECT. The server reads
/// its one socket in order and loopback delivers in order, so once this returns the answers to
/// anything sent before wait in their sockets ([`Raw::drain`]). Then a DISCONNECT to the slot
/// offered ends the barrier's handshake ("the client left": its half-open peer or record is
/// gone at once, with nothing sent back).
fn barrier(server: SocketAddr) -> Result<(), String> {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(2000);
    let n = NEXT.fetch_add(1, Relaxed);
    let raw = Raw::new(n, server)?;
    let offer = raw
        .offer_for(&connect_datagram(0, 0xBA00_0000 + n as u32, 1))
        .map_err(|e| format!("barrier: {e}"))?;
    let mut d = wire::header(offer.slot, offer.session, 0, None);
    d.extend(wire::command(
        wire::DISCONNECT | wire::FLAG_UNSEQUENCED,
        0xFF,
        0,
    ));
    wire::u32s(&mut d, 0);
    raw.send(&d);
    Ok(())
}

/// Waits until the server printed `HALFOPEN <ms> <n>` with n at least `at_least` (it prints its
/// count of unverified half-open peers every 100 ms when it changed): the flood holds them.
fn wait_half_open(server: &mut LuaProcess, at_least: u64) -> Result<(), String> {
    let held = |l: &str| {
        l.strip_prefix("HALFOPEN ")
            .and_then(|r| r.split_whitespace().nth(1)?.parse::<u64>().ok())
            .is_some_and(|n| n >= at_least)
    };
    server
        .wait_until(held, &format!("HALFOPEN with {at_least} or more"), 2 * SYNC)
        .map(|_| ())
}

/// The VERIFY_CONNECTs among `datagrams`.
fn offers(datagrams: &[Vec<u8>]) -> Vec<Offer> {
    datagrams
        .iter()
        .filter_map(|d| {
            let (_, sent, commands) = wire::parse(d)?;
            let v: &Command = commands.iter().find(|c| c.number == wire::VERIFY_CONNECT)?;
            Some(Offer {
                slot: v.u16_at(0),
                session: v.fields[3],
                sent_time: sent?,
            })
        })
        .collect()
}

fn expect(problems: &mut Vec<String>, ok: bool, what: String) {
    if !ok {
        problems.push(what);
    }
}

/// A reliable message to the slot an offer gave, as its client would send it.
fn data_to(offer: Offer) -> Vec<u8> {
    let mut data = wire::header(offer.slot, offer.session, 0, Some(9));
    data.extend(wire::send(wire::SEND_RELIABLE, 0, 1, 0, 5, b"early"));
    data
}

/// Whether the server echoed data among `datagrams`.
fn echoes_data(datagrams: &[Vec<u8>]) -> bool {
    datagrams.iter().any(|d| {
        wire::parse(d).is_some_and(|(_, _, cs)| cs.iter().any(|c| c.number == wire::SEND_RELIABLE))
    })
}

fn connects_of(server_out: &str) -> usize {
    server_out
        .lines()
        .filter(|l| l.starts_with("EVENT connect"))
        .count()
}

/// No reflection: one forged CONNECT gets exactly one datagram back and its slot is free again
/// after the connect timeout (1 s here); a blind attacker who guesses the acknowledgement
/// (sent time 0, every slot and session) completes no handshake, and gets at most a few
/// datagrams sent to the victim.
pub fn reflection(ctx: &Ctx) -> Outcome {
    let stop = StopFile::new(ctx, "reflection");
    let (server_proc, addr) = server(ctx, &stop, &[("ENET_CONNECT_TIMEOUT", "1000".into())])?;
    let mut problems = Vec::new();

    let victim = Raw::new(0, addr)?;
    victim.send(&connect_datagram(0, 0x1234_5678, 1));
    let got = victim.answer(2500);
    let o = offers(&got);
    expect(
        &mut problems,
        got.len() == 1 && o.len() == 1,
        format!(
            "one forged CONNECT got {} datagrams back ({} VERIFY_CONNECT) in 2.5 s",
            got.len(),
            o.len()
        ),
    );

    // Blind guesses: the attacker cannot see the VERIFY_CONNECT, so it guesses sent time 0
    // (we can see it: if it happens to be 0, the "wrong" guess is 1).
    let victim2 = Raw::new(1, addr)?;
    victim2.send(&connect_datagram(0, 0x0BAD_CAFE, 2));
    let first = victim2.answer(300);
    let real = offers(&first).first().map(|o| o.sent_time);
    let guess = if real == Some(0) { 1 } else { 0 };
    for slot in 0..64u16 {
        for session in 0..4u8 {
            victim2.ack(
                Offer {
                    slot,
                    session,
                    sent_time: 0,
                },
                guess,
            );
        }
    }
    // The server has read every guess; then 1.5 s for anything its timers send.
    barrier(addr)?;
    let mut after = victim2.drain();
    after.extend(victim2.collect(1500));

    stop.signal();
    let out = server_proc.finish(Duration::from_secs(20), |_| {})?;
    expect(
        &mut problems,
        connects_of(&out) == 0,
        "a guessed acknowledgement completed a handshake".into(),
    );
    expect(
        &mut problems,
        first.len() == 1,
        format!("the second forged CONNECT got {} datagrams", first.len()),
    );
    expect(
        &mut problems,
        after.len() <= 4,
        format!(
            "256 guessed acknowledgements made the server send {} datagrams to the victim",
            after.len()
        ),
    );
    // HALFOPEN lines: the slot of the first CONNECT is held at most twice the connect timeout
    // (1 s here: a handshake whose client was never heard lives twice as long), plus the
    // server's 100 ms sampling of its half-open count and a service tick (2,001-2,003 ms
    // measured on a loaded machine, which a bound of exactly 2,000 ms failed now and then).
    let mut held_from = None;
    let mut longest = 0;
    for l in out.lines().filter_map(|l| l.strip_prefix("HALFOPEN ")) {
        let mut w = l.split_whitespace().map(|x| x.parse::<u64>().unwrap_or(0));
        let (t, n) = (w.next().unwrap_or(0), w.next().unwrap_or(0));
        match (held_from, n) {
            (None, n) if n > 0 => held_from = Some(t),
            (Some(from), 0) => {
                longest = longest.max(t - from);
                held_from = None;
            }
            _ => {}
        }
    }
    expect(
        &mut problems,
        held_from.is_none() && longest <= 2 * 1000 + 250,
        format!(
            "half-open slots held for {longest} ms (still held: {})",
            held_from.is_some()
        ),
    );
    let summary = format!(
        "one forged CONNECT: {} datagram back; 256 guessed ACKs: 0 handshakes, {} datagrams to the victim; half-open slot held at most {longest} ms; {}",
        got.len(),
        after.len(),
        lines_with(&out, "STATS ")
    );
    verdict(problems, summary, &out)
}

/// The record table's odd cases on a 4-peer server that two forged CONNECTs put under
/// pressure: an ACK for no record, a wrong echo, a duplicated CONNECT, data before the ACK (a
/// lost ACK), a duplicated ACK, and two clients asking for the last free slot.
pub fn handshake_cases(ctx: &Ctx) -> Outcome {
    let stop = StopFile::new(ctx, "cases");
    let (server_proc, addr) = server(ctx, &stop, &[("ENET_PEER_COUNT", "4".into())])?;
    let mut problems = Vec::new();
    // Two forged CONNECTs hold two of four slots: unverified peers hold half the free ones.
    for n in 0..2 {
        Raw::new(10 + n, addr)?.offer_for(&connect_datagram(0, 100 + n as u32, 1))?;
    }

    let c1 = Raw::new(20, addr)?;
    c1.send(&connect_datagram(0, 0xC1, 7));
    let o1 = offers(&c1.answer(200));
    let Some(&offer1) = o1.first() else {
        return Err("no VERIFY_CONNECT for the first client".into());
    };
    expect(
        &mut problems,
        o1.len() == 1,
        format!("{} answers to one CONNECT", o1.len()),
    );

    // An ACK from an address with no record, to the offered slot: nothing.
    let stranger = Raw::new(21, addr)?;
    stranger.ack(offer1, offer1.sent_time);
    barrier(addr)?;
    expect(
        &mut problems,
        stranger.drain().is_empty(),
        "an ACK for no record was answered".into(),
    );

    // A wrong echo: no handshake, no answer.
    c1.ack(offer1, offer1.sent_time ^ 0x5A5A);
    barrier(addr)?;
    expect(
        &mut problems,
        c1.drain().is_empty(),
        "a wrong echo was answered".into(),
    );

    // The client's CONNECT again (its retransmission): the same offer, once.
    c1.send(&connect_datagram(0, 0xC1, 8));
    let again = offers(&c1.answer(200));
    expect(
        &mut problems,
        again == vec![offer1],
        format!("a repeated CONNECT got {again:?}, not {offer1:?}"),
    );

    // Data before the ACK (the ACK was lost): answered with the offer again, no handshake.
    let data = data_to(offer1);
    c1.send(&data);
    let again = offers(&c1.answer(200));
    expect(
        &mut problems,
        again == vec![offer1],
        format!("data before the ACK got {again:?}"),
    );

    // The ACK, twice, then the data again: one connection, and the data echoed.
    c1.ack(offer1, offer1.sent_time);
    c1.ack(offer1, offer1.sent_time);
    c1.send(&data);
    expect(
        &mut problems,
        echoes_data(&c1.answer(300)),
        "the joined client's data was not echoed".into(),
    );

    // Two clients ask for the last free slot (162514b offered it to both). Each one told
    // connect and acknowledging is served or told DISCONNECT, never left in silence (docs/contract.md §10,
    // as in flood_shared_slot; here no other slot is free).
    let c2 = Raw::new(22, addr)?;
    let c3 = Raw::new(23, addr)?;
    c2.send(&connect_datagram(2, 0xC2, 1));
    let o2 = offers(&c2.answer(150)).first().copied();
    c3.send(&connect_datagram(3, 0xC3, 1));
    let o3 = offers(&c3.answer(150)).first().copied();
    let mut served = 0;
    for (c, offer, peer) in [(&c3, o3, 3), (&c2, o2, 2)] {
        let Some(offer) = offer else { continue };
        let (is_served, told, got) = join_by_hand(c, offer, peer);
        served += is_served as usize;
        expect(
            &mut problems,
            is_served || told,
            format!("a client told connect for the last slot got {got} datagrams after its ACK, none serving or disconnecting it"),
        );
    }

    stop.signal();
    let out = server_proc.finish(Duration::from_secs(20), |_| {})?;
    expect(
        &mut problems,
        connects_of(&out) == 1 + served,
        format!("{} connect events, not {}", connects_of(&out), 1 + served),
    );
    let summary = format!("records: no-record ACK, wrong echo, repeated CONNECT, data before ACK, duplicated ACK, two clients for the last slot (offers {o2:?}, {o3:?}; {served} served); {}", lines_with(&out, "STATS "));
    verdict(problems, summary, &out)
}

/// A record table smaller than the flood's sources (256 records, 300 forging addresses; the
/// flood case's 300 sources each replace their own record): records are evicted, the server's
/// memory does not move, and a legitimate client still joins (an evicted offer is renewed by its
/// CONNECT retransmission, so allow 3 s).
pub fn record_eviction(ctx: &Ctx) -> Outcome {
    let stop = StopFile::new(ctx, "eviction");
    let (mut server_proc, addr) = server(ctx, &stop, &[("ENET_RECORDS", "256".into())])?;
    let flood = Flood::start(addr, 5000, SOURCES, ctx.seed_for("eviction"))?;
    // Under pressure (the flood holds the half-open share): its CONNECTs get records now.
    wait_half_open(&mut server_proc, 16)?;
    let client = ctx.lua(
        ctx.interp,
        &ctx.module_dir,
        "flood.lua",
        &[
            ("ENET_ROLE", "client".to_string()),
            ("ENET_SERVER", addr.to_string()),
            ("ENET_JOIN_LIMIT", "3000".to_string()),
        ],
    );
    let joined = LuaProcess::spawn_named("client", client)?.finish(Duration::from_secs(20), |_| {});
    // A second of the flood (5,000 CONNECTs) whatever the client took: from 300 sources, enough
    // to fill the 256 records and churn them. (A client that joined in 1 ms left 217 CONNECTs,
    // fewer than the records, and no eviction to see.)
    flood.wait_sent(1)?;
    // Everything the flood sent so far read by the server.
    barrier(addr)?;
    let report = flood.stop();
    stop.signal();
    let out = server_proc.finish(Duration::from_secs(20), |_| {})?;
    let joined = joined?;
    let evicted = out
        .lines()
        .find_map(|l| {
            l.strip_prefix("STATS ")?
                .split_whitespace()
                .nth(3)?
                .parse::<u64>()
                .ok()
        })
        .unwrap_or(0);
    let summary = format!(
        "256 records, {}; evicted {evicted}; {}; {}",
        report.summary(),
        lines_with(&joined, "COUNT "),
        lines_with(&out, "RSS ")
    );
    if evicted == 0 {
        return Err(format!(
            "no record was evicted
{summary}
server:
{out}"
        ));
    }
    Ok(summary)
}

/// `host:flood_defence(false)` is stock ENet's handshake: one forged CONNECT gets
/// VERIFY_CONNECT again on the server's timer, and a modest flood (1,000/s) locks every slot
/// so that a legitimate client cannot join within a second.
pub fn defence_off(ctx: &Ctx) -> Outcome {
    let stop = StopFile::new(ctx, "off");
    let (mut server_proc, addr) = server(ctx, &stop, &[("ENET_DEFENCE", "off".into())])?;
    let mut problems = Vec::new();
    let victim = Raw::new(30, addr)?;
    victim.send(&connect_datagram(0, 0x5070C, 1));
    let got = offers(&victim.answer(1800));
    expect(
        &mut problems,
        got.len() >= 2,
        format!("stock ENet retransmits VERIFY_CONNECT, got {}", got.len()),
    );

    let flood = Flood::start(addr, 1000, SOURCES, ctx.seed_for("off"))?;
    // Every slot half-open before the client tries (the verdict below asks for 64).
    wait_half_open(&mut server_proc, 64)?;
    let client = ctx.lua(
        ctx.interp,
        &ctx.module_dir,
        "flood.lua",
        &[
            ("ENET_ROLE", "client".to_string()),
            ("ENET_SERVER", addr.to_string()),
            ("ENET_JOIN_LIMIT", "1000".to_string()),
        ],
    );
    let joined = LuaProcess::spawn_named("client", client)?.finish(Duration::from_secs(20), |_| {});
    let report = flood.stop();
    stop.signal();
    let out = server_proc.finish(Duration::from_secs(20), |_| {})?;
    expect(
        &mut problems,
        joined.is_err(),
        "a client joined a stock server flooded at 1,000/s".into(),
    );
    expect(
        &mut problems,
        most_half_open(&out) == 64,
        format!("stock: {} half-open peers, not 64", most_half_open(&out)),
    );
    let summary = format!(
        "defence off: {} VERIFY_CONNECTs for one CONNECT in 1.8 s; {}; {} half-open peers; the client did not join within 1 s",
        got.len(),
        report.summary(),
        most_half_open(&out)
    );
    verdict(problems, summary, &out)
}

/// ACKs of VERIFY_CONNECT (reliable command 1 on channel 0xFF) echoing each of `echoes`, all in
/// one datagram to `slot` with `session` (a blind attacker tries each of the 4: the server
/// ignores CONNECTs with peer id 0xFFF, which would need none, under the defence).
fn guesses(slot: u16, session: u8, echoes: impl Iterator<Item = u16>) -> Vec<u8> {
    let mut d = wire::header(slot, session, 0, None);
    for e in echoes {
        d.extend(wire::ack(0xFF, 1, e));
    }
    d
}

/// A record counts wrong echoes per datagram, not per echo: one datagram can carry ~500 ACKs of
/// VERIFY_CONNECT, each a guess of the 16-bit sent time, so a record allows 4 x 511 = 2,044
/// guesses (3% of the space) where a half-open peer allows 4. First deterministically (we own
/// the address and see the offer): one datagram of 100 wrong echoes and then the right one
/// completes the handshake. Then blind, as an off-path attacker: forged CONNECTs (new connect
/// ID each) from a "victim" address whose answers are never read, each followed by 4 datagrams of
/// 511 guesses to every slot and session; a handshake for the victim's address completed after
/// ~32 CONNECTs on average.
/// (Fixed: every wrong echo counts, so 50 blind CONNECTs have 200 guesses, a 0.3% chance.)
pub fn record_guesses(ctx: &Ctx) -> Outcome {
    let stop = StopFile::new(ctx, "guesses");
    let (server_proc, addr) = pressured_server(ctx, &stop, 4, 2, 40, &[])?;
    let mut problems = Vec::new();

    // Deterministic: 100 wrong echoes and the right one in one datagram.
    let c = Raw::new(42, addr)?;
    c.send(&connect_datagram(0, 0xD1, 1));
    let Some(&offer) = offers(&c.answer(200)).first() else {
        return Err("no VERIFY_CONNECT under pressure".into());
    };
    let wrong = (1..=100u16).map(|i| offer.sent_time.wrapping_add(i));
    c.send(&guesses(
        offer.slot,
        offer.session,
        wrong.chain(std::iter::once(offer.sent_time)),
    ));
    barrier(addr)?;

    // Blind: the victim's answers are never read (its socket only gives it an address). Each
    // batch of 16 datagrams (64 KiB) is read by the server before the next ([`barrier`]), so
    // no guess is lost to a full socket buffer.
    let victim = Raw::new(43, addr)?;
    let mut forged = 0u32;
    let per = (4096 - 4) / 8; // ACKs in a datagram of the server's receive buffer
    let mut next = 0u32; // guesses cycle through the space
    while forged < 50 {
        forged += 1;
        victim.send(&connect_datagram(0, 0xB000 + forged, 1));
        for _ in 0..4 {
            let echoes: Vec<u16> = (0..per as u32).map(|i| (next + i) as u16).collect();
            next = next.wrapping_add(per as u32);
            for slot in 0..4 {
                for session in 0..4 {
                    victim.send(&guesses(slot, session, echoes.iter().copied()));
                }
            }
            barrier(addr)?;
        }
    }

    stop.signal();
    let out = server_proc.finish(Duration::from_secs(20), |_| {})?;
    let connects = connects_of(&out);
    expect(
        &mut problems,
        connects == 0,
        format!(
            "{connects} handshakes completed by guessed echoes (1 expected from 100 wrong + 1 right in one datagram; the rest blind, after {forged} forged CONNECTs)"
        ),
    );
    let summary = format!(
        "{forged} forged CONNECTs with 4 x {per} guesses each; {connects} handshakes; {}",
        lines_with(&out, "STATS ")
    );
    verdict(problems, summary, &out)
}

/// `host:duplicate_peers(1)` under pressure: the limit is checked against peers when a CONNECT
/// arrives, and a record is no peer, so two clients from one IP address (two ports) that both
/// get records both become peers when they acknowledge.
pub fn record_duplicate_peers(ctx: &Ctx) -> Outcome {
    let stop = StopFile::new(ctx, "duplicates");
    let (server_proc, addr) = pressured_server(
        ctx,
        &stop,
        8,
        4,
        50,
        &[("ENET_DUPLICATE_PEERS", "1".into())],
    )?;
    let mut problems = Vec::new();

    // Two clients on one address, two ports: both CONNECT before either acknowledges.
    let ip = source(1060);
    let mut clients = Vec::new();
    for n in 0..2u32 {
        let sock = UdpSocket::bind((ip, 0)).map_err(|e| e.to_string())?;
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .map_err(|e| e.to_string())?;
        let c = Raw { sock, server: addr };
        c.send(&connect_datagram(0, 0xDD0 + n, 1));
        let Some(&offer) = offers(&c.answer(200)).first() else {
            return Err(format!("no VERIFY_CONNECT for client {n}"));
        };
        clients.push((c, offer));
    }
    for (c, offer) in &clients {
        c.ack(*offer, offer.sent_time);
    }
    barrier(addr)?;

    stop.signal();
    let out = server_proc.finish(Duration::from_secs(20), |_| {})?;
    let connects = connects_of(&out);
    expect(
        &mut problems,
        connects <= 1,
        format!("{connects} peers from {ip} with duplicate_peers(1)"),
    );
    let summary = format!(
        "duplicate_peers(1), two records from one address: {connects} connected; {}",
        lines_with(&out, "STATS ")
    );
    verdict(problems, summary, &out)
}

/// Byte amplification towards an address that never completes a handshake: every datagram to
/// the offered slot from a record's (or an unverified peer's) address is answered with the
/// 48-byte VERIFY_CONNECT, and a datagram of 2 bytes (the header's peer id and session alone,
/// which the spoofer, who reads the answers here, knows) counts. A spoofer that sends one CONNECT
/// (52 bytes) and 7 two-byte datagrams to the victim's address gets 8 x 48 = 384 bytes sent
/// there, 5.8 times what it sent (per new connect ID, without end); both paths. The bound here:
/// at most 3 times the bytes received from the address.
pub fn answer_amplification(ctx: &Ctx) -> Outcome {
    amplification(ctx, "amplification", &[], 70, None, |n| {
        Ok(connect_datagram(0, 0xA000 + n as u32, 1))
    })
}

/// Found by the outside review of the first defence: reflection past 3 bytes per byte with compression: the answer credit counted the
/// decompressed length, so one range-coded CONNECT of ~60 bytes that expands to 4 KB earned
/// 12 KB of answers, and 2-byte datagrams to the offered slot then drew a 48-byte
/// VERIFY_CONNECT each (5.12 bytes out per byte in). A server with
/// `host:compress_with_range_coder()`, both paths (unverified peer, record): every answer to an
/// unverified source is at most 3 bytes per byte it sent *on the wire*. The CONNECT is coded by
/// ENet's own range coder (vendor/enet/compress.c, through tests/net/c/range_code.c). 162514b
/// fails the record path (384 bytes for 86); its peer path stays under the bound only because
/// the host range-codes its VERIFY_CONNECTs too (29 bytes each).
pub fn compressed_reflection(ctx: &Ctx) -> Outcome {
    let Some(coder) = range_coder(ctx)? else {
        return Ok("SKIPPED: no C compiler".into());
    };
    let env = [("ENET_COMPRESS", "1".to_string())];
    amplification(ctx, "compressed", &env, 90, Some(&coder), |n| {
        let plain = connect_datagram(0, 0xC000 + n as u32, 1);
        // The CONNECT command and zeros up to a full receive buffer (the zeros end the
        // datagram's commands: command number 0 has no size).
        let mut body = plain[4..].to_vec();
        body.resize(wire::MAXIMUM_MTU - 4, 0);
        let mut d = wire::header(wire::NO_PEER, 0, wire::HEADER_COMPRESSED, Some(1));
        d.extend(range_code(&coder, &body, false)?);
        Ok(d)
    })
}

/// vendor/enet 0042 through the range decoder: a DISCONNECT asking for an acknowledgement, in a
/// datagram without a sent time, left its connected peer ACKNOWLEDGING_DISCONNECT for good (no
/// event, the slot taken until destroy). The Lua tests send it plain (LuaSocket cannot range-code);
/// here a client joined by hand sends it plain, another one range-coded by ENet's own coder to a
/// compressing server: each must end with a disconnect event on the server within 2 s (its peers'
/// timeout is not involved: nothing is in flight). Fails on c716bd9^ (0042's parent).
pub fn compressed_disconnect_no_sent_time(ctx: &Ctx) -> Outcome {
    let Some(coder) = range_coder(ctx)? else {
        return Ok("SKIPPED: no C compiler".into());
    };
    let stop = StopFile::new(ctx, "disconnect_no_sent_time");
    let (mut server_proc, addr) = server(ctx, &stop, &[("ENET_COMPRESS", "1".into())])?;
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    for (n, compressed) in [(40usize, false), (41, true)] {
        let what = if compressed { "range-coded" } else { "plain" };
        let c = Raw::new(n, addr)?;
        let local = c.sock.local_addr().map_err(|e| e.to_string())?;
        let offer = c.offer_for(&connect_datagram(n as u16, 0xD15C + n as u32, 1))?;
        let (served, _, _) = join_by_hand(&c, offer, n as u16);
        expect(
            &mut problems,
            served,
            format!("{what}: the client joined by hand was not served"),
        );
        // DISCONNECT | ACKNOWLEDGE on channel 0xFF, its reliable command 2 (CONNECT was 1), data 99.
        let mut body = wire::command(wire::DISCONNECT | wire::FLAG_ACKNOWLEDGE, 0xFF, 2);
        wire::u32s(&mut body, 99);
        let d = if compressed {
            let mut d = wire::header(offer.slot, offer.session, wire::HEADER_COMPRESSED, None);
            d.extend(range_code(&coder, &body, false)?);
            // What the server will read: the same command once decoded.
            let plain = uncompressed(&coder, &d)?;
            expect(
                &mut problems,
                plain[2..] == body[..],
                format!("{what}: the coder does not give the command back ({plain:?})"),
            );
            d
        } else {
            let mut d = wire::header(offer.slot, offer.session, 0, None);
            d.extend(&body);
            d
        };
        c.send(&d);
        let line = server_proc.wait_until(
            |l| l.starts_with("EVENT disconnect") && l.ends_with(&local.to_string()),
            &format!("{what}: a disconnect event for {local}"),
            Duration::from_secs(2),
        );
        match line {
            Ok(_) => seen.push(format!("{what}: disconnect ({} bytes)", d.len())),
            Err(e) => problems.push(e),
        }
    }
    stop.signal();
    let out = server_proc.finish(Duration::from_secs(20), |_| {})?;
    let summary = format!("{}; {}", seen.join(", "), lines_with(&out, "STATS "));
    verdict(problems, summary, &out)
}

/// ENet's range coder (vendor/enet/compress.c) as a program, compiled from
/// tests/net/c/range_code.c; `None` without a C compiler.
fn range_coder(ctx: &Ctx) -> Result<Option<std::path::PathBuf>, String> {
    crate::stock::compile(
        ctx,
        "range_code.c",
        "range_code",
        &[
            &format!("-I{}", ctx.root.join("vendor/enet/include").display()),
            &ctx.root
                .join("vendor/enet/compress.c")
                .display()
                .to_string(),
        ],
    )
}

/// `body` coded by ENet's range coder (the helper compiled from tests/net/c/range_code.c), or
/// decoded.
fn range_code(coder: &std::path::Path, body: &[u8], decode: bool) -> Result<Vec<u8>, String> {
    use std::io::Write;
    let mut child = Process::new(coder)
        .args(if decode { &["-d"][..] } else { &[] })
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", coder.display()))?;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(body)
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() || out.stdout.is_empty() {
        return Err(format!(
            "the range coder gave nothing for {} bytes",
            body.len()
        ));
    }
    Ok(out.stdout)
}

/// A datagram as it was before its sender range-coded it (unchanged if it was not).
fn uncompressed(coder: &std::path::Path, d: &[u8]) -> Result<Vec<u8>, String> {
    let raw = u16::from_be_bytes([d[0], d[1]]);
    if d.len() < 2 || raw & wire::HEADER_COMPRESSED == 0 {
        return Ok(d.to_vec());
    }
    let at = if raw & wire::HEADER_SENT_TIME != 0 {
        4
    } else {
        2
    };
    let mut plain = (raw & !wire::HEADER_COMPRESSED).to_be_bytes().to_vec();
    plain.extend_from_slice(&d[2..at]);
    plain.extend(range_code(coder, &d[at..], true)?);
    Ok(plain)
}

/// The amplification cases: on a 4-peer server (`env` added), a source from raw address
/// `first` sends `connect(first)` and ten 2-byte datagrams to the slot offered (an unverified
/// peer); then, with another CONNECT holding a slot so that the server is under pressure, a
/// second source does the same (a record). Bytes back to each at most 3 times its bytes sent.
/// With `coder`, what the server sends is decoded to find its offer (counted as sent).
/// ENET_FLOOD_FOLLOWUPS replaces the ten datagrams; ENET_FLOOD_LINGER_MS (0) listens that much
/// longer after them for the BENCH line's `back_linger` (retransmissions the bound does not
/// wait for).
fn amplification(
    ctx: &Ctx,
    name: &str,
    env: &[(&str, String)],
    first: usize,
    coder: Option<&std::path::Path>,
    connect: impl Fn(usize) -> Result<Vec<u8>, String>,
) -> Outcome {
    let stop = StopFile::new(ctx, name);
    let mut server_env = vec![("ENET_PEER_COUNT", "4".to_string())];
    server_env.extend(env.iter().cloned());
    let (server_proc, addr) = server(ctx, &stop, &server_env)?;
    let mut problems = Vec::new();
    let mut summary = Vec::new();
    // First an unverified peer (no pressure), then, two more holding slots, a record.
    for (n, path) in [(first, "peer"), (first + 1, "record")] {
        if path == "record" {
            Raw::new(first + 2, addr)?.offer_for(&connect_datagram(0, 0x7272, 1))?;
        }
        let victim = Raw::new(n, addr)?;
        let connect = connect(n)?;
        victim.send(&connect);
        let mut got = victim.answer(150);
        let plain = match coder {
            Some(coder) => got
                .iter()
                .map(|d| uncompressed(coder, d))
                .collect::<Result<Vec<_>, _>>()?,
            None => got.clone(),
        };
        let Some(&offer) = offers(&plain).first() else {
            return Err(format!("no VERIFY_CONNECT ({path})"));
        };
        let mut sent = connect.len();
        let followups = sized("FOLLOWUPS", 10usize);
        for _ in 0..followups {
            let tiny = wire::header(offer.slot, offer.session, 0, None);
            sent += tiny.len();
            victim.send(&tiny);
            got.extend(victim.collect(30));
        }
        // Every answer to what the victim sent, however late the server was.
        barrier(addr)?;
        got.extend(victim.drain());
        let back: usize = got.iter().map(Vec::len).sum();
        let linger_ms = sized("LINGER_MS", 0u64);
        let late = if linger_ms > 0 {
            victim.collect(linger_ms)
        } else {
            Vec::new()
        };
        bench_line(
            &format!("{name}/{path}"),
            &[
                ("connect_bytes", connect.len().to_string()),
                ("followups", followups.to_string()),
                ("sent", sent.to_string()),
                ("back", back.to_string()),
                ("datagrams_back", got.len().to_string()),
                ("linger_ms", linger_ms.to_string()),
                (
                    "back_linger",
                    (back + late.iter().map(Vec::len).sum::<usize>()).to_string(),
                ),
                ("datagrams_linger", (got.len() + late.len()).to_string()),
            ],
            "",
        );
        summary.push(format!(
            "{path}: {sent} bytes in {} datagrams (a CONNECT of {}), {back} bytes in {} datagrams back",
            followups + 1,
            connect.len(),
            got.len()
        ));
        expect(
            &mut problems,
            back <= 3 * sent,
            format!("{path}: {back} bytes sent to an address that sent {sent}"),
        );
    }
    stop.signal();
    let out = server_proc.finish(Duration::from_secs(20), |_| {})?;
    let summary = format!("{}; {}", summary.join("; "), lines_with(&out, "STATS "));
    verdict(problems, summary, &out)
}

/// A blind attacker's rate: each forged CONNECT with a new connect ID (from the same address and
/// port) gets a new handshake with 4 fresh guesses of the 16-bit echo (tried under every
/// session), and a server under pressure with one free slot offers that slot every time.
/// So ~16,384 attempts of two datagrams completed a handshake for an address the attacker does
/// not control in a few seconds on loopback, until wrong echoes were counted per source IP
/// (16 per 10 s): now no handshake completes.
pub fn blind_rate(ctx: &Ctx) -> Outcome {
    let stop = StopFile::new(ctx, "blind");
    // One forged CONNECT holds one of two slots: under pressure, the other is always offered.
    let (server_proc, addr) = pressured_server(ctx, &stop, 2, 1, 80, &[])?;
    let mut problems = Vec::new();
    let victim = Raw::new(81, addr)?;
    let started = Instant::now();
    // As many attempts as an idle machine made in the 8 s this case once lasted (25,000-26,000;
    // ~16,384 completed a handshake before the fix), counted, not timed: a loaded machine makes
    // them all too. Each batch of 40 (200 small datagrams, well within the server's socket
    // buffer) is read by the server before the next ([`barrier`]), so none is lost.
    let mut attempts = 0u32;
    while attempts < 25_000 {
        for _ in 0..40 {
            attempts += 1;
            victim.send(&connect_datagram(0, 0x10_0000 + attempts, 1));
            let base = (attempts as u16).wrapping_mul(4);
            for session in 0..4 {
                victim.send(&guesses(1, session, (0..4).map(|i| base.wrapping_add(i))));
            }
        }
        barrier(addr)?;
        // the victim's socket is drained, never read
        victim.drain();
    }
    let lost = socket_drops(addr.port());
    stop.signal();
    let out = server_proc.finish(Duration::from_secs(20), |_| {})?;
    let connects = connects_of(&out);
    expect(
        &mut problems,
        connects == 0,
        format!("{connects} handshakes for an address whose answers were never read, in {attempts} attempts ({:.1} s)", started.elapsed().as_secs_f64()),
    );
    expect(
        &mut problems,
        lost.unwrap_or(0) == 0,
        format!("{lost:?} datagrams lost at the server's socket: not every attempt was tried"),
    );
    let summary = format!(
        "{attempts} blind attempts in {:.1} s, {} lost at the socket: {connects} handshakes; {}",
        started.elapsed().as_secs_f64(),
        lost.map_or("-".into(), |d| d.to_string()),
        lines_with(&out, "STATS ")
    );
    verdict(problems, summary, &out)
}

/// Found by the outside review of the first defence: phantom joins, by hand. A stock client is connected once it has VERIFY_CONNECT,
/// so the server must then have a peer for it that takes its messages, or tell it DISCONNECT
/// at once; silence leaves it talking to nobody until it times out. A 4-slot host that two
/// forged CONNECTs put under pressure gets CONNECTs from three raw clients (their own loopback
/// addresses, reading what the server sends) before any of them acknowledges: 162514b offers
/// slot 2 to the first and the third and slot 3 to the second. Each then acknowledges its
/// VERIFY_CONNECT with the right echo and sends a reliable message in the same datagram, as a
/// stock client does, in the order first, third, second (the third's ACK reaches its slot
/// second). Every client that was offered a slot must see its message acknowledged or echoed,
/// or a DISCONNECT to its peer id, within 1 s (its message sent again after 300 ms); and the
/// server raises a `connect` event for each one served.
pub fn shared_slot(ctx: &Ctx) -> Outcome {
    let stop = StopFile::new(ctx, "shared");
    let (server_proc, addr) = pressured_server(ctx, &stop, 4, 2, 100, &[])?;
    let mut problems = Vec::new();
    let mut clients = Vec::new();
    for n in 0..3u16 {
        let c = Raw::new(102 + n as usize, addr)?;
        c.send(&connect_datagram(n, 0x5A00 + n as u32, 1));
        let offer = offers(&c.answer(150)).first().copied();
        clients.push((n, c, offer));
    }
    let offered: Vec<String> = clients
        .iter()
        .map(|(n, _, o)| match o {
            Some(o) => format!("client {n}: slot {}", o.slot),
            None => format!("client {n}: no offer"),
        })
        .collect();
    let mut outcomes = Vec::new();
    let mut served = 0;
    for i in [0usize, 2, 1] {
        let (n, c, offer) = &clients[i];
        let Some(offer) = *offer else {
            outcomes.push(format!("client {n}: not told connect"));
            continue;
        };
        let (is_served, told, got) = join_by_hand(c, offer, *n);
        let outcome = match (is_served, told) {
            (true, _) => {
                served += 1;
                "served"
            }
            (false, true) => "told DISCONNECT",
            (false, false) => {
                problems.push(format!(
                    "client {n} was told connect (slot {}) and then got {got} datagrams in 1 s, none acknowledging its message or disconnecting it: a phantom join",
                    offer.slot
                ));
                "silence"
            }
        };
        outcomes.push(format!("client {n}: {outcome}"));
    }
    stop.signal();
    let out = server_proc.finish(Duration::from_secs(20), |_| {})?;
    let connects = connects_of(&out);
    expect(
        &mut problems,
        connects == served,
        format!("{connects} server connect events for {served} clients served"),
    );
    let summary = format!(
        "offers: {}; after the ACKs (first, third, second): {}; {connects} connect events; {}",
        offered.join(", "),
        outcomes.join(", "),
        lines_with(&out, "STATS ")
    );
    verdict(problems, summary, &out)
}

/// A raw client told connect by `offer` acknowledges it with the right echo and sends a
/// reliable message in the same datagram, as a stock client does (the message again after
/// 300 ms if nothing came). Whether, within 1 s, its message was served and it was told
/// DISCONNECT (its peer id is `peer`), and how many datagrams came.
fn join_by_hand(c: &Raw, offer: Offer, peer: u16) -> (bool, bool, usize) {
    let message = wire::send(wire::SEND_RELIABLE, 0, 1, 0, 5, b"hello");
    let mut d = wire::header(offer.slot, offer.session, 0, Some(2));
    d.extend(wire::ack(0xFF, 1, offer.sent_time));
    d.extend(&message);
    c.send(&d);
    let mut got = c.collect(300);
    if got.is_empty() {
        let mut again = wire::header(offer.slot, offer.session, 0, Some(302));
        again.extend(&message);
        c.send(&again);
        got.extend(c.collect(700));
    }
    let (served, told) = answered(&got, peer);
    (served, told, got.len())
}

/// Whether `datagrams` (to the raw client whose peer id is `peer`) serve its reliable message 1
/// on channel 0 (acknowledged or echoed), and whether one disconnects it.
fn answered(datagrams: &[Vec<u8>], peer: u16) -> (bool, bool) {
    let (mut served, mut told) = (false, false);
    for d in datagrams {
        let Some((raw, _, commands)) = wire::parse(d) else {
            continue;
        };
        for c in &commands {
            served |= c.number == wire::SEND_RELIABLE
                || (c.number == wire::ACKNOWLEDGE && c.channel == 0 && c.u16_at(0) == 1);
            told |= c.number == wire::DISCONNECT && raw & 0xFFF == peer;
        }
    }
    (served, told)
}

/// What the `burst` processes of tests/net/flood.lua reported, added up.
#[derive(Default)]
struct Burst {
    clients: u64,
    joined: u64,
    sent: u64,
    echoed: u64,
    dropped: u64,
    silent: Vec<String>,
    /// Each process's JOINS line: when its last client joined, and the ones that did not.
    joins: Vec<String>,
}

impl Burst {
    /// Every client joins, the server raised as many `connect` events as clients were told
    /// connect, every message is echoed and no joined client is dropped.
    fn problems(&self, connects: usize) -> Vec<String> {
        let mut problems = Vec::new();
        if connects as u64 != self.joined {
            problems.push(format!(
                "{} clients were told connect, the server raised {connects} connect events",
                self.joined
            ));
        }
        if self.joined != self.clients {
            problems.push(format!(
                "{} of {} clients joined (per process: {})",
                self.joined,
                self.clients,
                self.joins.join(" | ")
            ));
        }
        if self.echoed != self.sent || self.dropped > 0 {
            problems.push(format!(
                "{} of {} reliable messages echoed, {} joined clients dropped; clients without all their echoes (index sent echoed): {}",
                self.echoed,
                self.sent,
                self.dropped,
                self.silent.iter().take(20).cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        problems
    }

    /// Word `n` of each process's JOINS line ("last <ms> ms; unjoined <n> <states> ports
    /// <ports>"), comma-separated ("-" for an empty one).
    fn per_process(&self, n: usize) -> String {
        let words: Vec<&str> = self
            .joins
            .iter()
            .map(|l| match l.split(' ').nth(n) {
                Some(w) if !w.is_empty() => w,
                _ => "-",
            })
            .collect();
        words.join(",")
    }

    fn summary(&self) -> String {
        format!(
            "{} of {} clients joined, {} of {} messages echoed, {} dropped",
            self.joined, self.clients, self.echoed, self.sent, self.dropped
        )
    }
}

/// `processes` burst processes of `clients` clients each (`extra` added to their environment)
/// join `server` at once, at the same go signal, and send for 3 s.
fn burst(
    ctx: &Ctx,
    name: &str,
    server: SocketAddr,
    processes: usize,
    clients: usize,
    extra: &[(&str, String)],
) -> Result<Burst, String> {
    let go = StopFile::new(ctx, &format!("go-{name}"));
    let mut running = Vec::new();
    for p in 0..processes {
        let mut env = vec![
            ("ENET_ROLE", "burst".to_string()),
            ("ENET_SERVER", server.to_string()),
            ("ENET_CLIENTS", clients.to_string()),
            ("ENET_GO_FILE", go.0.display().to_string()),
        ];
        env.extend(extra.iter().cloned());
        let cmd = ctx.lua(ctx.interp, &ctx.module_dir, "flood.lua", &env);
        let mut proc = LuaProcess::spawn_named(&format!("{name} clients {p}"), cmd)?;
        proc.wait_line("READY", Duration::from_secs(30))?;
        running.push(proc);
    }
    go.signal();
    let mut total = Burst {
        clients: (processes * clients) as u64,
        ..Burst::default()
    };
    for proc in running {
        let out = proc.finish(Duration::from_secs(60), |_| {})?;
        let line = out
            .lines()
            .find_map(|l| l.strip_prefix("BURST "))
            .ok_or_else(|| format!("no BURST line:\n{out}"))?;
        let w: Vec<u64> = line
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        let [joined, sent, echoed, dropped] = w[..] else {
            return Err(format!("BURST {line}?"));
        };
        total.joined += joined;
        total.sent += sent;
        total.echoed += echoed;
        total.dropped += dropped;
        total.silent.extend(
            out.lines()
                .filter_map(|l| l.strip_prefix("SILENT "))
                .map(String::from),
        );
        total.joins.push(lines_with(&out, "JOINS "));
    }
    Ok(total)
}

/// Found by the outside review of the first defence: phantom joins in a burst: "1,000 clients in two processes joining one server at
/// once from 127.0.0.1 (a 1,016-slot host, 5 messages a second each): in one of two runs the
/// server raised 864 `connect` events while all 1,000 clients got theirs". Honest clients
/// (ours, each its own socket) in two processes join a server with 16 slots to spare and send
/// a reliable message every 200 ms for 3 s: every client joins, the server raises as many
/// connect events as clients were told connect, and every message is echoed. Two rounds, each
/// on a fresh server: all clients connecting in one go (162514b failed one run in two here),
/// then each process spreading its connects over 25 ms (162514b failed every run).
/// ENET_FLOOD_CLIENTS (1000), ENET_FLOOD_PROCESSES (2) and ENET_FLOOD_STAGGERS ("0,0.05", ms
/// between two connects of a process, one round each) resize it; the server has 16 slots more
/// than clients either way.
pub fn burst_joins(ctx: &Ctx) -> Outcome {
    burst_joins_with(ctx, &[])
}

/// `flood_burst_joins` with the server's host in background mode (`host:background(true)`,
/// issue 21): the handshake runs on its thread, under the same checks (every client that
/// joined has a peer on the server and is echoed).
pub fn burst_joins_background(ctx: &Ctx) -> Outcome {
    burst_joins_with(ctx, &[("ENET_BACKGROUND", "1".to_string())])
}

fn burst_joins_with(ctx: &Ctx, server_env: &[(&str, String)]) -> Outcome {
    let processes = sized("PROCESSES", 2usize);
    let clients = sized("CLIENTS", 1000usize) / processes * processes;
    let staggers = sized("STAGGERS", "0,0.05".to_string());
    let (mut problems, mut summary, mut outs) = (Vec::new(), Vec::new(), Vec::new());
    for stagger in staggers.split(',') {
        let stop = StopFile::new(ctx, "burst");
        let mut env = vec![("ENET_PEER_COUNT", (clients + 16).to_string())];
        env.extend(server_env.iter().cloned());
        let (server_proc, addr) = server(ctx, &stop, &env)?;
        let env = [("ENET_STAGGER", stagger.to_string())];
        let burst = burst(ctx, "burst", addr, processes, clients / processes, &env);
        let drops = socket_drops(addr.port());
        stop.signal();
        let out = server_proc.finish(Duration::from_secs(30), |_| {})?;
        let burst = burst?;
        let connects = connects_of(&out);
        let (unechoed, seen) = unechoed_on_server(&burst.silent, &out);
        bench_line(
            "flood_burst_joins",
            &[
                ("stagger_ms", stagger.to_string()),
                ("slots", (clients + 16).to_string()),
                ("processes", processes.to_string()),
                ("clients", burst.clients.to_string()),
                ("client_connects", burst.joined.to_string()),
                ("server_connects", connects.to_string()),
                ("sent", burst.sent.to_string()),
                ("echoed", burst.echoed.to_string()),
                ("clients_dropped", burst.dropped.to_string()),
                ("unechoed_clients", burst.silent.len().to_string()),
                ("unechoed_same_id", seen[0].to_string()),
                ("unechoed_other_id", seen[1].to_string()),
                ("unechoed_no_connect", seen[2].to_string()),
                ("last_join_ms", burst.per_process(1)),
                ("unjoined", burst.per_process(4)),
                ("unjoined_states", burst.per_process(5)),
                (
                    "server_socket_drops",
                    drops.map_or("-".into(), |d| d.to_string()),
                ),
            ],
            &out,
        );
        let round = format!("connects {stagger} ms apart");
        if !server_env.is_empty() && !out.contains("BACKGROUND running true passes") {
            problems.push(format!("{round}: the server's thread did not run"));
        }
        problems.extend(
            burst
                .problems(connects)
                .into_iter()
                .chain(unechoed)
                .map(|p| format!("{round}: {p}")),
        );
        summary.push(format!(
            "{round}: {}; {connects} server connect events; {}",
            burst.summary(),
            lines_with(&out, "STATS ")
        ));
        outs.push(format!("({round})\n{out}"));
    }
    let summary = format!("{} slots: {}", clients + 16, summary.join(" | "));
    verdict(problems, summary, &outs.join("\n"))
}

/// The datagrams the kernel dropped at the UDP socket bound to `port` (its receive buffer was
/// full), from /proc/net/udp (Linux; None elsewhere).
fn socket_drops(port: u16) -> Option<u64> {
    ["/proc/net/udp", "/proc/net/udp6"]
        .iter()
        .find_map(|table| {
            std::fs::read_to_string(table)
                .ok()?
                .lines()
                .skip(1)
                .find_map(|l| {
                    let w: Vec<&str> = l.split_whitespace().collect();
                    let local = u16::from_str_radix(w.get(1)?.rsplit(':').next()?, 16).ok()?;
                    (local == port).then(|| w.last()?.parse().ok())?
                })
        })
}

/// What the server saw of the burst's clients that lack echoes (their `SILENT <i> <sent>
/// <echoed> port <p> id <connect id> state <s>` lines): how many had a server connect event for
/// their port with their connect ID, with another one, and none; and, when any lack echoes,
/// one line naming the first 20 and the server's connect events for their ports.
fn unechoed_on_server(silent: &[String], server_out: &str) -> (Option<String>, [usize; 3]) {
    let mut seen = [0; 3];
    let mut detail = Vec::new();
    for line in silent {
        let w: Vec<&str> = line.split_whitespace().collect();
        let (port, id) = match w[..] {
            [_, _, _, "port", port, "id", id, ..] => (port, id),
            _ => continue,
        };
        // "EVENT connect <ms> <address> id <connect id> rtt <ms>"
        let events: Vec<String> = server_out
            .lines()
            .filter_map(|l| {
                let e: Vec<&str> = l.split_whitespace().collect();
                match e[..] {
                    ["EVENT", "connect", ms, address, "id", server_id, ..]
                        if address.rsplit(':').next() == Some(port) =>
                    {
                        Some(format!("id {server_id} at {ms} ms"))
                    }
                    _ => None,
                }
            })
            .collect();
        let same = events
            .iter()
            .any(|e| e.split_whitespace().nth(1) == Some(id));
        seen[if same {
            0
        } else if events.is_empty() {
            2
        } else {
            1
        }] += 1;
        if detail.len() < 20 {
            detail.push(format!(
                "[{line}: server {}]",
                if events.is_empty() {
                    "no connect event".to_string()
                } else {
                    events.join(", ")
                }
            ));
        }
    }
    let text = (!silent.is_empty()).then(|| {
        format!(
            "unechoed clients: {} with a server connect event for their port and connect ID, {} for their port with another ID, {} with none; {}",
            seen[0], seen[1], seen[2], detail.join(" ")
        )
    });
    (text, seen)
}

/// Found by the outside review of the first defence: "Under 20,000 forged CONNECTs/s, 30 clients joining at once: 11 of 30 told
/// `connect` with no server peer behind it." 30 honest clients, at 100 ms RTT (a relay with
/// 50 ms each way) and within 90 ms of each other (one every 3 ms), join the 64-peer server
/// during the flood case's flood and send a reliable message every 200 ms for 3 s: all join,
/// connect events match, every message is echoed. (On bare loopback, or with all 30 CONNECTs
/// in one batch, 162514b offered them distinct slots and passed: a client acknowledged before
/// the record cursor came round to its slot again; at 100 ms RTT 8-13 of 30 were phantoms.)
pub fn burst_under_flood(ctx: &Ctx) -> Outcome {
    let stop = StopFile::new(ctx, "burstflood");
    let (mut server_proc, addr) = server(ctx, &stop, &[])?;
    let relay = Relay::start(
        ctx.seed_for("burstflood"),
        Profile {
            delay_ms: 50,
            ..Profile::CLEAN
        },
    );
    relay.set_server(addr);
    let flood = Flood::start(addr, RATE, SOURCES, ctx.seed_for("burstflood"))?;
    wait_half_open(&mut server_proc, 16)?;
    let burst = burst(
        ctx,
        "burstflood",
        relay.addr,
        1,
        30,
        &[("ENET_STAGGER", "3".into())],
    );
    let report = flood.stop();
    stop.signal();
    let out = server_proc.finish(Duration::from_secs(30), |_| {})?;
    let burst = burst?;
    let mut problems = burst.problems(connects_of(&out));
    if report.rate() < RATE as f64 * 0.9 {
        problems.push(format!("the generator fell short: {}", report.summary()));
    }
    let summary = format!(
        "{}; {}; {} server connect events; {}",
        report.summary(),
        burst.summary(),
        connects_of(&out),
        lines_with(&out, "STATS ")
    );
    verdict(problems, summary, &out)
}

/// What a blind spoofer sends (docs/handshake.md, guessing), 84 bytes: a CONNECT (fresh connect ID) and four ACKs
/// of VERIFY_CONNECT with guessed echoes. The CONNECT gets a slot and the four wrong echoes
/// drop it, counted against the source IP address's budget of guesses.
pub fn spoof_datagram(rng: &mut Rng) -> Vec<u8> {
    let mut d = connect_datagram(
        rng.below(0x1000) as u16,
        rng.next() as u32,
        rng.next() as u16,
    );
    for _ in 0..4 {
        d.extend(wire::ack(0xFF, 1, rng.next() as u16));
    }
    d
}

/// tests/net/flood.lua's `joins` role: `count` joins of `server` one after another, each given
/// `limit_ms` to see its message echoed. Returns the joins made and the role's lines.
fn joins(
    ctx: &Ctx,
    name: &str,
    server: SocketAddr,
    count: usize,
    limit_ms: u64,
    extra: &[(&str, String)],
) -> Result<(usize, String), String> {
    let mut env = vec![
        ("ENET_ROLE", "joins".to_string()),
        ("ENET_NAME", name.to_string()),
        ("ENET_SERVER", server.to_string()),
        ("ENET_JOINS", count.to_string()),
        ("ENET_JOIN_LIMIT", limit_ms.to_string()),
    ];
    env.extend(extra.iter().cloned());
    let cmd = ctx.lua(ctx.interp, &ctx.module_dir, "flood.lua", &env);
    let timeout = Duration::from_millis(20_000 + count as u64 * (limit_ms + 2000));
    let out = LuaProcess::spawn_named(name, cmd)?.finish(timeout, |_| {})?;
    let joined = out.lines().filter(|l| l.starts_with("JOINED ")).count();
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("JOINED ") || l.starts_with("MISSED "))
        .collect();
    Ok((joined, lines.join("; ")))
}
/// Found by the outside review of the first defence: a blind spoofer locks an address out: "Four 84-byte datagrams every 0.5 s from the
/// victim's IP (any port), each a CONNECT plus four ACKs with wrong echoes (672 B/s), exhaust
/// that IP's wrong-echo budget again and again: the victim's client is refused after 15 s and
/// never joins while it lasts." The victim (our client, bound to 127.0.0.77) joins five times
/// over ~15 s while the spoofer sends those datagrams, four at once every 0.5 s from four
/// ports of its address, never reading an answer: each join within 2 s (no off-path attacker
/// may stop a client joining).
pub fn spoofed_victim(ctx: &Ctx) -> Outcome {
    let victim = Ipv4Addr::new(127, 0, 0, 77);
    let spoofer = |addr| {
        let from = Sources::Ports(victim, 4);
        Flood::start_batched(addr, 8, 4, from, ctx.seed_for("victim"), spoof_datagram)
    };
    let env = [
        ("ENET_BIND", format!("{victim}:*")),
        ("ENET_GAP", "1000".to_string()),
    ];
    joins_under(ctx, "victim", &[], spoofer, (5, 2000), &env)
}
/// Found by the outside review of the first defence: "The same datagrams at 20,000/s from random sources fill every budget bucket: 3 of
/// 10 clients joined." The spoof datagrams at 20,000/s, each from a fresh random address of
/// 127.16.0.0-127.255.255.255; ten honest clients (127.0.0.1) join one after another, 300 ms
/// apart, each within 2 s. (Each of the 4,096 buckets gets ~5 such datagrams a second and four
/// spend it, so 162514b let the clients in when they all joined before 127.0.0.1's bucket was
/// spent: about one run in four with one second of flood first and no gaps.)
pub fn guess_sources(ctx: &Ctx) -> Outcome {
    let flood = |addr| {
        let seed = ctx.seed_for("guesses-random");
        Flood::start_with(addr, RATE, Sources::Random, seed, spoof_datagram)
    };
    let env = [("ENET_GAP", "300".to_string())];
    joins_under(ctx, "guesses-random", &[], flood, (10, 2000), &env)
}

/// Found by the outside review of the first defence: toggling the defence off mid-handshake "reads the random echo as a time:
/// round-trip times of 37-63 s and a third of handshakes ignored until a retransmission". The
/// server (ENET_TOGGLE) flips `host:flood_defence` each time a new handshake shows, so that
/// every handshake has its CONNECT under one setting and its acknowledgement under the other
/// (on then off, off then on, alternately); its clients are behind a 20 ms relay, so that the
/// two never reach the server in one service call. Eight clients join one after another; then,
/// on a server that forged CONNECTs hold under pressure (a record, whose table the switch
/// empties), two more. Every client's message is echoed within 1 s of its connect, and the
/// server's `peer:round_trip_time()` of each is below 1000 ms at its connect event.
pub fn toggle_mid_handshake(ctx: &Ctx) -> Outcome {
    let relay = Relay::start(
        ctx.seed_for("toggle"),
        Profile {
            delay_ms: 20,
            ..Profile::CLEAN
        },
    );
    let (mut problems, mut summary, mut outs) = (Vec::new(), Vec::new(), Vec::new());
    for (phase, clients) in [("peers", 8), ("records", 2)] {
        let stop = StopFile::new(ctx, &format!("toggle-{phase}"));
        let (mut server_proc, addr) = if phase == "peers" {
            server(ctx, &stop, &[("ENET_TOGGLE", "0".into())])?
        } else {
            // The forged CONNECTs arrive (and are answered) before the switching starts.
            pressured_server(ctx, &stop, 8, 4, 110, &[("ENET_TOGGLE", "500".into())])?
        };
        // The clients come once the server switches.
        server_proc.wait_line("SWITCHING ", 2 * SYNC)?;
        relay.set_server(addr);
        let joined = joins(
            ctx,
            &format!("clients ({phase})"),
            relay.addr,
            clients,
            1000,
            &[("ENET_GAP", "100".to_string())],
        );
        stop.signal();
        let out = server_proc.finish(Duration::from_secs(20), |_| {})?;
        let (joined, lines) = joined?;
        expect(
            &mut problems,
            joined == clients,
            format!("{phase}: {joined} of {clients} clients joined within 1 s"),
        );
        let rtts: Vec<u64> = out
            .lines()
            .filter(|l| l.starts_with("EVENT connect"))
            .filter_map(|l| l.rsplit_once(" rtt ")?.1.trim().parse().ok())
            .collect();
        let slow: Vec<&u64> = rtts.iter().filter(|&&r| r >= 1000).collect();
        expect(
            &mut problems,
            slow.is_empty(),
            format!("{phase}: server-side round-trip times at connect of {slow:?} ms"),
        );
        let toggles = out.lines().filter(|l| l.starts_with("TOGGLE ")).count();
        summary.push(format!(
            "{phase}: {toggles} switches; {lines}; server RTTs at connect {rtts:?} ms; {}",
            lines_with(&out, "STATS ")
        ));
        outs.push(format!("({phase})\n{out}"));
    }
    verdict(problems, summary.join(" | "), &outs.join("\n"))
}

/// Found by the outside review of the first defence: "A one-slot host is locked for good by 5 forged CONNECTs a second (260 B/s from
/// random sources): 0 of 3 honest clients joined." Hosts of 1 to 4,095 slots stay joinable: a
/// one-slot server under forged CONNECTs (5 a second, and 1,000 a second for
/// flood_one_slot_1000) from the flood's 300 addresses; three honest clients one after the
/// other, each leaving after it joined, each join within 2 s.
pub fn one_slot_host(ctx: &Ctx) -> Outcome {
    one_slot(ctx, 5)
}

pub fn one_slot_1000(ctx: &Ctx) -> Outcome {
    one_slot(ctx, 1000)
}
fn one_slot(ctx: &Ctx, rate: u64) -> Outcome {
    let name = format!("oneslot{rate}");
    let flood = |addr| Flood::start(addr, rate, SOURCES, ctx.seed_for(&name));
    let server_env = [("ENET_PEER_COUNT", "1".to_string())];
    let client_env = [("ENET_GAP", "200".to_string())];
    joins_under(ctx, &name, &server_env, flood, (3, 2000), &client_env)
}

/// Attack review (branch `attack`), finding 1: one endpoint piles records into one hash chain.
/// Records stay in their (address, port) chain until the ring recycles their place, ended or
/// not, and every datagram from that endpoint to a slot that is not its peer's walks the chain
/// (enet_protocol_find_connect_record), every CONNECT three times (by connect ID, the endpoint's
/// labels, the late sessions). A record ends at once when its client sends a DISCONNECT (ended
/// quietly, "the client left") and its label is then free for the next CONNECT. So, on a
/// one-slot host that another source's CONNECT holds as an unverified peer, one endpoint that
/// sends a CONNECT (peer id 0xFFF, so its session is never checked; a fresh connect ID each)
/// and then a DISCONNECT to slot 0, blind, adds one record to its chain per two datagrams, up to
/// the whole table (32,768). Measured on loopback (vendored C, 1 slot): a datagram from a fresh
/// endpoint costs the server ~1 us, one from the piled endpoint ~215 us, a CONNECT from it
/// ~760 us; so a few thousand datagrams a second from one endpoint saturate the host. This
/// case: 20,000 datagrams/s (the flood cases' rate) from one endpoint (127.0.0.62), plus 20
/// CONNECTs/s from a holder (127.0.0.61); three honest clients then join one after another,
/// each within 2 s, as on flood_one_slot_1000. Fails now: 0 of 3 join (the server answers ~2,800
/// of the 10,000 CONNECTs a second: it cannot read the rest). Control: the same datagrams with a PING in place of the DISCONNECT
/// (the record is heard, not ended, so nothing piles up): all three join at once.
pub fn record_chain(ctx: &Ctx) -> Outcome {
    let mut holder: Option<Flood> = None;
    let attack = |addr| {
        let mut n = 0u32;
        holder = Some(Flood::start_with(
            addr,
            20,
            Sources::Ports(Ipv4Addr::new(127, 0, 0, 61), 1),
            ctx.seed_for("chain-holder"),
            move |_| {
                n += 1;
                connect_datagram(0, 0x6100_0000 + n, 1)
            },
        )?);
        // The holder's first CONNECT sent and read: it holds the slot.
        if let Some(h) = &holder {
            h.wait_sent(0)?;
        }
        barrier(addr)?;
        let mut k = 0u32;
        Flood::start_with(
            addr,
            RATE,
            Sources::Ports(Ipv4Addr::new(127, 0, 0, 62), 1),
            ctx.seed_for("chain"),
            move |_| {
                k += 1;
                if k % 2 == 1 {
                    connect_datagram(0, 0x6200_0000 + k, 1)
                } else {
                    // "the client left": a DISCONNECT to the offered slot (0) ends the record
                    // (blind: the session is one of four)
                    let mut d = wire::header(0, (k / 2 % 4) as u8, 0, None);
                    d.extend(wire::command(
                        wire::DISCONNECT | wire::FLAG_UNSEQUENCED,
                        0xFF,
                        0,
                    ));
                    wire::u32s(&mut d, 0);
                    d
                }
            },
        )
    };
    let server_env = [("ENET_PEER_COUNT", "1".to_string())];
    let client_env = [("ENET_GAP", "200".to_string())];
    let outcome = joins_under(ctx, "chain", &server_env, attack, (3, 2000), &client_env);
    if let Some(h) = holder {
        h.stop();
    }
    outcome
}

/// Attack review, finding 3: the claim's corner (docs/handshake.md guarantee 2), 50,000 forged
/// CONNECTs/s (the flood generator's: 300 forging endpoints, fresh connect IDs, random client
/// peer ids) on a host of 4,095 slots; three honest clients join one after another, each within
/// 2 s. Fails now: 1 of 3 join; the server answers ~12,000 CONNECTs/s and cannot read the rest.
/// Each CONNECT passes over all 4,095 slots (measured in C on this 2-core machine: 11-23 us a
/// CONNECT from fresh endpoints; 30-45 us from endpoints that already hold handshakes, whose
/// labels cost two or three passes more plus three walks of their record chain). With
/// fresh-endpoint sources (Sources::Random) it fails too: 0 of 3, ~20,000 answered a second.
pub fn slots_4095_50k(ctx: &Ctx) -> Outcome {
    let flood = |addr| Flood::start(addr, 50_000, SOURCES, ctx.seed_for("4095-50k"));
    let server_env = [("ENET_PEER_COUNT", "4095".to_string())];
    let client_env = [("ENET_GAP", "200".to_string())];
    joins_under(ctx, "4095-50k", &server_env, flood, (3, 2000), &client_env)
}

/// The same on a host of one slot (holds: 3 of 3 join at once; the 300 endpoints hold their
/// one label each, and their other CONNECTs cost ~1 us).
pub fn one_slot_50k(ctx: &Ctx) -> Outcome {
    one_slot(ctx, 50_000)
}

/// A case of honest joins under attack: a server of flood.lua (`server_env` added) to which
/// `attack` has sent two seconds of its datagrams ([`Flood::wait_sent`]); then `joins.0` joins one after another (the `joins`
/// role, `client_env` added), each of which must see its message echoed within `joins.1` ms.
/// The generator must keep 90% of its rate, and the attack may cost the server at most one
/// core of CPU time at that rate ([`flood_cost`]: the cost claims of the cases' docs, bounded
/// in CPU time, which a loaded machine does not inflate). ENET_FLOOD_JOINS and ENET_FLOOD_JOIN_LIMIT (ms)
/// replace `joins`; the BENCH line has each join's time to its connect event and to its echo
/// (ms, `connect_ms`, `echo_ms`), the refused ones' time to their disconnect event
/// (`refused_ms`) and how many saw neither within the limit (`unanswered`).
pub(crate) fn joins_under(
    ctx: &Ctx,
    name: &str,
    server_env: &[(&str, String)],
    attack: impl FnOnce(SocketAddr) -> Result<Flood, String>,
    (count, limit_ms): (usize, u64),
    client_env: &[(&str, String)],
) -> Outcome {
    let (count, limit_ms) = (sized("JOINS", count), sized("JOIN_LIMIT", limit_ms));
    let stop = StopFile::new(ctx, name);
    // The server waits for its stop signal as long as the joins may take (a minute spare).
    let lifetime = (60_000 + count as u64 * (limit_ms + 2000)).max(120_000);
    let mut server_env = server_env.to_vec();
    server_env.push(("ENET_LIFETIME_MS", lifetime.to_string()));
    let (server_proc, addr) = server(ctx, &stop, &server_env)?;
    let flood = attack(addr)?;
    // Two seconds of the attack's datagrams sent before the first join.
    flood.wait_sent(2)?;
    let joined = joins(ctx, name, addr, count, limit_ms, client_env);
    let report = flood.stop();
    let dropped = socket_drops(addr.port());
    stop.signal();
    // The server runs from before the attack to after the last join.
    let out = server_proc.finish(Duration::from_millis(lifetime + 30_000), |_| {})?;
    let (joined, lines) = joined?;
    bench_line(
        name,
        &[
            ("joins", count.to_string()),
            ("joined", joined.to_string()),
            ("limit_ms", limit_ms.to_string()),
        ]
        .into_iter()
        .chain(join_times(&lines))
        .chain([
            ("attack_datagrams", report.sent.to_string()),
            ("attack_rate", format!("{:.0}", report.rate())),
        ])
        .collect::<Vec<_>>(),
        &out,
    );
    let mut problems = Vec::new();
    expect(
        &mut problems,
        joined == count,
        format!("{joined} of {count} joins within {limit_ms} ms each (the message echoed)"),
    );
    if report.rate() < report.target as f64 * 0.9 {
        problems.push(format!("the generator fell short: {}", report.summary()));
    }
    let cost = flood_cost(&report, &out, dropped).unwrap_or_else(|e| {
        problems.push(e.clone());
        e
    });
    let summary = format!(
        "{}; joins: {lines}; {}; {cost}",
        report.summary(),
        lines_with(&out, "STATS ")
    );
    verdict(problems, summary, &out)
}

/// The `joins` role's lines ("JOINED <i> <connect ms> <echo ms>; MISSED <i> <why>; ...") as
/// BENCH fields: connect_ms, echo_ms, refused_ms, unechoed_ms (connected, no echo within the
/// limit: the time to the connect event) as comma-separated lists ("-" for none), and
/// unanswered (no event within the limit).
fn join_times(lines: &str) -> Vec<(&'static str, String)> {
    let (mut connect, mut echo, mut refused, mut unechoed, mut unanswered) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), 0);
    for l in lines.split("; ") {
        let w: Vec<&str> = l.split_whitespace().collect();
        match w[..] {
            ["JOINED", _, c, e, ..] => {
                connect.push(c.to_string());
                echo.push(e.to_string());
            }
            ["MISSED", _, "disconnect", "event", "after", ms, ..] => refused.push(ms.to_string()),
            ["MISSED", _, "connect", "event", "after", ms, ..] => unechoed.push(ms.to_string()),
            ["MISSED", ..] => unanswered += 1,
            _ => {}
        }
    }
    let list = |v: Vec<String>| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.join(",")
        }
    };
    vec![
        ("connect_ms", list(connect)),
        ("echo_ms", list(echo)),
        ("refused_ms", list(refused)),
        ("unechoed_ms", list(unechoed)),
        ("unanswered", unanswered.to_string()),
    ]
}

/// Set in the environment of this test binary when it runs again inside the network namespace
/// of flood_ipv6_prefix.
const PREFIX_NETNS: &str = "ENET_FLOOD_PREFIX_NETNS";
/// Client addresses of the test /64 (2001:db8:1::/64, a documentation prefix), in that
/// namespace only.
const PREFIX_CLIENTS: usize = 12;

fn prefix_address(n: usize) -> String {
    format!("2001:db8:1::a:{n}")
}

/// Found by the outside review of the first defence: one IPv6 /64 counted as 2^64 addresses: "`duplicate_peers(1)` let 12 peers in from
/// 12 addresses of one /64 (1 from an IPv4 address); 12 clients of one /64 made a host hold
/// 224 MiB of claimed fragments (one IPv4 address: 32 MiB)". A /64 is what one subscriber
/// gets, so it is one address for every per-address rule. In a network namespace of its own
/// (`unshare -n`, 12 addresses of 2001:db8:1::/64 on its loopback; this test binary runs again
/// inside it), a server on [::1]: (a) with `host:duplicate_peers(1)`, 12 clients (ours, in one
/// process) from 12 addresses of the /64 join at once: the server raises at most one `connect`
/// event (and at least one); (b) held.rs's address share (held_many_peers) with one raw peer
/// from each of the 12 addresses: the host holds at most one address's 8 MiB share plus each
/// peer's reserve. Without a namespace the case fails under CI and is skipped elsewhere.
pub fn ipv6_prefix(ctx: &Ctx) -> Outcome {
    if std::env::var_os(PREFIX_NETNS).is_none() {
        return in_prefix_namespace(ctx);
    }
    let stop = StopFile::new(ctx, "prefix");
    let (server_proc, addr) = server(
        ctx,
        &stop,
        &[
            ("ENET_BIND", "[::1]:*".into()),
            ("ENET_DUPLICATE_PEERS", "1".into()),
        ],
    )?;
    let env = [
        (
            "ENET_BIND_FORMAT",
            format!("[{}]:*", prefix_address(0)).replace(":0]", ":%d]"),
        ),
        ("ENET_SEND_MS", "1500".to_string()),
        ("ENET_SETTLE_MS", "500".to_string()),
    ];
    let burst = burst(ctx, "prefix", addr, 1, PREFIX_CLIENTS, &env);
    stop.signal();
    let out = server_proc.finish(Duration::from_secs(20), |_| {})?;
    let burst = burst?;
    let connects = connects_of(&out);
    let mut problems = Vec::new();
    expect(
        &mut problems,
        connects == 1,
        format!(
            "duplicate_peers(1): {connects} peers connected from {PREFIX_CLIENTS} addresses of one /64"
        ),
    );
    let sources: Vec<std::net::IpAddr> = (1..=PREFIX_CLIENTS)
        .map(|n| prefix_address(n).parse().expect("an IPv6 address"))
        .collect();
    let held = crate::held::address_share(
        ctx,
        "flood_ipv6_prefix_held",
        &sources,
        512,
        &[("ENET_BIND", "[::1]:0".to_string())],
    );
    if let Err(e) = &held {
        problems.push(format!("{PREFIX_CLIENTS} peers of one /64: {e}"));
    }
    let summary = format!(
        "duplicate_peers(1), {PREFIX_CLIENTS} clients of one /64: {connects} server connect events ({}); held: {}",
        burst.summary(),
        held.unwrap_or_else(|e| e.lines().next().unwrap_or("").to_string())
    );
    verdict(problems, summary, &out)
}

/// Runs this test binary again, for flood_ipv6_prefix only, inside a fresh network namespace
/// whose loopback has the /64's client addresses, and returns that run's outcome.
fn in_prefix_namespace(ctx: &Ctx) -> Outcome {
    let mut setup = "ip link set lo up".to_string();
    for n in 1..=PREFIX_CLIENTS {
        setup += &format!(" && ip -6 addr add {}/128 dev lo nodad", prefix_address(n));
    }
    let probe = Process::new("unshare")
        .args(["-n", "sh", "-c", &setup])
        .output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        let why = format!(
            "`unshare -n` with addresses of 2001:db8:1::/64 on lo is not available here (root and iproute2 needed): {}",
            probe.map_or_else(|e| e.to_string(), |o| String::from_utf8_lossy(&o.stderr).into())
        );
        return if ctx.ci {
            Err(why)
        } else {
            Ok(format!("SKIPPED: {why}"))
        };
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Process::new("unshare")
        .args(["-n", "sh", "-c", &format!("{setup} && exec \"$0\" \"$@\"")])
        .arg(&exe)
        .arg("flood_ipv6_prefix")
        .env(PREFIX_NETNS, "1")
        .env("ENET_NET_SEED", ctx.seed.to_string())
        .output()
        .map_err(|e| format!("unshare: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let result = text
        .lines()
        .find_map(|l| l.strip_prefix("test flood_ipv6_prefix ... "));
    match result {
        Some(r) if r.starts_with("ok") && out.status.success() => Ok(format!(
            "in its own network namespace: {}",
            r.split_once(") ").map_or(r, |(_, s)| s)
        )),
        // Without the inner run's summary lines, which tests/run-all would count again.
        _ => Err(format!(
            "inside its network namespace:\n{}",
            text.lines()
                .filter(|l| !l.starts_with("test result:") && !l.starts_with("failure:"))
                .collect::<Vec<_>>()
                .join("\n")
        )),
    }
}

/// A case's outcome: its summary, or what went wrong followed by the summary and the server's
/// output.
fn verdict(problems: Vec<String>, summary: String, out: &str) -> Outcome {
    if problems.is_empty() {
        Ok(summary)
    } else {
        Err(format!(
            "{}\n{summary}\nserver:\n{out}",
            problems.join("\n")
        ))
    }
}

/// Connected peers under attack (attack review 2): a server of flood.lua (`server_env` added)
/// with 4 echoers joined, then `attack` for 3 s while the echoers time their echoes; their 99th
/// percentile must stay within `p99_ms` and none may be dropped.
pub(crate) fn echo_under(
    ctx: &Ctx,
    name: &str,
    server_env: &[(&str, String)],
    attack: impl FnOnce(SocketAddr) -> Result<Flood, String>,
    p99_ms: u64,
) -> Outcome {
    let stop = StopFile::new(ctx, name);
    let (server_proc, addr) = server(ctx, &stop, server_env)?;
    let echoers = spawn_echoers(ctx, addr, &stop)?;
    let flood = attack(addr)?;
    std::thread::sleep(Duration::from_millis(3000));
    let report = flood.stop();
    stop.signal();
    let echo_out = echoers.finish(Duration::from_secs(30), |_| {});
    let out = server_proc.finish(Duration::from_secs(60), |_| {})?;
    let echo_out = echo_out?;
    let mut problems = Vec::new();
    let p99 = echo_out
        .lines()
        .find_map(|l| {
            l.strip_prefix("LATENCY ")?
                .split_whitespace()
                .nth(1)?
                .parse::<u64>()
                .ok()
        })
        .ok_or_else(|| format!("the echoers printed no LATENCY line:\n{echo_out}"))?;
    expect(
        &mut problems,
        p99 <= p99_ms,
        format!("echo p99 {p99} ms (at most {p99_ms})"),
    );
    if report.rate() < report.target as f64 * 0.9 {
        problems.push(format!("the generator fell short: {}", report.summary()));
    }
    let summary = format!(
        "{}; {}; {}; {}",
        report.summary(),
        lines_with(&echo_out, "COUNT "),
        lines_with(&out, "COUNT "),
        lines_with(&out, "STATS ")
    );
    verdict(problems, summary, &out)
}
