//! A seeded, impairing UDP relay on loopback (127.0.0.1, or ::1 for the IPv6 cases): clients
//! send to `Relay::addr`, each client gets
//! its own upstream socket towards the server (so the server sees one address per client, as
//! behind a NAT), and every datagram in either direction can be dropped, duplicated, delayed
//! with jitter and reordered. It can also go silent, record what clients send, and inject
//! datagrams from a client's address.
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// xorshift64*: small, seeded, good enough to pick what to break.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // Never zero (a zero state stays zero); spread nearby seeds apart.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p && p > 0.0
    }
    pub fn byte(&mut self) -> u8 {
        self.next() as u8
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }
}

/// How the relay mistreats datagrams (each direction independently).
#[derive(Clone, Copy, Debug)]
pub struct Profile {
    /// Probability that a datagram is dropped.
    pub loss: f64,
    /// Probability that a datagram is sent twice (each copy delayed on its own).
    pub dup: f64,
    /// Probability that a datagram is held back an extra `delay + jitter`, behind later ones.
    pub reorder: f64,
    /// Base one-way delay.
    pub delay_ms: u64,
    /// The delay varies uniformly by up to this much either side of `delay_ms`.
    pub jitter_ms: u64,
}

impl Profile {
    pub const CLEAN: Profile = Profile {
        loss: 0.0,
        dup: 0.0,
        reorder: 0.0,
        delay_ms: 0,
        jitter_ms: 0,
    };
}

#[derive(Default)]
pub struct Stats {
    pub forwarded: AtomicU64,
    pub dropped: AtomicU64,
    pub duplicated: AtomicU64,
    pub reordered: AtomicU64,
    pub silenced: AtomicU64,
    pub injected: AtomicU64,
}

impl Stats {
    pub fn summary(&self) -> String {
        format!(
            "relay forwarded {}, dropped {}, duplicated {}, reordered {}, silenced {}",
            self.forwarded.load(Relaxed),
            self.dropped.load(Relaxed),
            self.duplicated.load(Relaxed),
            self.reordered.load(Relaxed),
            self.silenced.load(Relaxed),
        )
    }
}

/// Where command acknowledgements go: a fresh directory per Lua process (ENET_ACK_DIR).
pub struct Acks {
    pub dir: std::path::PathBuf,
    count: u32,
}

impl Acks {
    pub fn new(dir: std::path::PathBuf) -> Acks {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("ack directory");
        Acks { dir, count: 0 }
    }
}

impl Drop for Acks {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Which way an injected datagram goes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// From the first client's upstream socket to the server (the server sees the client).
    ToServer,
    /// From the relay's front socket to the first client (the client sees the server).
    ToClient,
}

/// Datagrams recorded: (client to server, server to client).
type Captured = (Vec<Vec<u8>>, Vec<Vec<u8>>);

struct Shared {
    server: Mutex<Option<SocketAddr>>,
    silent: AtomicBool,
    /// False until the Lua side says `RELAY impair`: datagrams pass clean until then.
    impair: AtomicBool,
    stop: AtomicBool,
    /// Datagrams clients sent (then the server), the first `capture_limit` of each direction.
    captured: Mutex<Captured>,
    inject: Mutex<Vec<(Dir, Vec<u8>)>>,
    stats: Stats,
}

pub struct Relay {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

const CAPTURE_LIMIT: usize = 512;

struct Scheduled {
    due: Instant,
    order: u64,
    dir: Dir,
    client: usize,
    data: Vec<u8>,
}

impl PartialEq for Scheduled {
    fn eq(&self, o: &Self) -> bool {
        (self.due, self.order) == (o.due, o.order)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.due, self.order).cmp(&(o.due, o.order))
    }
}

impl Relay {
    pub fn start(seed: u64, profile: Profile) -> Relay {
        Relay::spawn(Ipv4Addr::LOCALHOST.into(), seed, profile, true)
    }

    /// A clean-started relay on `loopback` (`::1` for the IPv6 cases): its front socket and
    /// every upstream socket towards the server are of that family.
    pub fn start_on(loopback: IpAddr, seed: u64, profile: Profile) -> Relay {
        Relay::spawn(loopback, seed, profile, true)
    }

    /// A relay that forwards cleanly until the Lua side prints `RELAY impair` (a handshake at
    /// 30% loss can take ENet's connect backoff tens of seconds, which is not what we test).
    pub fn start_deferred(seed: u64, profile: Profile) -> Relay {
        Relay::spawn(Ipv4Addr::LOCALHOST.into(), seed, profile, false)
    }

    fn spawn(loopback: IpAddr, seed: u64, profile: Profile, impair: bool) -> Relay {
        let front = UdpSocket::bind((loopback, 0)).expect("relay socket");
        front.set_nonblocking(true).unwrap();
        let addr = front.local_addr().unwrap();
        let shared = Arc::new(Shared {
            server: Mutex::new(None),
            silent: AtomicBool::new(false),
            impair: AtomicBool::new(impair),
            stop: AtomicBool::new(false),
            captured: Mutex::new((Vec::new(), Vec::new())),
            inject: Mutex::new(Vec::new()),
            stats: Stats::default(),
        });
        let s = Arc::clone(&shared);
        let thread = std::thread::spawn(move || run(front, s, Rng::new(seed), profile, loopback));
        Relay {
            addr,
            shared,
            thread: Some(thread),
        }
    }

    /// Acts on a `RELAY ...` line and acknowledges it in `acks` (see tests/net/lib/netlib.lua).
    pub fn command_acked(&self, line: &str, acks: &mut Acks) {
        self.command(line);
        acks.count += 1;
        std::fs::write(acks.dir.join(format!("ack-{}", acks.count)), b"ok").expect("ack file");
    }

