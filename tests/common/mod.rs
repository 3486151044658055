//! Helpers shared by the test runners: the flavour under test, staging the freshly built module
//! where `require "enet"` finds it, and running a Lua process with a deadline.
#![allow(dead_code)]
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// The cargo feature of this build and its interpreters (LuaJIT also runs inside LÖVE).
pub fn flavour() -> (&'static str, &'static [&'static str]) {
    if cfg!(feature = "lua51") {
        ("lua51", &["lua5.1"])
    } else if cfg!(feature = "lua52") {
        ("lua52", &["lua5.2"])
    } else if cfg!(feature = "lua53") {
        ("lua53", &["lua5.3"])
    } else if cfg!(feature = "lua54") {
        ("lua54", &["lua5.4"])
    } else if cfg!(feature = "lua55") {
        lua55_on_path();
        ("lua55", &["lua5.5"])
    } else {
        ("luajit", &["luajit", "love"])
    }
}

/// Debian has no lua5.5: tests/build-lua55 builds one into `<target>/lua55/bin` (once; later
/// runs only check it), and that directory goes first on PATH.
fn lua55_on_path() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let target = target_dir(root);
        let built = Command::new(root.join("tests/build-lua55"))
            .env("CARGO_TARGET_DIR", &target)
            .stdout(Stdio::null())
            .status();
        if !built.is_ok_and(|s| s.success()) {
            eprintln!("tests/build-lua55 failed: no lua5.5 to test with");
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        let dirs = std::iter::once(target.join("lua55/bin")).chain(std::env::split_paths(&path));
        std::env::set_var("PATH", std::env::join_paths(dirs).expect("PATH"));
    });
}

/// The interpreter of a flavour name (`lua51` -> `lua5.1`).
pub fn interpreter_of(flavour: &str) -> &'static str {
    match flavour {
        "lua51" => "lua5.1",
        "lua52" => "lua5.2",
        "lua53" => "lua5.3",
        "lua54" => "lua5.4",
        "lua55" => "lua5.5",
        _ => "luajit",
    }
}

