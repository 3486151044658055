//! Runs every `tests/lua/*.lua` script with the module just built, in each real interpreter of
//! the Lua flavour selected by the cargo feature (LuaJIT also inside LÖVE: half of them a run,
//! `in_half`), and the scripts
//! whose first line says `valgrind` again under valgrind (PUC Lua only).
//!
//! Then the re-entrancy matrix (`tests/lua/matrix/reentrancy.lua`, docs/contract.md §7): every
//! method of both classes and of the module table × every finalizer action, one process each. Every
//! combination runs plainly (a crash or abort fails it, LuaJIT included); under valgrind (PUC Lua)
//! the combinations whose call allocates (where the finalizer fires inside the call) run in full on
//! lua5.4, a quarter of them on lua5.1 and an eighth on each of lua5.2, lua5.3 and lua5.5,
//! sampled by the run's seed (all on 5.1 and half elsewhere until CI's run of b5e9e5b took 34
//! minutes; half on 5.1 and a quarter elsewhere until ea74391 took 31), and an eighth of the
//! others everywhere. The `-- valgrind` scripts run under valgrind on lua5.1 and lua5.4, and on
//! one of lua5.2, lua5.3 and lua5.5 each (`valgrind_sampled`). ENET_TEST_SEED=<n> replays a sample; ENET_MATRIX=full runs all of them under
//! valgrind. The combinations run again with both hosts in background mode
//! (`ENET_REENTRY_BACKGROUND=1`: their threads service them during the call and the finalizer):
//! plainly, every one on lua5.4 and LuaJIT and half of them (sampled by the seed) on the other
//! interpreters (to keep CI under 30 minutes; `ENET_MATRIX=full` runs all), and under valgrind
//! another eighth of them on lua5.4 and a thirty-second elsewhere (threads under valgrind run
//! one at a time and slowly; ThreadSanitizer checks them in tests/sanitize).
//!
//! `cargo test --features lua54` runs them in lua5.4; `tests/run-all` runs every flavour.
//! Under CI (`CI` set) a missing interpreter or tool is a failure, never a skip.
//! Script naming: `love_*.lua` run only inside LÖVE; `ipv6*.lua` need `::1` (where the machine
//! has none, the whole binary runs again inside `unshare -n`, whose `lo` has it; see
//! common::ensure_ipv6_loopback); everything else runs everywhere. A first
//! line `-- valgrind` runs the script again under valgrind (PUC Lua); `-- valgrind-only` runs
//! it only there (its assertions are leak checks), and it is reported as skipped on LuaJIT.
//! Under valgrind ENet's block cache is off (common::under_valgrind), except for
//! tests/lua/block_cache.lua.
mod common;

use common::{flavour, have, lua_command, stage_module};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(240);

struct Job {
    name: String,
    command: Command,
}

