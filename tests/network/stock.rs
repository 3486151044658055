//! IPv6 and dual stack against the rest of the world (docs/contract.md §6): our dual-stack hosts
//! with a stock IPv4 ENet peer at the other end (a small C program linked against the system's
//! unmodified libenet, and LÖVE's bundled enet), and the paths this Linux machine does not take by
//! itself (no IPv6, no dual stack, macOS's stricter sockets, AI_ADDRCONFIG hiding localhost),
//! forced by a test-only LD_PRELOAD shim (tests/net/c/shim.c), and, each in a network namespace of
//! its own, the broadcast exception of ENet's address check and name resolution on an IPv6-only
//! host. Nothing here builds fetched code: the C files are ours, and the stock peer links Debian's
//! libenet-dev.
use crate::common::{self, lines_with, LuaProcess};
use crate::{Ctx, Outcome};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Compiles one of tests/net/c into the test target dir. `Ok(None)` when the C compiler or the
/// library is missing outside CI (the case is then reported as skipped).
pub fn compile(
    ctx: &Ctx,
    source: &str,
    output: &str,
    args: &[&str],
) -> Result<Option<PathBuf>, String> {
    let dir = common::target_dir(&ctx.root).join("net-tests").join("c");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let out = dir.join(output);
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let result = Command::new(&cc)
        .arg("-O2")
        .arg("-o")
        .arg(&out)
        .arg(ctx.root.join("tests/net/c").join(source))
        .args(args)
        .output();
    match result {
        Ok(o) if o.status.success() => Ok(Some(out)),
        Ok(o) => {
            let why = format!(
                "{cc} {source} failed (tests/install-deps installs libenet-dev):\n{}",
                String::from_utf8_lossy(&o.stderr)
            );
            if ctx.ci {
                Err(why)
            } else {
                eprintln!("SKIPPED: {why}");
                Ok(None)
            }
        }
        Err(e) if ctx.ci => Err(format!("{cc}: {e}")),
        Err(e) => {
            eprintln!("SKIPPED: {cc}: {e}");
            Ok(None)
        }
    }
}

/// Runs `server` until it prints READY, then `client` with `ENET_SERVER`/argument set to that
/// address; both must pass. Returns their COUNT lines.
fn pair(
    server: Command,
    client: impl FnOnce(&str) -> Command,
    what: &str,
) -> Result<String, String> {
    let mut server = LuaProcess::spawn_named(&format!("{what} server"), server)?;
    let ready = server.wait_line("READY", Duration::from_secs(20))?;
    let address = ready[6..].trim().to_owned();
    let client = LuaProcess::spawn_named(&format!("{what} client"), client(&address))?;
    let client_out = client.finish(Duration::from_secs(60), |_| {});
    let server_out = server.finish(Duration::from_secs(60), |_| {});
    let client_out = client_out.map_err(|e| format!("{what}, client:\n{e}"))?;
    let server_out = server_out.map_err(|e| format!("{what}, server:\n{e}"))?;
    Ok(format!(
        "{what}: {}; {}",
        lines_with(&server_out, "COUNT "),
        lines_with(&client_out, "COUNT ")
    ))
}

/// tests/net/interop.lua as our dual-stack server (`"*:*"`, reached at 127.0.0.1).
fn our_dual_server(ctx: &Ctx) -> Command {
    ctx.lua(
        ctx.interp,
        &ctx.module_dir,
        "interop.lua",
        &[("ENET_ROLE", "server".into()), ("ENET_BIND", "*:*".into())],
    )
}

/// A stock ENet 1.3.17 (Debian's libenet, IPv4 only) as client of our dual-stack server, and
/// as server of our dual-stack client (a host created with no address).
pub fn stock_c(ctx: &Ctx) -> Outcome {
    let Some(peer) = compile(ctx, "stock_peer.c", "stock_peer", &["-lenet"])? else {
        return Ok("SKIPPED: no C compiler or no libenet-dev".into());
    };
    let one = pair(
        our_dual_server(ctx),
        |address| {
            let mut c = Command::new(&peer);
            c.args(["client", address]);
            c
        },
        "stock libenet client -> our '*' server",
    )?;
    let mut server = Command::new(&peer);
    server.arg("server");
    let two = pair(
        server,
        |address| {
            let env = [
                ("ENET_ROLE", "client".into()),
                ("ENET_SERVER", address.into()),
            ];
            ctx.lua(ctx.interp, &ctx.module_dir, "interop.lua", &env)
        },
        "our unbound client -> stock libenet server",
    )?;
    // The same with our side's host in background mode (`host:background(true)`): its thread
    // completes the handshake and receives, the stock side sees only the wire (vendor/enet
    // patch 0041 keeps a connection the thread completed connected before Lua takes its event).
    let mut bg_server = our_dual_server(ctx);
    bg_server.env("ENET_BACKGROUND", "1");
    let three = pair(
        bg_server,
        |address| {
            let mut c = Command::new(&peer);
            c.args(["client", address]);
            c
        },
        "stock libenet client -> our '*' server in background mode",
    )?;
    let mut server = Command::new(&peer);
    server.arg("server");
    let four = pair(
        server,
        |address| {
            let env = [
                ("ENET_ROLE", "client".into()),
                ("ENET_SERVER", address.into()),
                ("ENET_BACKGROUND", "1".into()),
            ];
            ctx.lua(ctx.interp, &ctx.module_dir, "interop.lua", &env)
        },
        "our client in background mode -> stock libenet server",
    )?;
    Ok(format!("{one} | {two} | {three} | {four}"))
}

