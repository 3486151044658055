//! Proves the module on a hostile network, all on loopback (127.0.0.1, and ::1 for the ipv6_*
//! cases): Lua scripts from tests/net run in the real interpreter of the flavour under test,
//! behind a seeded impairing relay, under a stream of forged and random datagrams, in long soaks,
//! against processes of another Lua flavour and stock ENet peers (the system's libenet, LÖVE's
//! bundled enet), with the IPv4 fallback forced by an LD_PRELOAD shim, and (the receive-path
//! fuzz) under valgrind.
//!
//! `cargo test --features lua54 --test network [filter...]`. The heavy cases run on lua54 and
//! luajit (LÖVE's), each taking one half of them, picked by the run's seed (tests/run-all gives
//! both the same seed, so every case runs once a run), and on lua55 (where Debian has no
//! LuaSocket, so they are its strangers' datagrams) a third, so that CI stays within its 30
//! minutes (every case ran on each of the three in 110-140 s of CI's 34-minute run of b5e9e5b;
//! the cases differ between flavours only in the interpreter of their Lua side, and the halves
//! change from run to run); `interop` runs on every flavour. ENET_NET_ALL=1 runs every case on
//! any flavour. ENET_NET_SEED=<n> replays a seed (and a lua55 sample); the seed is printed
//! at the start and with every failure.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
#[path = "network/flood.rs"]
mod flood;
#[path = "network/flood_attack2.rs"]
mod flood_attack2;
#[path = "network/held.rs"]
mod held;
#[path = "network/hostile.rs"]
mod hostile;
#[path = "network/relay.rs"]
mod relay;
#[path = "network/stock.rs"]
mod stock;
#[path = "network/wire.rs"]
mod wire;

use common::{lines_with, LuaProcess};
use relay::{Acks, Profile, Relay};

pub struct Ctx {
    pub root: PathBuf,
    pub module_dir: PathBuf,
    pub flavour: &'static str,
    pub interp: &'static str,
    pub seed: u64,
    pub ci: bool,
}

type Outcome = Result<String, String>;

impl Ctx {
    /// A seed for one case: the run's seed mixed with the case name, so cases are independent.
    pub fn seed_for(&self, name: &str) -> u64 {
        name.bytes()
            .fold(self.seed ^ 0xCBF2_9CE4_8422_2325, |h, b| {
                (h ^ b as u64).wrapping_mul(0x100_0000_01B3)
            })
    }

