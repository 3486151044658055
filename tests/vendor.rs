//! The ENet tree that build.rs compiles is exactly the pristine upstream sources
//! (vendor/enet/upstream) plus the patches of vendor/enet/patches, applied in order: no edit to
//! the C core goes unrecorded. `vendor/enet/apply-patches --check` decides; it needs bash and
//! GNU patch, and their absence is a failure, never a skip. The upstream sources are the files
//! of the commit vendor/enet/UPSTREAM names (their sha256, computed here), and every prefix of
//! the series compiles (a C compiler is needed: `cc`, or `$CC`).
//!
//! None of it depends on the Lua flavour, so it runs with `--features lua54` only (as
//! tests/sim.rs): once per `tests/run-all`, not six times (26 s each on CI's 2 cores).
#![cfg(feature = "lua54")]
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn compiled_tree_is_upstream_plus_patches() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("bash")
        .arg(root.join("vendor/enet/apply-patches"))
        .arg("--check")
        .current_dir(root)
        .output()
        .expect("run bash vendor/enet/apply-patches --check");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "vendor/enet differs from upstream + patches \
         (run vendor/enet/apply-patches --diff, see PATCHES.md):\n{text}"
    );
    assert!(
        text.contains("vendor/enet is upstream + "),
        "unexpected output:\n{text}"
    );
}

#[test]
fn every_patch_has_a_section_in_patches_md() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let index = std::fs::read_to_string(root.join("vendor/enet/PATCHES.md")).expect("PATCHES.md");
    let mut names: Vec<String> = std::fs::read_dir(root.join("vendor/enet/patches"))
        .expect("vendor/enet/patches")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".patch"))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no patch in vendor/enet/patches");
    for (i, name) in names.iter().enumerate() {
        let stem = name.trim_end_matches(".patch");
        assert!(
            stem.starts_with(&format!("{:04}-", i + 1)),
            "patches are numbered 0001, 0002, ... without gaps: {name} is number {}",
            i + 1
        );
        assert!(
            index.contains(&format!("### {stem}")),
            "PATCHES.md has no section `### {stem}`"
        );
    }
}

/// `vendor/enet/UPSTREAM` (written by `vendor/enet/update-upstream`) names the upstream commit
/// and the sha256 of every file of vendor/enet/upstream: the files there must be exactly those,
/// byte for byte, and the same list as PATCHES.md's "Files taken". So "upstream/ is upstream" is
/// checked, not only said (`update-upstream --verify <clone>` compares with the commit itself).
#[test]
fn upstream_matches_its_manifest() {
    assert_eq!(
        hex(&sha256(b"")),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        hex(&sha256(&[b'a'; 1000])),
        "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("vendor/enet");
    let manifest = std::fs::read_to_string(root.join("UPSTREAM")).expect("vendor/enet/UPSTREAM");
    let mut commit = None;
    let mut version = None;
    let mut listed = BTreeMap::new();
    for line in manifest
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        match line.split_once(' ') {
            Some(("commit", c)) => commit = Some(c.to_owned()),
            Some(("version", v)) => version = Some(v.to_owned()),
            Some(("date", _)) => {}
            _ => {
                let (hash, path) = line
                    .split_once("  ")
                    .unwrap_or_else(|| panic!("UPSTREAM: not `sha256  path`: {line}"));
                assert!(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()));
                listed.insert(path.to_owned(), hash.to_owned());
            }
        }
    }
    let commit = commit.expect("UPSTREAM names no commit");
    assert!(commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit()));

    let mut found = Vec::new();
    walk(&root.join("upstream"), &mut found);
    let found: BTreeMap<String, String> = found
        .iter()
        .map(|p| {
            let rel = p.strip_prefix(root.join("upstream")).unwrap();
            let rel = rel.to_string_lossy().replace('\\', "/");
            (rel, hex(&sha256(&std::fs::read(p).unwrap())))
        })
        .collect();
    let names = |m: &BTreeMap<String, String>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&found),
        names(&listed),
        "vendor/enet/upstream holds other files than UPSTREAM lists"
    );
    let changed: Vec<&String> = listed
        .iter()
        .filter(|(path, hash)| found[*path] != **hash)
        .map(|(path, _)| path)
        .collect();
    assert!(
        changed.is_empty(),
        "vendor/enet/upstream is not upstream {commit}: {changed:?} differ from UPSTREAM's sha256 \
         (upstream/ is never edited; vendor/enet/update-upstream imports a commit)"
    );

    let index = std::fs::read_to_string(root.join("PATCHES.md")).expect("PATCHES.md");
    let taken: BTreeSet<String> = index
        .split_once("### Files taken")
        .and_then(|(_, rest)| rest.split("```").nth(1))
        .expect("PATCHES.md: a fenced list under ### Files taken")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_owned())
        .collect();
    assert_eq!(
        taken,
        listed.keys().cloned().collect::<BTreeSet<_>>(),
        "PATCHES.md's Files taken and UPSTREAM disagree"
    );
    assert!(
        index.contains(&format!("`{}`", &commit[..7])),
        "PATCHES.md's Origin does not name UPSTREAM's commit {}",
        &commit[..7]
    );
    let header = std::fs::read_to_string(root.join("upstream/include/enet/enet.h")).unwrap();
    let macro_value = |name: &str| {
        header
            .lines()
            .find_map(|l| l.strip_prefix(&format!("#define ENET_VERSION_{name} ")))
            .map(str::trim)
            .unwrap_or_else(|| panic!("enet.h has no ENET_VERSION_{name}"))
            .to_owned()
    };
    let macros = format!(
        "{}.{}.{}",
        macro_value("MAJOR"),
        macro_value("MINOR"),
        macro_value("PATCH")
    );
    assert_eq!(
        version.as_deref(),
        Some(macros.as_str()),
        "UPSTREAM's version"
    );
}

