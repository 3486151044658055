//! The module exports exactly one symbol, `luaopen_enet` (docs/contract.md §2): ENet's C functions
//! stay private, so a process may load another ENet (LÖVE's) beside ours without clashes.
mod common;

use std::process::Command;

#[test]
// `nm -D` output differs elsewhere; Linux is what CI checks, and elsewhere the test is reported
// as ignored rather than passed.
#[cfg_attr(not(target_os = "linux"), ignore)]
fn only_luaopen_enet_is_exported() {
    let profile = common::deps_dir().parent().unwrap().to_path_buf();
    let module = common::find_cdylib(&profile).expect("the enet cdylib next to the test binary");
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&module)
        .output()
        .expect("nm (binutils) is needed for this test");
    assert!(out.status.success(), "nm failed on {}", module.display());
    let text = String::from_utf8_lossy(&out.stdout);
    let exported: Vec<&str> = text
        .lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let (kind, name) = (parts.nth(1)?, parts.next()?);
            // code and data symbols only (weak and absolute ones come from the toolchain)
            matches!(kind, "T" | "D" | "B" | "R").then_some(name)
        })
        .collect();
    assert_eq!(
        exported,
        ["luaopen_enet"],
        "exported symbols of {}",
        module.display()
    );
}