fn main() {
    let filter = common::filters();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let (flavour, interpreters) = flavour();
    let ci = std::env::var_os("CI").is_some();
    // The IPv6 scripts (ipv6*.lua) need ::1: re-run in a network namespace that has it, or
    // fail them under CI, or skip them loudly.
    let ipv6 = common::ensure_ipv6_loopback();
    let module_dir = stage_module(&root, "lua-tests", flavour);

    let mut scripts: Vec<PathBuf> = std::fs::read_dir(root.join("tests/lua"))
        .expect("tests/lua")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "lua"))
        .collect();
    scripts.sort();

    let mut jobs = Vec::new();
    let mut failures = Vec::new();
    // What could not run here: reported in the summary's "ignored", never counted as passed
    // (and a failure under CI when a tool is missing).
    let mut skipped: Vec<String> = Vec::new();
    let missing = |what: String, failures: &mut Vec<String>, skipped: &mut Vec<String>| {
        if ci {
            failures.push(what);
        } else {
            eprintln!("SKIPPED: {what}");
            skipped.push(what);
        }
    };
    let seed = std::env::var("ENET_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_secs() % 1_000_000)
        });
    for interp in interpreters {
        if !have(interp) {
            let msg = format!("interpreter {interp} not found (apt-get install it)");
            missing(msg, &mut failures, &mut skipped);
            continue;
        }
        let puc = *interp != "luajit" && *interp != "love";
        for script in &scripts {
            let stem = script.file_stem().unwrap().to_string_lossy().into_owned();
            let love_only = stem.starts_with("love_");
            if love_only && *interp != "love" {
                continue;
            }
            if *interp == "love" && !love_only && !in_half(&stem, seed, 0) {
                // LÖVE runs the other half next time (plain LuaJIT runs every script).
                continue;
            }
            let name = format!("{interp}/{stem}");
            if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
                continue;
            }
            if let (true, Err(why)) = (stem.starts_with("ipv6"), &ipv6) {
                missing(format!("{name}: {why}"), &mut failures, &mut skipped);
                continue;
            }
            let marker = valgrind_marker(script);
            if marker != Valgrind::Only {
                jobs.push(Job {
                    name: name.clone(),
                    command: lua_command(interp, script, &module_dir, &root),
                });
            }
            if marker == Valgrind::No {
                continue;
            }
            if !puc {
                if marker == Valgrind::Only {
                    // Its assertions only mean something under valgrind, which runs PUC Lua.
                    skipped.push(format!("{name}: valgrind-only, not run on {interp}"));
                }
            } else if !valgrind_sampled(interp, &stem, seed) {
                // Not this run's half on this interpreter: the other of lua5.2 and lua5.3 runs it.
            } else if have("valgrind") {
                let mut inner = lua_command(interp, script, &module_dir, &root);
                if name.ends_with("/block_cache") {
                    // The one script valgrind runs with ENet's block cache on (src/blocks.rs):
                    // the cache's own code under a memory checker.
                    inner.env("ENET_BLOCK_CACHE", "on");
                }
                let cmd = common::under_valgrind(&inner);
                jobs.push(Job {
                    name: format!("valgrind {name}"),
                    command: cmd,
                });
            } else {
                let msg = format!("valgrind {name}: valgrind not found (apt-get install valgrind)");
                missing(msg, &mut failures, &mut skipped);
            }
        }
    }

    for interp in interpreters.iter().filter(|i| **i != "love" && have(i)) {
        match matrix_jobs(interp, &root, &module_dir, seed, &filter) {
            Ok(mut more) => jobs.append(&mut more),
            Err(e) => failures.push(format!("{interp}/reentrancy: {e}")),
        }
    }
    println!("re-entrancy matrix sample seed {seed} (ENET_TEST_SEED={seed} replays it)");

    let started = Instant::now();
    let total = jobs.len();
    let queue = Arc::new(Mutex::new(jobs));
    let results = Arc::new(Mutex::new(Vec::new()));
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(4);
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            let queue = Arc::clone(&queue);
            let results = Arc::clone(&results);
            std::thread::spawn(move || loop {
                let Some(job) = queue.lock().unwrap().pop() else {
                    break;
                };
                let began = Instant::now();
                let outcome = run(job.command);
                // Seconds per job: what CI's budget is spent on (tests/run-all).
                let secs = began.elapsed().as_secs_f64();
                let verdict = match &outcome {
                    // everything in it was skipped: not a pass
                    Ok(summary) if common::summary_counts(summary).is_some_and(|c| c.0 == 0) => {
                        println!("test {} ... ignored ({summary}) {secs:.1}s", job.name);
                        Verdict::Skipped
                    }
                    Ok(summary) => {
                        println!("test {} ... ok ({summary}) {secs:.1}s", job.name);
                        Verdict::Passed
                    }
                    Err(out) => {
                        println!("test {} ... FAILED {secs:.1}s\n{out}", job.name);
                        Verdict::Failed
                    }
                };
                results.lock().unwrap().push((job.name, verdict));
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }

    let results = results.lock().unwrap();
    let passed = results.iter().filter(|r| r.1 == Verdict::Passed).count();
    for (name, verdict) in results.iter() {
        match verdict {
            Verdict::Failed => failures.push(format!("{name} failed")),
            Verdict::Skipped => skipped.push(format!("{name}: every test in it skipped")),
            Verdict::Passed => {}
        }
    }
    if total == 0 && failures.is_empty() && filter.is_empty() {
        failures.push("no Lua test ran".into());
    }
    for s in &skipped {
        println!("skipped: {s}");
    }
    common::finish(passed, &failures, skipped.len(), 0, started);
}