/// LÖVE 11's bundled enet (stock ENet 1.3.13, IPv4 only), inside LÖVE, as client of our
/// dual-stack server.
pub fn stock_love(ctx: &Ctx) -> Outcome {
    if !common::have("love") {
        return if ctx.ci {
            Err("love not found (tests/install-deps installs it)".into())
        } else {
            Ok("SKIPPED: love not found".into())
        };
    }
    pair(
        our_dual_server(ctx),
        |address| {
            let env = [
                ("ENET_ROLE", "client".into()),
                ("ENET_SERVER", address.into()),
                ("ENET_STOCK", "1".into()),
            ];
            ctx.lua("love", &ctx.module_dir, "interop.lua", &env)
        },
        "LÖVE's bundled enet client -> our '*' server",
    )
}

/// The shim's modes, one process each (tests/net/ipv6_fallback.lua says what each proves),
/// and the shim counter that shows the mode was exercised.
const SHIM_MODES: &[(&str, &str)] = &[
    ("socket6", "socket6="),
    ("v6only", "v6only="),
    ("bind6", "bind6="),
    ("strict", "mapped_sends="),
    ("addrconfig", "addrconfig="),
];

/// The fallback to IPv4 (`"*"` binds IPv4, `"[::1]"` and `"[::]"` fail cleanly), macOS's
/// refusal of a `sockaddr_in` on an AF_INET6 socket, and the AI_ADDRCONFIG retry.
pub fn fallback(ctx: &Ctx) -> Outcome {
    let flags = ["-shared", "-fPIC", "-ldl"];
    let Some(shim) = compile(ctx, "shim.c", "shim.so", &flags)? else {
        return Ok("SKIPPED: no C compiler".into());
    };
    let mut counts = Vec::new();
    for (mode, counter) in SHIM_MODES {
        let out = run_shimmed(ctx, &shim, mode)?;
        let report = out
            .lines()
            .find(|l| l.starts_with("SHIM "))
            .ok_or_else(|| format!("{mode}: the shim did not report (was it preloaded?)\n{out}"))?;
        let used = report
            .split_whitespace()
            .find_map(|w| w.strip_prefix(counter))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
        if used == 0 {
            return Err(format!("{mode}: the shim never acted ({report}):\n{out}"));
        }
        if *mode == "strict" && !report.contains("strict_refused=0 ") {
            return Err(format!(
                "strict: a sockaddr_in went to an AF_INET6 socket ({report})"
            ));
        }
        counts.push(format!("{mode} ({})", &report[5..]));
    }
    Ok(counts.join("; "))
}

fn run_shimmed(ctx: &Ctx, shim: &Path, mode: &str) -> Result<String, String> {
    let mut cmd = ctx.lua(
        ctx.interp,
        &ctx.module_dir,
        "ipv6_fallback.lua",
        &[("ENET_SHIM", mode.into())],
    );
    cmd.env("LD_PRELOAD", shim);
    LuaProcess::spawn_named(&format!("ipv6_fallback {mode}"), cmd)?
        .finish(Duration::from_secs(60), |_| {})
        .map_err(|e| format!("shim mode {mode}:\n{e}"))
}

/// The broadcast exception (vendor/enet 0019): a client connects to 255.255.255.255 and the
/// server answers from its own address. Run in a network namespace of its own, where that
/// address is routed to lo (with 127.0.0.1 as the source), so no broadcast leaves the machine.
pub fn broadcast(ctx: &Ctx) -> Outcome {
    let setup = "ip link set lo up && \
                 ip route add broadcast 255.255.255.255 dev lo table local src 127.0.0.1";
    let out = match in_namespace(ctx, setup, "a broadcast route on lo", None, "broadcast.lua")? {
        Ok(out) => out,
        Err(skipped) => return Ok(skipped),
    };
    Ok(lines_with(&out, "COUNT "))
}