    /// The command that runs tests/net/<script> in `interp` with the staged module of
    /// `module_dir`.
    pub fn lua(
        &self,
        interp: &str,
        module_dir: &Path,
        script: &str,
        env: &[(&str, String)],
    ) -> Command {
        let script = self.root.join("tests/net").join(script);
        let mut cmd = common::lua_command(interp, &script, module_dir, &self.root);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    /// The Lua host (interpreter and module directory) named by the environment variable
    /// `var` as "<interpreter> <module dir>" (the benchmarks' way of pointing a case at another
    /// binding), or the flavour under test.
    pub fn host_from_env(&self, var: &str) -> Result<(String, PathBuf), String> {
        match std::env::var(var) {
            Ok(v) => match v.split_once(' ') {
                Some((i, d)) => Ok((i.to_string(), PathBuf::from(d))),
                None => Err(format!("{var}={v:?}: <interpreter> <module dir>")),
            },
            Err(_) => Ok((self.interp.to_string(), self.module_dir.clone())),
        }
    }

    /// A fresh directory for the relay's acknowledgements to one Lua process.
    pub fn acks(&self, name: &str) -> Acks {
        Acks::new(
            self.module_dir
                .join(format!("acks-{name}-{}", std::process::id())),
        )
    }

    /// Runs a script to its end; `RELAY ...` lines go to `relay`. Ok(output) when its tests
    /// passed.
    pub fn run_script(
        &self,
        script: &str,
        env: &[(&str, String)],
        relay: Option<&Relay>,
        timeout: Duration,
    ) -> Outcome {
        let mut acks = self.acks(script);
        let mut cmd = self.lua(self.interp, &self.module_dir, script, env);
        cmd.env("ENET_ACK_DIR", &acks.dir);
        LuaProcess::spawn(cmd)?.finish(timeout, |line| {
            if let (Some(r), true) = (relay, line.starts_with("RELAY ")) {
                r.command_acked(line, &mut acks);
            }
        })
    }
}

/// A script behind a relay with `profile`; returns its COUNT lines and the relay's counts.
fn behind_relay(ctx: &Ctx, name: &str, scenario: &str, messages: u32, profile: Profile) -> Outcome {
    let seed = ctx.seed_for(name);
    let relay = Relay::start_deferred(seed, profile);
    let env = [
        ("ENET_RELAY", relay.addr.to_string()),
        ("ENET_SCENARIO", scenario.to_string()),
        ("ENET_MESSAGES", messages.to_string()),
        ("ENET_SEED", (seed % 1_000_000_007).to_string()),
    ];
    let out = ctx.run_script("impaired.lua", &env, Some(&relay), Duration::from_secs(90))?;
    Ok(format!(
        "{}; {}; profile {profile:?}",
        lines_with(&out, "COUNT "),
        relay.stats().summary()
    ))
}

fn impaired_reliable(ctx: &Ctx) -> Outcome {
    let profile = Profile {
        loss: 0.10,
        dup: 0.05,
        reorder: 0.05,
        delay_ms: 20,
        jitter_ms: 15,
    };
    behind_relay(ctx, "impaired_reliable", "reliable", 150, profile)
}

fn impaired_worst(ctx: &Ctx) -> Outcome {
    let profile = Profile {
        loss: 0.30,
        dup: 0.10,
        reorder: 0.10,
        delay_ms: 50,
        jitter_ms: 50,
    };
    behind_relay(ctx, "impaired_worst", "reliable", 25, profile)
}

fn impaired_fragments(ctx: &Ctx) -> Outcome {
    let profile = Profile {
        loss: 0.05,
        dup: 0.10,
        reorder: 0.20,
        delay_ms: 30,
        jitter_ms: 30,
    };
    behind_relay(ctx, "impaired_fragments", "fragments", 16, profile)
}

fn impaired_timeout(ctx: &Ctx) -> Outcome {
    let profile = Profile {
        delay_ms: 5,
        jitter_ms: 2,
        ..Profile::CLEAN
    };
    behind_relay(ctx, "impaired_timeout", "timeout", 0, profile)
}

fn soak(ctx: &Ctx) -> Outcome {
    let out = ctx.run_script(
        "soak.lua",
        &[(
            "ENET_SEED",
            (ctx.seed_for("soak") % 1_000_000_007).to_string(),
        )],
        None,
        Duration::from_secs(120),
    )?;
    Ok(lines_with(&out, "COUNT "))
}

/// The module built for another flavour, in its own target dir under ours (built once; cargo
/// makes later runs no-ops).
fn module_for(ctx: &Ctx, other: &str) -> Result<PathBuf, String> {
    let target = common::target_dir(&ctx.root).join(format!("interop-{other}"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--lib", "--features", other, "--target-dir"])
        .arg(&target)
        .env_remove("CARGO_TARGET_DIR")
        .current_dir(&ctx.root)
        .output()
        .map_err(|e| format!("cargo build for {other}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo build --features {other} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let built = common::find_cdylib(&target.join("debug"))
        .ok_or_else(|| format!("no cdylib in {}", target.display()))?;
    Ok(common::stage_file(
        &built,
        &common::target_dir(&ctx.root)
            .join("net-tests")
            .join(format!("interop-{other}")),
    ))
}

/// A server on one flavour and a client on another, then the other way round.
fn interop(ctx: &Ctx) -> Outcome {
    let other = match ctx.flavour {
        "luajit" | "lua55" => "lua54",
        _ => "lua51",
    };
    let other_interp = common::interpreter_of(other);
    if !common::have(other_interp) {
        return if ctx.ci {
            Err(format!("{other_interp} not found"))
        } else {
            Ok(format!("SKIPPED: {other_interp} not found"))
        };
    }
    let other_dir = module_for(ctx, other)?;
    let ours = (ctx.interp, ctx.module_dir.clone());
    let theirs = (other_interp, other_dir);
    let mut counts = Vec::new();
    let mut pairs = vec![(&theirs, &ours), (&ours, &theirs)];
    // LuaJIT inside LÖVE, as a client of the other flavour's server process.
    let in_love = ("love", ctx.module_dir.clone());
    if ctx.flavour == "luajit" {
        if common::have("love") {
            pairs.push((&theirs, &in_love));
        } else if ctx.ci {
            return Err("love not found".into());
        }
    }
    for (server, client) in pairs {
        let cmd = ctx.lua(
            server.0,
            &server.1,
            "interop.lua",
            &[("ENET_ROLE", "server".into())],
        );
        let mut server_proc = LuaProcess::spawn(cmd)?;
        let ready = server_proc.wait_line("READY", Duration::from_secs(10))?;
        let env = [
            ("ENET_ROLE", "client".to_string()),
            ("ENET_SERVER", ready[6..].trim().to_string()),
        ];
        let cmd = ctx.lua(client.0, &client.1, "interop.lua", &env);
        let client_out = LuaProcess::spawn(cmd)?.finish(Duration::from_secs(40), |_| {});
        let server_out = server_proc.finish(Duration::from_secs(40), |_| {});
        let client_out = client_out.map_err(|e| format!("client {}:\n{e}", client.0))?;
        let server_out = server_out.map_err(|e| format!("server {}:\n{e}", server.0))?;
        counts.push(format!(
            "{} <- {}: {}; {}",
            server.0,
            client.0,
            lines_with(&server_out, "COUNT "),
            lines_with(&client_out, "COUNT ")
        ));
    }
    Ok(counts.join(" | "))
}

struct Case {
    name: &'static str,
    run: fn(&Ctx) -> Outcome,
}

const CASES: &[Case] = &[
    Case {
        name: "impaired_reliable",
        run: impaired_reliable,
    },
    Case {
        name: "impaired_worst",
        run: impaired_worst,
    },
    Case {
        name: "impaired_fragments",
        run: impaired_fragments,
    },
    Case {
        name: "impaired_timeout",
        run: impaired_timeout,
    },
    Case {
        name: "hostile_targeted",
        run: hostile::targeted,
    },
    Case {
        name: "hostile_targeted_compressed",
        run: hostile::targeted_compressed,
    },
    Case {
        name: "hostile_fragments",
        run: hostile::fragments,
    },
    Case {
        name: "hostile_fuzz",
        run: hostile::fuzz,
    },
    Case {
        name: "hostile_fuzz_compressed",
        run: hostile::fuzz_compressed,
    },
    Case {
        name: "hostile_fuzz_valgrind",
        run: hostile::fuzz_valgrind,
    },
    Case {
        name: "held_good",
        run: held::good,
    },
    Case {
        name: "held_unreliable_future",
        run: held::unreliable_future,
    },
    Case {
        name: "held_unreliable_reorder",
        run: held::unreliable_reorder,
    },
    Case {
        name: "held_reliable_gap",
        run: held::reliable_gap,
    },
    Case {
        name: "held_reliable_skipped",
        run: held::reliable_skipped,
    },
    Case {
        name: "held_gap_filler",
        run: held::gap_filler,
    },
    Case {
        name: "held_atk43_tables",
        run: held::atk43_tables,
    },
    Case {
        name: "held_atk43_tables_host",
        run: held::atk43_tables_host,
    },
    Case {
        name: "held_atk43_large_later",
        run: held::atk43_large_later,
    },
    Case {
        name: "held_atk43b_table_after_exempt",
        run: held::atk43b_table_after_exempt,
    },
    Case {
        name: "held_atk43b_largest",
        run: held::atk43b_largest,
    },
    Case {
        name: "held_ack_flood",
        run: held::ack_flood,
    },
    Case {
        name: "held_many_peers",
        run: held::many_peers,
    },
    Case {
        name: "held_unreliable_fragments",
        run: held::unreliable_fragments,
    },
    Case {
        name: "held_client_connect_acked",
        run: held::client_connect_acked,
    },
    Case {
        name: "held_client_unreliable",
        run: held::client_unreliable,
    },
    Case {
        name: "ipv6_hostile_targeted",
        run: hostile::targeted_ipv6,
    },
    Case {
        name: "ipv6_hostile_fuzz",
        run: hostile::fuzz_ipv6,
    },
    Case {
        name: "ipv6_fallback",
        run: stock::fallback,
    },
    Case {
        name: "broadcast_connect",
        run: stock::broadcast,
    },
    Case {
        name: "ipv6_only_resolution",
        run: stock::ipv6_only_resolution,
    },
    Case {
        name: "stock_libenet_interop",
        run: stock::stock_c,
    },
    Case {
        name: "stock_love_interop",
        run: stock::stock_love,
    },
    Case {
        name: "flood_join",
        run: flood::join_under_flood,
    },
    Case {
        name: "flood_reflection",
        run: flood::reflection,
    },
    Case {
        name: "flood_handshake_cases",
        run: flood::handshake_cases,
    },
    Case {
        name: "flood_record_eviction",
        run: flood::record_eviction,
    },
    Case {
        name: "compressed_disconnect_no_sent_time",
        run: flood::compressed_disconnect_no_sent_time,
    },
    Case {
        name: "flood_defence_off",
        run: flood::defence_off,
    },
    Case {
        name: "flood_record_guesses",
        run: flood::record_guesses,
    },
    Case {
        name: "flood_record_duplicate_peers",
        run: flood::record_duplicate_peers,
    },
    Case {
        name: "flood_answer_amplification",
        run: flood::answer_amplification,
    },
    Case {
        name: "flood_blind_rate",
        run: flood::blind_rate,
    },
    Case {
        name: "flood_shared_slot",
        run: flood::shared_slot,
    },
    Case {
        name: "flood_burst_joins",
        run: flood::burst_joins,
    },
    Case {
        name: "flood_burst_joins_background",
        run: flood::burst_joins_background,
    },
    Case {
        name: "flood_burst_under_flood",
        run: flood::burst_under_flood,
    },
    Case {
        name: "flood_spoofed_victim",
        run: flood::spoofed_victim,
    },
    Case {
        name: "flood_guess_sources",
        run: flood::guess_sources,
    },
    Case {
        name: "flood_compressed_reflection",
        run: flood::compressed_reflection,
    },
    Case {
        name: "flood_toggle_mid_handshake",
        run: flood::toggle_mid_handshake,
    },
    Case {
        name: "flood_one_slot_host",
        run: flood::one_slot_host,
    },
    Case {
        name: "flood_one_slot_1000",
        run: flood::one_slot_1000,
    },
    Case {
        name: "flood_record_chain",
        run: flood::record_chain,
    },
    Case {
        name: "flood_4095_slots_50k",
        run: flood::slots_4095_50k,
    },
    Case {
        name: "flood_one_slot_50k",
        run: flood::one_slot_50k,
    },
    Case {
        name: "flood_ipv6_prefix",
        run: flood::ipv6_prefix,
    },
    Case {
        name: "flood_attack2_one_endpoint_chain",
        run: flood_attack2::one_endpoint_chain,
    },
    Case {
        name: "flood_attack2_refusing_4095_50k",
        run: flood_attack2::refusing_4095_50k,
    },
    Case {
        name: "soak",
        run: soak,
    },
    Case {
        name: "interop",
        run: interop,
    },
];

fn main() {
    let filter = common::filters();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let (flavour, interpreters) = common::flavour();
    let interp = interpreters[0];
    let ci = std::env::var_os("CI").is_some();
    // The ipv6_* cases need ::1: re-run in a network namespace that has it, or fail them under
    // CI, or skip them loudly.
    let ipv6 = common::ensure_ipv6_loopback();
    let started = Instant::now();
    if !matches!(flavour, "lua54" | "lua55" | "luajit")
        && std::env::var_os("ENET_NET_ALL").is_none()
    {
        println!("network tests run on lua54, lua55 and luajit only (ENET_NET_ALL=1 to force)");
        println!("\ntest result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s");
        return;
    }
    if !common::have(interp) {
        let msg = format!("interpreter {interp} not found");
        println!("{}: {msg}", if ci { "failure" } else { "SKIPPED" });
        std::process::exit(if ci { 101 } else { 0 });
    }
    let seed = std::env::var("ENET_NET_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64 % 1_000_000_000)
        });
    let ctx = Ctx {
        module_dir: common::stage_module(&root, "net-tests", flavour),
        root,
        flavour,
        interp,
        seed,
        ci,
    };
    println!("network tests on {interp}, seed {seed} (ENET_NET_SEED={seed} replays it)");
    // The cases whose `seed_for` is `residue` modulo `sample` run ((1, 0): all): lua54 and
    // luajit take complementary halves of the same seed (tests/run-all sets one for the run).
    let (sample, residue) = match flavour {
        _ if std::env::var_os("ENET_NET_ALL").is_some() => (1, 0),
        "lua54" => (2, 0),
        "luajit" => (2, 1),
        "lua55" => (3, 0),
        _ => (1, 0),
    };
    if sample > 1 {
        println!(
            "{flavour}: the cases of residue {residue} modulo {sample}, picked by the seed \
             (ENET_NET_ALL=1 runs all)"
        );
    }

    let mut failed = Vec::new();
    let mut passed = 0;
    let mut skipped = 0;
    let mut ignored = 0;
    for case in CASES {
        if !filter.is_empty() && !filter.iter().any(|f| case.name.contains(f.as_str())) {
            skipped += 1;
            continue;
        }
        // `interop` runs on every flavour: it pairs this flavour with another, and LuaJIT's run
        // puts LÖVE's interpreter on one side.
        if filter.is_empty()
            && case.name != "interop"
            && ctx.seed_for(case.name) % sample != residue
        {
            skipped += 1;
            continue;
        }
        let t = Instant::now();
        let outcome = match (&ipv6, case.name.starts_with("ipv6")) {
            (Err(why), true) if ci => Err(why.clone()),
            (Err(why), true) => Ok(format!("SKIPPED: {why}")),
            _ => (case.run)(&ctx),
        };
        match outcome {
            // A case that cannot run here says so; it is not a pass (and under CI a missing
            // tool is a failure, which the case reports as Err).
            Ok(summary) if summary.to_ascii_lowercase().starts_with("skipped") => {
                ignored += 1;
                println!("test {} ... ignored ({summary})", case.name);
            }
            Ok(summary) => {
                passed += 1;
                println!(
                    "test {} ... ok ({:.1}s) {summary}",
                    case.name,
                    t.elapsed().as_secs_f64()
                );
            }
            Err(out) => {
                failed.push(case.name);
                println!(
                    "test {} ... FAILED ({:.1}s, seed {seed}: ENET_NET_SEED={seed} replays it)\n{out}",
                    case.name,
                    t.elapsed().as_secs_f64()
                );
            }
        }
    }
    let failures: Vec<String> = failed
        .iter()
        .map(|f| format!("{f} (seed {seed})"))
        .collect();
    common::finish(passed, &failures, ignored, skipped, started);
}
