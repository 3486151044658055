//! Runs the examples the docs point to, as a user would, and checks what they print: the chat
//! (a server and two clients), the channels demo, and (LuaJIT flavour) the LÖVE game headless,
//! plus once with a window under xvfb-run when it is installed. Every process has a deadline.
//!
//! `cargo test --features lua54 --test examples [filter...]`. Under CI (`CI` set) a missing
//! interpreter is a failure; locally it is a loud skip.
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::LuaProcess;

/// Any one process of an example gets this long.
const TIMEOUT: Duration = Duration::from_secs(60);

struct Ctx {
    root: PathBuf,
    module_dir: PathBuf,
    lua: &'static str,
}

type Outcome = Result<(), String>;

/// A running example process (the test suite's one process runner, tests/common), with this
/// file's deadline.
struct Proc(LuaProcess);

impl Proc {
    fn spawn(name: &str, cmd: Command) -> Result<Proc, String> {
        LuaProcess::spawn_named(name, cmd).map(Proc)
    }

    /// Waits until a printed line contains `needle`; returns that line.
    fn wait_for(&mut self, needle: &str) -> Result<String, String> {
        self.0.wait_for(needle, TIMEOUT)
    }

    /// Waits for the process to exit (killing it at the deadline); Ok(output) on exit status 0.
    fn finish(self) -> Result<String, String> {
        self.0.finish_exit(TIMEOUT)
    }

    fn report(&self, what: &str) -> String {
        self.0.report(what)
    }
}

fn expect(output: &str, needle: &str, who: &str) -> Outcome {
    if output.contains(needle) {
        Ok(())
    } else {
        Err(format!(
            "{who} did not print {needle:?}; its output:\n{output}"
        ))
    }
}

/// The address a server printed on its `listening on <address>` line.
fn listening(proc: &mut Proc) -> Result<String, String> {
    let line = proc.wait_for("listening on ")?;
    let address = line.rsplit("listening on ").next().unwrap_or("").trim();
    if address.is_empty() || address.ends_with(":0") {
        return Err(proc.report(&format!("printed a bad address in {line:?}")));
    }
    Ok(address.to_owned())
}

impl Ctx {
    fn lua(&self, script: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(self.lua);
        cmd.arg(self.root.join("examples").join(script)).args(args);
        common::set_lua_env(&mut cmd, &self.module_dir, &self.root);
        cmd
    }

    fn love(&self, args: &[&str], xvfb: bool) -> Command {
        let mut cmd = if xvfb {
            let mut c = Command::new("xvfb-run");
            c.args(["-a", "love"]);
            c
        } else {
            Command::new("love")
        };
        cmd.arg(self.root.join("examples/love")).args(args);
        common::set_lua_env(&mut cmd, &self.module_dir, &self.root);
        cmd
    }
}

/// Two clients meet on the chat server: each sees the other join, talk and leave.
fn chat(ctx: &Ctx) -> Outcome {
    let mut server = Proc::spawn(
        "chat server",
        ctx.lua("chat/server.lua", &["--exit-when-empty"]),
    )?;
    let address = listening(&mut server)?;
    let alice = Proc::spawn(
        "alice",
        ctx.lua(
            "chat/client.lua",
            &[&address, "alice", "--until", "bob left", "hi all"],
        ),
    )?;
    server.wait_for("* alice joined")?;
    let bob = Proc::spawn(
        "bob",
        ctx.lua("chat/client.lua", &[&address, "bob", "hello alice", "bye"]),
    )?;
    let bob = bob.finish()?;
    let alice = alice.finish()?;
    let server = server.finish()?;
    expect(&bob, "chat bob: bob: hello alice", "bob")?;
    expect(&bob, "chat bob: left", "bob")?;
    expect(&alice, "chat alice: * bob joined (2 here)", "alice")?;
    expect(&alice, "chat alice: bob: bye", "alice")?;
    expect(&alice, "chat alice: * bob left (1 here)", "alice")?;
    expect(&server, "chat server: alice: hi all", "the server")?;
    expect(&server, "chat server: * alice left (0 here)", "the server")?;
    expect(&server, "everyone left, bye", "the server")
}

/// The chat server binds the address it is given ("127.0.0.1:0": any free port) and prints
/// the real one.
fn chat_given_address(ctx: &Ctx) -> Outcome {
    let mut server = Proc::spawn(
        "chat server",
        ctx.lua("chat/server.lua", &["127.0.0.1:0", "--exit-when-empty"]),
    )?;
    let address = listening(&mut server)?;
    if !address.starts_with("127.0.0.1:") {
        return Err(server.report(&format!("listens on {address}")));
    }
    let carol = Proc::spawn(
        "carol",
        ctx.lua("chat/client.lua", &[&address, "carol", "hello"]),
    )?;
    expect(&carol.finish()?, "chat carol: carol: hello", "carol")?;
    expect(&server.finish()?, "* carol left (0 here)", "the server")
}

