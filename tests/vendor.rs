//! The ENet tree that build.rs compiles is exactly the pristine upstream sources
//! (vendor/enet/upstream) plus the patches of vendor/enet/patches, applied in order: no edit to
//! the C core goes unrecorded. `vendor/enet/apply-patches --check` decides; it needs bash and
//! GNU patch, and their absence is a failure, never a skip.
use std::path::Path;
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