/// The re-entrancy matrix's jobs for `interp` (module comment), listed by the script itself.
fn matrix_jobs(
    interp: &str,
    root: &Path,
    module_dir: &Path,
    seed: u64,
    filter: &[String],
) -> Result<Vec<Job>, String> {
    let script = root.join("tests/lua/matrix/reentrancy.lua");
    let mut list = lua_command(interp, &script, module_dir, root);
    list.env("ENET_REENTRY", "list");
    let out = list.output().map_err(|e| format!("cannot list: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let combos: Vec<(&str, bool)> = text
        .lines()
        .filter_map(|l| l.strip_prefix("COMBO "))
        .map(|l| match l.split_once(' ') {
            Some((combo, tag)) => (combo, tag == "alloc"),
            None => (l, false),
        })
        .collect();
    if !out.status.success() || combos.len() < 100 {
        return Err(format!(
            "listing failed ({} combinations):\n{text}{}",
            combos.len(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let full = std::env::var("ENET_MATRIX").is_ok_and(|v| v == "full");
    let valgrind = interp != "luajit" && have("valgrind");
    let mut jobs = Vec::new();
    for (combo, allocates) in combos {
        let name = format!("{interp}/reentrancy {combo}");
        let bg_name = format!("{interp}/reentrancy background {combo}");
        let wanted = |n: &str| filter.is_empty() || filter.iter().any(|f| n.contains(f.as_str()));
        let mut cmd = lua_command(interp, &script, module_dir, root);
        cmd.env("ENET_REENTRY", combo);
        // A hash of the seed and the combination picks the sample.
        let hash = combo.bytes().fold(seed ^ 0xCBF2_9CE4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
        });
        let pick = hash % 8;
        let sampled = match (allocates, interp) {
            (true, "lua5.4") => true,
            (true, "lua5.1") => pick % 4 == 0,
            // An eighth each (other ones) on 5.2, 5.3 and 5.5.
            (true, "lua5.2") => pick == 2,
            (true, "lua5.3") => pick == 6,
            (true, _) => pick == 4,
            (false, _) => pick == 0,
        };
        if wanted(&name) && valgrind && (full || sampled) {
            jobs.push(Job {
                name: format!("valgrind {name}"),
                command: common::under_valgrind(&cmd),
            });
        }
        // The same combination with both hosts' background threads running (docs/contract.md
        // §12): plainly, every one on lua5.4 and LuaJIT and half elsewhere; under valgrind an
        // eighth (another one than above) on lua5.4, a thirty-second elsewhere.
        let mut bg = lua_command(interp, &script, module_dir, root);
        bg.env("ENET_REENTRY", combo)
            .env("ENET_REENTRY_BACKGROUND", "1");
        if wanted(&bg_name) {
            let bg_valgrind = if interp == "lua5.4" {
                pick == 1
            } else {
                hash % 32 == 1
            };
            if valgrind && (full || bg_valgrind) {
                jobs.push(Job {
                    name: format!("valgrind {bg_name}"),
                    command: common::under_valgrind(&bg),
                });
            }
            if full || matches!(interp, "lua5.4" | "luajit") || pick % 2 == 1 {
                jobs.push(Job {
                    name: bg_name,
                    command: bg,
                });
            }
        }
        if wanted(&name) {
            jobs.push(Job { name, command: cmd });
        }
    }
    Ok(jobs)
}

/// Whether a `-- valgrind` script runs under valgrind on `interp` this run: on lua5.1 and lua5.4
/// always; lua5.2, lua5.3 and lua5.5 split the scripts in three by a hash of the seed and the
/// name (each script under valgrind on one of them every run, on each across runs), to keep CI
/// under 30 minutes (CI's run of ea74391 took 1854 s, the full local run of 31529bc 1883 s);
/// `ENET_MATRIX=full`: all.
fn valgrind_sampled(interp: &str, stem: &str, seed: u64) -> bool {
    match interp {
        "lua5.2" => in_part(stem, seed, 0, 3),
        "lua5.3" => in_part(stem, seed, 1, 3),
        "lua5.5" => in_part(stem, seed, 2, 3),
        _ => true,
    }
}

/// Whether script `stem` is in half `half` (0 or 1) of this run's split, by a hash of the seed
/// and the name (complementary halves; every script in both across runs); always with
/// `ENET_MATRIX=full`. Also LÖVE's sample: half of the scripts run inside LÖVE a run (plain
/// LuaJIT, the same VM, runs every one), to keep CI under 30 minutes (the run of ecb5849 took
/// 32 minutes here); `love_*` scripts, LÖVE's own, always.
fn in_half(stem: &str, seed: u64, half: u64) -> bool {
    in_part(stem, seed, half, 2)
}

/// Whether script `stem` is in part `part` of `parts` of this run's split (see [`in_half`]).
fn in_part(stem: &str, seed: u64, part: u64, parts: u64) -> bool {
    let full = std::env::var("ENET_MATRIX").is_ok_and(|v| v == "full");
    let hash = stem.bytes().fold(seed ^ 0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
    });
    full || hash % parts == part
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Valgrind {
    /// Runs plainly only.
    No,
    /// `-- valgrind`: plainly, and again under valgrind on PUC Lua.
    Also,
    /// `-- valgrind-only`: its assertions mean something only under valgrind (a leak check).
    Only,
}

/// What the script's first line asks for.
fn valgrind_marker(script: &Path) -> Valgrind {
    let first = std::fs::read_to_string(script)
        .ok()
        .and_then(|s| s.lines().next().map(str::to_owned))
        .unwrap_or_default();
    if first.starts_with("-- valgrind-only") {
        Valgrind::Only
    } else if first.starts_with("-- valgrind") {
        Valgrind::Also
    } else {
        Valgrind::No
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Passed,
    Skipped,
    Failed,
}

/// Runs one script with a deadline. Ok(summary line) when it exits 0 having run or skipped at
/// least one test and failed none; Err(output) otherwise.
fn run(cmd: Command) -> Result<String, String> {
    let text = common::LuaProcess::spawn(cmd)?.finish(TIMEOUT, |_| {})?;
    Ok(text
        .lines()
        .rev()
        .find(|l| common::summary_counts(l).is_some())
        .unwrap_or("")
        .to_owned())
}