/// Reliable lines on channel 0 all arrive; position updates arrive on channel 1.
fn channels(ctx: &Ctx) -> Outcome {
    let mut server = Proc::spawn("channels server", ctx.lua("channels/server.lua", &[]))?;
    let address = listening(&mut server)?;
    let client = Proc::spawn(
        "channels client",
        ctx.lua("channels/client.lua", &[&address]),
    )?;
    let client = client.finish()?;
    let server = server.finish()?;
    expect(
        &client,
        "sent 100 updates, 4 chat lines acknowledged",
        "the client",
    )?;
    expect(
        &server,
        "chat (channel 0, reliable): at update 100",
        "the server",
    )?;
    expect(&server, "4 chat lines;", "the server")?;
    // Loopback loses nothing, but unsequenced promises nothing: only require most updates.
    let updates: u32 = server
        .split("; ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    if updates < 50 {
        return Err(format!(
            "the server got {updates} of 100 position updates:\n{server}"
        ));
    }
    Ok(())
}

/// The LÖVE game, headless: a server loading our module with package.loadlib and a client
/// loading it through require after clearing package.preload.enet; the client sees both dots.
fn love_headless(ctx: &Ctx) -> Outcome {
    let so = ctx.module_dir.join("enet.so");
    let so = so.to_string_lossy();
    let mut server = Proc::spawn(
        "love server",
        ctx.love(
            &[
                "--server",
                "127.0.0.1:*",
                "--enet",
                &so,
                "--headless",
                "5000",
            ],
            false,
        ),
    )?;
    let address = listening(&mut server)?;
    let client = Proc::spawn(
        "love client",
        ctx.love(&["--connect", &address, "--headless", "300"], false),
    )?;
    let client = client.finish()?;
    let server = server.finish()?;
    expect(&server, "loaded with package.loadlib", "the LÖVE server")?;
    expect(&client, "loaded with require", "the LÖVE client")?;
    expect(&client, "love client: I am player 2", "the LÖVE client")?;
    expect(&client, "love client: sees 2 dots", "the LÖVE client")?;
    expect(&client, "love client: said goodbye", "the LÖVE client")?;
    expect(&server, "love server: player 2 joined", "the LÖVE server")?;
    expect(&server, "love server: player 2 left", "the LÖVE server")
}

/// The LÖVE game with its window (under a virtual X server), so love.draw runs too.
fn love_window(ctx: &Ctx) -> Outcome {
    let game = Proc::spawn(
        "love (window)",
        ctx.love(&["--server", "127.0.0.1:*", "--frames", "60"], true),
    )?;
    expect(
        &game.finish()?,
        "love server: quit after 60 frames",
        "LÖVE with a window",
    )
}

/// examples/loading: a LÖVE game with a window (under xvfb) joins its own server thread, turns
/// on host:background(true) and blocks 20 s in its loading screen without calling enet; the
/// session survives and the server saw no timeout (docs/api.md, "Staying connected while the
/// game stalls").
fn love_loading(ctx: &Ctx) -> Outcome {
    let mut cmd = Command::new("xvfb-run");
    cmd.args(["-a", "love"])
        .arg(ctx.root.join("examples/loading"))
        .args(["--load", "20", "--frames", "60"]);
    common::set_lua_env(&mut cmd, &ctx.module_dir, &ctx.root);
    let game = Proc::spawn("love loading (window)", cmd)?;
    expect(
        &game.finish()?,
        "loading: session kept: peer connected",
        "the LÖVE loading screen",
    )
}

type Case = fn(&Ctx) -> Outcome;

fn main() {
    let filter = common::filters();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let (flavour, interpreters) = common::flavour();
    let ci = std::env::var_os("CI").is_some();
    let module_dir = common::stage_module(&root, "examples", flavour);
    let started = Instant::now();

    let mut failures = Vec::new();
    let mut skipped = Vec::new();
    let mut cases: Vec<(String, Case)> = Vec::new();
    let lua = interpreters[0];
    let mut missing = |program: &str, why: &str| {
        let msg = format!("{program} not found ({why})");
        if ci {
            failures.push(msg);
        } else {
            eprintln!("SKIPPED: {msg}");
            skipped.push(msg);
        }
    };
    if common::have(lua) {
        cases.push((format!("{lua}/chat"), chat));
        cases.push((format!("{lua}/chat-address"), chat_given_address));
        cases.push((format!("{lua}/channels"), channels));
    } else {
        missing(lua, "apt-get install it");
    }
    if interpreters.contains(&"love") {
        if common::have("love") {
            cases.push(("love/dots-headless".into(), love_headless));
            if common::have("xvfb-run") {
                cases.push(("love/dots-window".into(), love_window));
                cases.push(("love/loading-window".into(), love_loading));
            } else {
                missing(
                    "xvfb-run",
                    "love/dots-window needs it: apt-get install xvfb",
                );
            }
        } else {
            missing("love", "apt-get install love");
        }
    }
    cases.retain(|(name, _)| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str())));

    let ctx = Ctx {
        root: root.clone(),
        module_dir,
        lua,
    };
    println!("running {} examples with {flavour}", cases.len());
    let mut passed = 0;
    for (name, case) in &cases {
        let t = Instant::now();
        match case(&ctx) {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok ({:.2}s)", t.elapsed().as_secs_f64());
            }
            Err(e) => {
                println!("test {name} ... FAILED\n{e}");
                failures.push(format!("{name} failed"));
            }
        }
    }
    if cases.is_empty() && failures.is_empty() && filter.is_empty() && skipped.is_empty() {
        failures.push("no example ran".into());
    }
    common::finish(passed, &failures, skipped.len(), 0, started);
}