    pub fn set_server(&self, server: SocketAddr) {
        *self.shared.server.lock().unwrap() = Some(server);
    }

    /// From now on every datagram in both directions is dropped (or, with false, forwarded).
    pub fn set_silent(&self, silent: bool) {
        self.shared.silent.store(silent, Relaxed);
    }

    /// Acts on a `RELAY ...` line printed by the Lua side.
    pub fn command(&self, line: &str) {
        let mut words = line.split_whitespace().skip(1);
        match (words.next(), words.next()) {
            (Some("server"), Some(addr)) => self.set_server(addr.parse().expect("server address")),
            (Some("silent"), _) => self.set_silent(true),
            (Some("loud"), _) => self.set_silent(false),
            (Some("impair"), _) => self.shared.impair.store(true, Relaxed),
            _ => panic!("unknown relay command {line:?}"),
        }
    }

    pub fn inject(&self, dir: Dir, data: Vec<u8>) {
        self.shared.inject.lock().unwrap().push((dir, data));
    }

    /// The datagrams recorded so far: (client to server, server to client).
    pub fn captured(&self) -> Captured {
        self.shared.captured.lock().unwrap().clone()
    }

    pub fn stats(&self) -> &Stats {
        &self.shared.stats
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.shared.stop.store(true, Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(front: UdpSocket, shared: Arc<Shared>, mut rng: Rng, profile: Profile, loopback: IpAddr) {
    let mut clients: Vec<(SocketAddr, UdpSocket)> = Vec::new();
    let mut queue: BinaryHeap<Reverse<Scheduled>> = BinaryHeap::new();
    let mut order = 0u64;
    let mut buf = vec![0u8; 65536];
    let stats = &shared.stats;
    while !shared.stop.load(Relaxed) {
        let mut busy = false;
        let now = Instant::now();
        let mut incoming = Vec::new();
        while let Ok((n, from)) = front.recv_from(&mut buf) {
            let idx = match clients.iter().position(|c| c.0 == from) {
                Some(i) => i,
                None => {
                    let up = UdpSocket::bind((loopback, 0)).expect("upstream socket");
                    up.set_nonblocking(true).unwrap();
                    clients.push((from, up));
                    clients.len() - 1
                }
            };
            incoming.push((Dir::ToServer, idx, buf[..n].to_vec()));
        }
        for (idx, (_, up)) in clients.iter().enumerate() {
            while let Ok((n, _)) = up.recv_from(&mut buf) {
                incoming.push((Dir::ToClient, idx, buf[..n].to_vec()));
            }
        }
        for (dir, client, data) in incoming {
            busy = true;
            {
                let mut cap = shared.captured.lock().unwrap();
                let list = if dir == Dir::ToServer {
                    &mut cap.0
                } else {
                    &mut cap.1
                };
                if list.len() < CAPTURE_LIMIT {
                    list.push(data.clone());
                }
            }
            if shared.silent.load(Relaxed) {
                stats.silenced.fetch_add(1, Relaxed);
                continue;
            }
            let profile = if shared.impair.load(Relaxed) {
                profile
            } else {
                Profile::CLEAN
            };
            if rng.chance(profile.loss) {
                stats.dropped.fetch_add(1, Relaxed);
                continue;
            }
            let copies = if rng.chance(profile.dup) {
                stats.duplicated.fetch_add(1, Relaxed);
                2
            } else {
                1
            };
            for _ in 0..copies {
                let spread = rng.below(2 * profile.jitter_ms + 1);
                let mut delay = (profile.delay_ms + spread).saturating_sub(profile.jitter_ms);
                if rng.chance(profile.reorder) {
                    stats.reordered.fetch_add(1, Relaxed);
                    delay += profile.delay_ms + profile.jitter_ms + 5;
                }
                order += 1;
                queue.push(Reverse(Scheduled {
                    due: now + Duration::from_millis(delay),
                    order,
                    dir,
                    client,
                    data: data.clone(),
                }));
            }
        }
        let server = *shared.server.lock().unwrap();
        // Until the Lua side has said where the server is, datagrams for it wait in the queue.
        let mut held = Vec::new();
        while let Some(Reverse(top)) = queue.peek() {
            if top.due > Instant::now() {
                break;
            }
            let Reverse(item) = queue.pop().unwrap();
            busy = true;
            match (item.dir, server) {
                (Dir::ToServer, Some(server)) => {
                    let _ = clients[item.client].1.send_to(&item.data, server);
                }
                (Dir::ToServer, None) => {
                    held.push(item);
                    continue;
                }
                (Dir::ToClient, _) => {
                    let _ = front.send_to(&item.data, clients[item.client].0);
                }
            }
            stats.forwarded.fetch_add(1, Relaxed);
        }
        for mut item in held {
            item.due = Instant::now() + Duration::from_millis(2);
            queue.push(Reverse(item));
        }
        let injections: Vec<_> = std::mem::take(&mut *shared.inject.lock().unwrap());
        for (dir, data) in injections {
            let Some((client, up)) = clients.first() else {
                continue;
            };
            busy = true;
            let sent = match (dir, server) {
                (Dir::ToServer, Some(server)) => up.send_to(&data, server),
                (Dir::ToClient, _) => front.send_to(&data, client),
                _ => continue,
            };
            if sent.is_ok() {
                stats.injected.fetch_add(1, Relaxed);
            }
        }
        if !busy {
            std::thread::sleep(Duration::from_micros(300));
        }
    }
}
