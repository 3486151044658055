//! Builds the vendored ENet C core (vendor/enet) into the module, and checks that the Rust view
//! of ENet's ABI (src/ffi.rs: struct layouts and constants) matches the C compiler's: with a
//! probe run at build time where the host can run target code, and always with a table compiled
//! for the target that the module compares at `require` time.
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const LUA_FEATURES: [&str; 6] = ["LUA51", "LUA52", "LUA53", "LUA54", "LUA55", "LUAJIT"];

fn main() {
    let enabled: Vec<_> = LUA_FEATURES
        .iter()
        .filter(|f| env::var_os(format!("CARGO_FEATURE_{f}")).is_some())
        .collect();
    if enabled.len() != 1 {
        panic!(
            "enet: select exactly one Lua flavour with --features, one of lua51, lua52, lua53, \
             lua54, lua55, luajit (for example `cargo build --release --features lua54`); \
             selected: {enabled:?}"
        );
    }

    let vendor = PathBuf::from("vendor/enet");
    let include = vendor.join("include");
    let target_os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let windows = target_os == "windows";

    let mut build = cc::Build::new();
    build.include(&include).warnings(false);
    // ENet's functions are private to the module (only luaopen_enet is exported): hidden
    // visibility lets the calls between them, and ours into them, skip the PLT.
    build.flag_if_supported("-fvisibility=hidden");
    for file in [
        "callbacks",
        "compress",
        "host",
        "list",
        "packet",
        "peer",
        "protocol",
    ] {
        build.file(vendor.join(format!("{file}.c")));
    }
    // Upstream's CMake and configure define this wherever <stddef.h> has offsetof (everywhere):
    // ENET_OFFSETOF (include/enet/utility.h) then uses it rather than a null-pointer expression.
    build.define("HAS_OFFSETOF", "1");
    if windows {
        build.file(vendor.join("win32.c"));
    } else {
        build.file(vendor.join("unix.c"));
        // unix.c picks its socket APIs from these (upstream turns them on for Apple only, and
        // leaves other systems to its configure script); every Unix we build for has them.
        // _DEFAULT_SOURCE: glibc and musl hide getaddrinfo, struct addrinfo and the IPv6 socket
        // types when CFLAGS asks for a strict -std; other systems ignore it.
        build.define("_DEFAULT_SOURCE", None);
        for flag in [
            "HAS_POLL",
            "HAS_FCNTL",
            "HAS_GETADDRINFO",
            "HAS_GETNAMEINFO",
            "HAS_INET_PTON",
            "HAS_INET_NTOP",
            "HAS_MSGHDR_FLAGS",
            "HAS_SOCKLEN_T",
        ] {
            build.define(flag, "1");
        }
    }
    let abi = Abi::read(Path::new("src/ffi.rs"));
    build.file(abi.write_target_table());
    build.compile("enet");

    if windows {
        println!("cargo:rustc-link-lib=ws2_32");
        println!("cargo:rustc-link-lib=winmm");
    }
    if target_os == "macos" || target_os == "ios" {
        // The Lua API is provided by the interpreter that loads the module.
        println!("cargo:rustc-cdylib-link-arg=-undefined");
        println!("cargo:rustc-cdylib-link-arg=dynamic_lookup");
    }
    println!("cargo:rerun-if-changed=vendor/enet");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/ffi.rs");

    abi.write_build_check(&include);
}

/// What src/ffi.rs assumes about ENet: every field of its `ENet*` structs and every `ENET_*`
/// constant, read from the file itself so that there is one list.
struct Abi {
    /// `(struct, [fields])`, in file order; a struct declared twice (per platform) once.
    structs: Vec<(String, Vec<String>)>,
    constants: Vec<String>,
}