/// `<target>/<profile>/deps`, where the test binary and the cdylib live.
pub fn deps_dir() -> PathBuf {
    std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The target directory of this build (`<target>` of `<target>/<profile>/deps`).
pub fn target_dir(root: &Path) -> PathBuf {
    let deps = deps_dir();
    deps.parent()
        .and_then(Path::parent)
        .unwrap_or(root)
        .to_path_buf()
}

/// The cdylib built in `profile_dir` (`<target>/<profile>`), in `deps/` or beside it.
pub fn find_cdylib(profile_dir: &Path) -> Option<PathBuf> {
    let names = ["libenet.so", "libenet.dylib", "enet.dll"];
    [profile_dir.join("deps"), profile_dir.to_path_buf()]
        .iter()
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .find(|p| p.exists())
}

/// Copies the freshly built cdylib to `<target>/<sub>/<flavour>/enet.so`, the name `require`
/// looks for, and returns that directory.
pub fn stage_module(root: &Path, sub: &str, flavour: &str) -> PathBuf {
    let profile = deps_dir().parent().unwrap().to_path_buf();
    let built = find_cdylib(&profile).expect("the enet cdylib next to the test binary");
    stage_file(&built, &target_dir(root).join(sub).join(flavour))
}

/// Copies a built cdylib into `dir` as `enet.<ext>`: into a file of its own first, then renamed
/// over the old one, so that a process of another test run that has the old one mapped keeps
/// it (copying in place truncated it under that process: SIGBUS when two suites ran at once).
pub fn stage_file(built: &Path, dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let ext = if cfg!(windows) { "dll" } else { "so" };
    let staged = dir.join(format!("enet.{ext}"));
    let fresh = dir.join(format!(".enet.{ext}.{}", std::process::id()));
    std::fs::copy(built, &fresh).unwrap();
    if std::fs::rename(&fresh, &staged).is_err() {
        // Windows cannot replace a DLL that a process has loaded: copy over it as before.
        std::fs::copy(&fresh, &staged).unwrap();
        let _ = std::fs::remove_file(&fresh);
    }
    dir.to_path_buf()
}

pub fn have(program: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Sets LUA_CPATH / LUA_PATH so that `require "enet"` finds the staged module and `require "t"`
/// (tests/lua/lib) and the network helpers (tests/net/lib) are found.
pub fn set_lua_env(cmd: &mut Command, module_dir: &Path, root: &Path) {
    cmd.env("LUA_CPATH", format!("{}/?.so;;", module_dir.display()));
    cmd.env(
        "LUA_PATH",
        format!(
            "{root}/tests/lua/lib/?.lua;{root}/tests/net/lib/?.lua;;",
            root = root.display()
        ),
    );
    cmd.env("ENET_TEST_ROOT", root);
    cmd.current_dir(root);
}

/// A running test process (a Lua script, an example, LÖVE): its stdout and stderr lines arrive
/// on a channel as they are printed, every wait has a deadline, and a process still running
/// when this is dropped (a failed case) is killed. The one process runner of the test suite.
pub struct LuaProcess {
    name: String,
    child: Child,
    pub lines: Receiver<String>,
    output: Vec<String>,
    started: Instant,
}

impl LuaProcess {
    /// Starts `cmd` with stdout and stderr piped into the line channel.
    pub fn spawn(cmd: Command) -> Result<LuaProcess, String> {
        let name = cmd.get_program().to_string_lossy().into_owned();
        LuaProcess::spawn_named(&name, cmd)
    }

    /// As [`LuaProcess::spawn`], with the name its reports use.
    pub fn spawn_named(name: &str, mut cmd: Command) -> Result<LuaProcess, String> {
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null());
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("{name}: cannot start: {e}"))?;
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        let err = child.stderr.take().unwrap();
        let tx2 = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx2.send(line);
            }
        });
        Ok(LuaProcess {
            name: name.to_owned(),
            child,
            lines: rx,
            output: Vec::new(),
            started: Instant::now(),
        })
    }

    /// Waits for a line starting with `prefix` (keeping every line seen), at most `timeout`.
    pub fn wait_line(&mut self, prefix: &str, timeout: Duration) -> Result<String, String> {
        self.wait_until(|l| l.starts_with(prefix), prefix, timeout)
    }

    /// Waits for a line containing `needle`, at most `timeout`.
    pub fn wait_for(&mut self, needle: &str, timeout: Duration) -> Result<String, String> {
        self.wait_until(|l| l.contains(needle), needle, timeout)
    }

    /// Waits for a line for which `wanted` is true (keeping every line seen; `what` names it in
    /// the error), at most `timeout`.
    pub fn wait_until(
        &mut self,
        wanted: impl Fn(&str) -> bool,
        what: &str,
        timeout: Duration,
    ) -> Result<String, String> {
        if let Some(line) = self.output.iter().find(|l| wanted(l)) {
            return Ok(line.clone());
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.output.push(line.clone());
                    if wanted(&line) {
                        return Ok(line);
                    }
                }
                Err(_) => {
                    let status = match self.child.try_wait() {
                        Ok(Some(s)) => format!("exited ({s})"),
                        _ => format!("printed nothing more within {timeout:?}"),
                    };
                    return Err(self.report(&format!("{status} before printing {what:?}")));
                }
            }
        }
    }

    /// `<name> <what>; its output: ...`, for failure messages.
    pub fn report(&self, what: &str) -> String {
        format!(
            "{} {what}; its output:\n{}",
            self.name,
            self.output.join("\n")
        )
    }

    /// Hands every line to `on_line` as it arrives until the process exits (killed after
    /// `timeout` from its start). Ok(output) when it exits 0 with a `N passed, 0 failed`
    /// summary (N > 0).
    pub fn finish(self, timeout: Duration, on_line: impl FnMut(&str)) -> Result<String, String> {
        self.finish_with(timeout, true, on_line)
    }

    /// Waits for the process to exit (killed after `timeout` from its start); Ok(output) on exit
    /// status 0, whatever it printed.
    pub fn finish_exit(self, timeout: Duration) -> Result<String, String> {
        self.finish_with(timeout, false, |_| {})
    }

    fn finish_with(
        mut self,
        timeout: Duration,
        want_summary: bool,
        mut on_line: impl FnMut(&str),
    ) -> Result<String, String> {
        for line in &self.output {
            on_line(line);
        }
        let deadline = self.started + timeout;
        let status = loop {
            while let Ok(line) = self.lines.try_recv() {
                on_line(&line);
                self.output.push(line);
            }
            if let Some(s) = self.child.try_wait().map_err(|e| e.to_string())? {
                break Some(s);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        // The reader threads end at EOF; collect what is left until they do. A loaded machine
        // can keep them from running for a while after the exit (a 500 ms wait for the next
        // line lost a case's summary), so wait up to 10 s for EOF; only a grandchild holding
        // the pipe open makes that wait run out.
        let drain_until = Instant::now() + Duration::from_secs(10);
        loop {
            match self.lines.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => {
                    on_line(&line);
                    self.output.push(line);
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) if Instant::now() > drain_until => {
                    break
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            }
        }
        let text = self.output.join("\n");
        let summary_ok = !want_summary || text.lines().rev().any(|l| summary_counts(l).is_some());
        match status {
            None => Err(self.report(&format!("killed after {}s", timeout.as_secs()))),
            Some(s) if s.success() && summary_ok => Ok(text),
            Some(s) if s.success() => Err(self.report("printed no \"N passed, 0 failed\" summary")),
            Some(s) => Err(self.report(&format!("exited with {s}"))),
        }
    }
}

impl Drop for LuaProcess {
    fn drop(&mut self) {
        // A failed case must not leave its processes running.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `(passed, skipped)` of a test script's summary line, `N passed, 0 failed[, K skipped]`, when
/// it reports no failure and ran or skipped something (tests/lua/lib/t.lua prints it).
pub fn summary_counts(line: &str) -> Option<(u64, u64)> {
    let (passed, rest) = line.split_once(" passed, 0 failed")?;
    let passed: u64 = passed.parse().ok()?;
    let skipped: u64 = match rest {
        "" => 0,
        _ => rest
            .strip_prefix(", ")?
            .strip_suffix(" skipped")?
            .parse()
            .ok()?,
    };
    (passed + skipped > 0).then_some((passed, skipped))
}

/// The lines of `output` that start with `prefix`, joined with `; `.
pub fn lines_with(output: &str, prefix: &str) -> String {
    output
        .lines()
        .filter(|l| l.starts_with(prefix))
        .map(|l| l[prefix.len()..].trim())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The command that runs `script` in `interp`; for LÖVE a throwaway game directory whose
/// main.lua loads our module in place of LÖVE's bundled one and runs the script.
pub fn lua_command(interp: &str, script: &Path, module_dir: &Path, root: &Path) -> Command {
    if interp != "love" {
        let mut cmd = Command::new(interp);
        cmd.arg(script);
        set_lua_env(&mut cmd, module_dir, root);
        return cmd;
    }
    let stem = script.file_stem().unwrap().to_string_lossy();
    let game = module_dir.join("love").join(stem.as_ref());
    std::fs::create_dir_all(&game).unwrap();
    std::fs::copy(root.join("tests/love/conf.lua"), game.join("conf.lua")).unwrap();
    let main = format!(
        "package.cpath = {cpath:?} .. package.cpath\n\
         package.path = {path:?} .. package.path\n\
         LOVE_ENET_PRELOAD = package.preload.enet\n\
         package.preload.enet = nil\n\
         package.loaded.enet = nil\n\
         local ok, err = xpcall(function() dofile({script:?}) end, debug.traceback)\n\
         if not ok then print(err) os.exit(1) end\n\
         os.exit(0)\n",
        cpath = format!("{}/?.so;", module_dir.display()),
        path = format!(
            "{root}/tests/lua/lib/?.lua;{root}/tests/net/lib/?.lua;",
            root = root.display()
        ),
        script = script.display().to_string(),
    );
    std::fs::write(game.join("main.lua"), main).unwrap();
    let mut cmd = Command::new("love");
    cmd.arg(&game);
    cmd.current_dir(root);
    cmd.env("ENET_TEST_ROOT", root);
    cmd
}

/// The test-name filters given after `--` (`cargo test --test lua -- api_host`).
pub fn filters() -> Vec<String> {
    std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect()
}

/// Prints the failures and libtest's summary line (which tests/run-all and CI read), then exits
/// with libtest's status.
pub fn finish(
    passed: usize,
    failures: &[String],
    ignored: usize,
    filtered: usize,
    started: Instant,
) -> ! {
    for f in failures {
        println!("failure: {f}");
    }
    println!(
        "\ntest result: {}. {passed} passed; {} failed; {ignored} ignored; 0 measured; {filtered} filtered out; finished in {:.2}s",
        if failures.is_empty() { "ok" } else { "FAILED" },
        failures.len(),
        started.elapsed().as_secs_f64()
    );
    std::process::exit(if failures.is_empty() { 0 } else { 101 });
}

/// `inner` (program, arguments, environment, directory) run under valgrind: memory errors and
/// definite leaks make it exit with 99. Valgrind runs one thread at a time; `--fair-sched=yes`
/// hands the CPU round in turn, so a Lua loop that never calls in cannot starve a background
/// host's thread (with the default lock it could keep the CPU for seconds, and the stall test
/// of tests/lua/background.lua lost its peer in a CI run). ENet's blocks come straight from
/// malloc (`ENET_BLOCK_CACHE=off`, src/blocks.rs) unless `inner` sets it: valgrind sees a
/// use after free only in memory given back to free, not in a block the module's cache keeps.
pub fn under_valgrind(inner: &Command) -> Command {
    let mut cmd = Command::new("valgrind");
    cmd.env("ENET_BLOCK_CACHE", "off");
    // Scripts whose checks need a window of a few microseconds (tests/lua/background.lua) say
    // so when valgrind left them none, instead of failing (tests/sanitize sets it for TSan).
    cmd.env("ENET_TEST_SLOW", "1");
    cmd.args([
        "-q",
        "--fair-sched=yes",
        "--error-exitcode=99",
        "--leak-check=full",
        "--errors-for-leak-kinds=definite",
        "--show-leak-kinds=definite",
    ]);
    cmd.arg(inner.get_program()).args(inner.get_args());
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    if let Some(dir) = inner.get_current_dir() {
        cmd.current_dir(dir);
    }
    cmd
}

/// Makes sure this test binary can use `::1`, which the IPv6 tests need (docs/contract.md §6).
/// Where the machine has none (IPv6 switched off for the container's interfaces), the binary runs
/// again, whole, inside a fresh network namespace (`unshare -n`, then `ip link set lo up`): there
/// `lo` has `::1` and `127.0.0.1`, and every test of the suite talks over loopback only. That does
/// not return. `Err(why)` when neither works; the caller fails the IPv6 tests under CI and skips
/// them, loudly, elsewhere.
pub fn ensure_ipv6_loopback() -> Result<(), String> {
    if std::net::UdpSocket::bind("[::1]:0").is_ok() {
        return Ok(());
    }
    if std::env::var_os("ENET_TEST_NETNS").is_some() {
        return Err("no ::1 even inside a fresh network namespace (kernel without IPv6?)".into());
    }
    let up = "ip link set lo up";
    let probe = Command::new("unshare")
        .args(["-n", "sh", "-c", up])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        return Err(
            "this machine has no ::1, and `unshare -n` (root, iproute2) is not available \
                    to make a network namespace that has one"
                .into(),
        );
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    eprintln!(
        "no ::1 here: running {} again inside `unshare -n`",
        exe.display()
    );
    let status = Command::new("unshare")
        .args(["-n", "sh", "-c", &format!("{up} && exec \"$0\" \"$@\"")])
        .arg(&exe)
        .args(std::env::args_os().skip(1))
        .env("ENET_TEST_NETNS", "1")
        .status()
        .map_err(|e| format!("unshare: {e}"))?;
    std::process::exit(status.code().unwrap_or(101));
}