/// Every prefix of the patch series (upstream alone, upstream + 0001, + 0002, ...) is a C tree
/// that compiles, with the macros build.rs defines: each patch builds on its own, so a series
/// cut anywhere (a bisection, a patch dropped or sent upstream) still builds. `apply-patches
/// --stages` writes the trees; `cc -fsyntax-only` checks each (win32.c as well where
/// x86_64-w64-mingw32-gcc is installed; the test says when it is not).
#[test]
fn every_prefix_of_the_series_compiles() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let stages = Path::new(env!("CARGO_TARGET_TMPDIR")).join("vendor-stages");
    let _ = std::fs::remove_dir_all(&stages);
    let out = Command::new("bash")
        .arg(root.join("vendor/enet/apply-patches"))
        .arg("--stages")
        .arg(&stages)
        .output()
        .expect("run bash vendor/enet/apply-patches --stages");
    assert!(
        out.status.success(),
        "apply-patches --stages failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let defines = build_rs_defines(root);
    let mut dirs: Vec<_> = std::fs::read_dir(&stages)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    let patches = std::fs::read_dir(root.join("vendor/enet/patches"))
        .unwrap()
        .count();
    assert_eq!(dirs.len(), patches + 1, "one stage per patch, and upstream");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let mingw = "x86_64-w64-mingw32-gcc";
    let have_mingw = Command::new(mingw).arg("--version").output().is_ok();
    if !have_mingw {
        eprintln!("{mingw} is not installed: win32.c is not compiled at each stage");
    }
    // One stage's compiler errors (none: it compiles).
    let check = |dir: &PathBuf| -> Vec<String> {
        let mut failures = Vec::new();
        let mut sources: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".c") && n != "win32.c")
            .collect();
        sources.sort();
        let mut runs = vec![(cc.as_str(), sources, true)];
        if have_mingw {
            runs.push((mingw, vec!["win32.c".to_owned()], false));
        }
        for (compiler, files, unix) in runs {
            let mut cmd = Command::new(compiler);
            cmd.current_dir(dir).args([
                "-fsyntax-only",
                "-Iinclude",
                "-Werror=implicit-function-declaration",
                "-Werror=incompatible-pointer-types",
                "-Werror=int-conversion",
            ]);
            for (name, unix_only) in &defines {
                if unix || !unix_only {
                    cmd.arg(format!("-D{name}=1"));
                }
            }
            let out = cmd
                .args(&files)
                .output()
                .unwrap_or_else(|e| panic!("run {compiler}: {e}"));
            if !out.status.success() {
                failures.push(format!(
                    "{} ({compiler} {}):\n{}",
                    dir.file_name().unwrap().to_string_lossy(),
                    files.join(" "),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        failures
    };
    // The stages on as many threads as there are cores (the compiles took 44 s of CI's lua54
    // run one after the other).
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let (dirs, check) = (&dirs, &check);
                scope.spawn(move || {
                    dirs.iter()
                        .skip(w)
                        .step_by(workers)
                        .flat_map(check)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a stage's check panicked"))
            .collect()
    });
    assert!(
        failures.is_empty(),
        "stages of the series that do not compile:\n{}",
        failures.join("\n")
    );
    let _ = std::fs::remove_dir_all(&stages);
}

/// The macros build.rs defines for ENet (`HAS_*` and `_*_SOURCE`), read from build.rs itself so
/// that the two cannot drift apart, each with whether it is defined for Unix targets only (those
/// that build.rs lists after `unix.c`).
fn build_rs_defines(root: &Path) -> Vec<(String, bool)> {
    let text = std::fs::read_to_string(root.join("build.rs")).expect("build.rs");
    let unix_from = text.find("\"unix.c\"").expect("build.rs compiles unix.c");
    let unix_to = unix_from
        + text[unix_from..]
            .find("\n    }")
            .expect("the end of build.rs's Unix block");
    let mut defines = Vec::new();
    for (at, _) in text.match_indices('"') {
        let rest = &text[at + 1..];
        let Some(end) = rest.find('"') else { continue };
        let word = &rest[..end];
        let is_macro = (word.starts_with("HAS_")
            || (word.starts_with('_') && word.ends_with("_SOURCE")))
            && word.bytes().all(|b| b.is_ascii_uppercase() || b == b'_');
        if is_macro && !defines.iter().any(|(d, _)| d == word) {
            defines.push((word.to_owned(), at > unix_from && at < unix_to));
        }
    }
    assert!(
        defines.iter().any(|(d, _)| d == "HAS_GETADDRINFO"),
        "build.rs's defines not found: {defines:?}"
    );
    defines
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 (FIPS 180-4), so that the manifest check needs no tool and no crate.
fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in message.chunks(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 32];
    for (i, word) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&word.to_be_bytes());
    }
    out
}