impl Abi {
    fn read(path: &Path) -> Abi {
        let text = fs::read_to_string(path).expect("read src/ffi.rs");
        let mut abi = Abi {
            structs: Vec::new(),
            constants: Vec::new(),
        };
        let mut current: Option<(String, Vec<String>)> = None;
        for line in text.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("pub struct ENet") {
                let name = format!("ENet{}", rest.trim_end_matches('{').trim());
                current = Some((name, Vec::new()));
            } else if let Some((name, fields)) = current.as_mut() {
                if line == "}" {
                    let done = (std::mem::take(name), std::mem::take(fields));
                    current = None;
                    if !done.1.is_empty() && !abi.structs.iter().any(|(n, _)| *n == done.0) {
                        abi.structs.push(done);
                    }
                } else if let Some(field) = line.strip_prefix("pub ") {
                    let field = field.split(':').next().unwrap_or_default().trim();
                    fields.push(field.trim_start_matches("r#").to_owned());
                }
            } else if let Some(rest) = line.strip_prefix("pub const ENET_") {
                let name = rest.split(':').next().unwrap_or_default().trim();
                abi.constants.push(format!("ENET_{name}"));
            }
        }
        assert!(
            abi.structs.iter().any(|(n, _)| n == "ENetPeer") && !abi.constants.is_empty(),
            "build.rs could not read the structs and constants of src/ffi.rs"
        );
        abi
    }

    /// Every checked item: a label, its C expression and its Rust expression.
    fn items(&self) -> Vec<(String, String, String)> {
        let mut items = Vec::new();
        for (ty, fields) in &self.structs {
            items.push((
                format!("sizeof({ty})"),
                format!("sizeof({ty})"),
                format!("::core::mem::size_of::<{ty}>()"),
            ));
            for f in fields {
                let rust_field = if f == "type" { "r#type" } else { f };
                items.push((
                    format!("offsetof({ty}, {f})"),
                    format!("offsetof({ty}, {f})"),
                    format!("::core::mem::offset_of!({ty}, {rust_field})"),
                ));
            }
        }
        for c in &self.constants {
            items.push((c.clone(), format!("({c})"), c.clone()));
        }
        items
    }

    /// The C table `enet_rs_layout` (compiled for the target into the ENet library) and its
    /// Rust twin `LAYOUT_EXPECTED`; returns the C file to compile.
    fn write_target_table(&self) -> PathBuf {
        let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
        let items = self.items();
        let mut c = String::from(
            "#include <stddef.h>\n#include <enet/enet.h>\n\
             /* Generated by build.rs from src/ffi.rs. */\n\
             const unsigned long long enet_rs_layout[] = {\n",
        );
        let mut rust = format!(
            "const LAYOUT_EXPECTED: [(&str, u64); {}] = [\n",
            items.len()
        );
        for (label, c_expr, rust_expr) in &items {
            writeln!(c, "  (unsigned long long)({c_expr}),").unwrap();
            writeln!(rust, "    ({label:?}, ({rust_expr}) as u64),").unwrap();
        }
        c.push_str("};\n");
        rust.push_str("];\n");
        let c_file = out.join("layout_table.c");
        fs::write(&c_file, c).expect("write layout_table.c");
        fs::write(out.join("layout_table.rs"), rust).expect("write layout_table.rs");
        c_file
    }

    /// Compiles and runs a C probe that prints every item, and turns its output into
    /// compile-time assertions (an empty file where the probe cannot run: cross and Windows
    /// builds, which the target table covers at `require` time).
    fn write_build_check(&self, include: &Path) {
        let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
        let check = out.join("layout_check.rs");
        let host = env::var("HOST").unwrap_or_default();
        let target = env::var("TARGET").unwrap_or_default();
        if host != target || target.contains("windows") {
            println!(
                "cargo:warning=enet: ABI checked at require time only (cross or Windows build)"
            );
            fs::write(&check, "").expect("write layout_check.rs");
            return;
        }
        let items = self.items();
        let mut c = String::from(
            "#include <stdio.h>\n#include <stddef.h>\n#include <enet/enet.h>\nint main(void) {\n",
        );
        for (_, c_expr, _) in &items {
            writeln!(c, "  printf(\"%llu\\n\", (unsigned long long)({c_expr}));").unwrap();
        }
        c.push_str("  return 0;\n}\n");
        let src = out.join("layout.c");
        let exe = out.join("layout");
        fs::write(&src, c).expect("write layout.c");

        let compiler = cc::Build::new().get_compiler();
        let status = compiler
            .to_command()
            .arg("-I")
            .arg(include)
            .arg(&src)
            .arg("-o")
            .arg(&exe)
            .status()
            .expect("run the C compiler for the layout check");
        assert!(status.success(), "enet: compiling the layout probe failed");
        let output = Command::new(&exe).output().expect("run the layout probe");
        assert!(output.status.success(), "enet: the layout probe failed");

        let values: Vec<String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        assert_eq!(values.len(), items.len(), "layout probe: wrong line count");
        let mut rust = String::new();
        for ((label, _, rust_expr), value) in items.iter().zip(&values) {
            writeln!(
                rust,
                "const _: () = assert!(({rust_expr}) as u64 == {value}, \"src/ffi.rs disagrees with enet.h on {label}\");"
            )
            .unwrap();
        }
        fs::write(&check, rust).expect("write layout_check.rs");
    }
}