/// Name resolution on an IPv6-only host (vendor patch 0021): a network namespace whose IPv4 has
/// only loopback and whose IPv6 has a global address (2001:db8::1 on lo), as IPv6-only hosts and
/// many containers are. There getaddrinfo with AI_ADDRCONFIG refuses "127.0.0.1" (EAI_ADDRFAMILY)
/// and cannot find localhost (EAI_AGAIN: only its IPv6 address is asked for, of a DNS server that
/// is not there), so `host_create("127.0.0.1:*")` and `"localhost:*"` failed with `Failed to
/// resolve host name`. A probe (tests/net/c/addrconfig_probe.c) shows that the namespace reproduces
/// those refusals; then tests/net/ipv6_only.lua must bind and talk.
pub fn ipv6_only_resolution(ctx: &Ctx) -> Outcome {
    let Some(probe) = compile(ctx, "addrconfig_probe.c", "addrconfig_probe", &[])? else {
        return Ok("SKIPPED: no C compiler".into());
    };
    let setup = "ip link set lo up && ip -6 addr add 2001:db8::1/64 dev lo nodad";
    let probe = format!("'{}' 127.0.0.1 localhost", probe.display());
    let out = match in_namespace(
        ctx,
        setup,
        "an IPv6 global address on lo",
        Some(&probe),
        "ipv6_only.lua",
    )? {
        Ok(out) => out,
        Err(skipped) => return Ok(skipped),
    };
    // What the probe saw: both lookups refused, or the namespace is not what this case needs.
    let refusals: Vec<&str> = out.lines().filter(|l| l.starts_with("PROBE ")).collect();
    if refusals.len() != 2 || refusals.iter().any(|l| l.split(' ').nth(2) == Some("0")) {
        let why = format!(
            "the namespace does not reproduce an IPv6-only host: getaddrinfo with AI_ADDRCONFIG \
             should refuse 127.0.0.1 and localhost there, it answered:\n{}\n{out}",
            refusals.join("\n")
        );
        return if ctx.ci {
            Err(why)
        } else {
            Ok(format!("SKIPPED: {why}"))
        };
    }
    let summary = out.lines().rfind(|l| l.contains(" passed, ")).unwrap_or("");
    let seen: Vec<String> = refusals
        .iter()
        .map(|l| l.splitn(4, ' ').skip(1).collect::<Vec<_>>().join(" "))
        .collect();
    Ok(format!(
        "{summary} (with AI_ADDRCONFIG: {})",
        seen.join("; ")
    ))
}

/// Runs tests/net/<script> (after the shell command `before`, if any) in a network namespace of
/// its own (`unshare -n`, as root) set up by the shell commands `setup`, which give it `what`.
/// `Ok(Ok(output))` when the script passed; `Ok(Err(summary))` when no such namespace can be
/// made here (a skip, which is a failure under CI).
fn in_namespace(
    ctx: &Ctx,
    setup: &str,
    what: &str,
    before: Option<&str>,
    script: &str,
) -> Result<Result<String, String>, String> {
    let probe = Command::new("unshare")
        .args(["-n", "sh", "-c", setup])
        .output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        let why = format!(
            "`unshare -n` with {what} is not available here (root and iproute2 needed): {}",
            probe.map_or_else(
                |e| e.to_string(),
                |o| String::from_utf8_lossy(&o.stderr).into()
            )
        );
        return if ctx.ci {
            Err(why)
        } else {
            Ok(Err(format!("SKIPPED: {why}")))
        };
    }
    let inner = ctx.lua(ctx.interp, &ctx.module_dir, script, &[]);
    let before = before.map_or(String::new(), |b| format!("{b} && "));
    let mut cmd = Command::new("unshare");
    cmd.args([
        "-n",
        "sh",
        "-c",
        &format!("{setup} && {before}exec \"$0\" \"$@\""),
    ])
    .arg(inner.get_program())
    .args(inner.get_args());
    for (k, v) in inner.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    if let Some(dir) = inner.get_current_dir() {
        cmd.current_dir(dir);
    }
    let out = LuaProcess::spawn_named(&format!("{script} in its namespace"), cmd)?
        .finish(Duration::from_secs(60), |_| {})?;
    Ok(Ok(out))
}
