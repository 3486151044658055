//! Builds the vendored ENet C core (vendor/enet) into the module, and checks that the Rust view
//! of ENet's structs (src/ffi.rs) matches the C compiler's.
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const LUA_FEATURES: [&str; 6] = ["LUA51", "LUA52", "LUA53", "LUA54", "LUA55", "LUAJIT"];

/// Every struct field src/ffi.rs declares, checked against C's `offsetof`.
const LAYOUT: &[(&str, &[&str])] = &[
    ("ENetAddress", &["host", "port"]),
    (
        "ENetPacket",
        &[
            "referenceCount",
            "flags",
            "data",
            "dataLength",
            "freeCallback",
            "userData",
        ],
    ),
    (
        "ENetEvent",
        &["type", "peer", "channelID", "data", "packet"],
    ),
    ("ENetBuffer", &["data", "dataLength"]),
    (
        "ENetCompressor",
        &["context", "compress", "decompress", "destroy"],
    ),
    (
        "ENetPeer",
        &[
            "dispatchList",
            "host",
            "outgoingPeerID",
            "incomingPeerID",
            "connectID",
            "outgoingSessionID",
            "incomingSessionID",
            "address",
            "data",
            "state",
            "channels",
            "channelCount",
            "incomingBandwidth",
            "outgoingBandwidth",
            "incomingBandwidthThrottleEpoch",
            "outgoingBandwidthThrottleEpoch",
            "incomingDataTotal",
            "outgoingDataTotal",
            "lastSendTime",
            "lastReceiveTime",
            "nextTimeout",
            "earliestTimeout",
            "packetLossEpoch",
            "packetsSent",
            "packetsLost",
            "packetLoss",
            "packetLossVariance",
            "packetThrottle",
            "packetThrottleLimit",
            "packetThrottleCounter",
            "packetThrottleEpoch",
            "packetThrottleAcceleration",
            "packetThrottleDeceleration",
            "packetThrottleInterval",
            "pingInterval",
            "timeoutLimit",
            "timeoutMinimum",
            "timeoutMaximum",
            "lastRoundTripTime",
            "lowestRoundTripTime",
            "lastRoundTripTimeVariance",
            "highestRoundTripTimeVariance",
            "roundTripTime",
            "roundTripTimeVariance",
            "mtu",
            "windowSize",
            "reliableDataInTransit",
            "outgoingReliableSequenceNumber",
            "acknowledgements",
            "sentReliableCommands",
            "outgoingSendReliableCommands",
            "outgoingCommands",
            "dispatchedCommands",
            "flags",
            "reserved",
            "incomingUnsequencedGroup",
            "outgoingUnsequencedGroup",
            "unsequencedWindow",
            "eventData",
            "totalWaitingData",
            "disconnectReason",
        ],
    ),
    (
        "ENetHost",
        &[
            "socket",
            "address",
            "incomingBandwidth",
            "outgoingBandwidth",
            "bandwidthThrottleEpoch",
            "mtu",
            "randomSeed",
            "recalculateBandwidthLimits",
            "peers",
            "peerCount",
            "channelLimit",
            "serviceTime",
            "dispatchQueue",
            "totalQueued",
            "packetSize",
            "headerFlags",
            "commands",
            "commandCount",
            "buffers",
            "bufferCount",
            "checksum",
            "compressor",
            "packetData",
            "receivedAddress",
            "receivedData",
            "receivedDataLength",
            "totalSentData",
            "totalSentPackets",
            "totalReceivedData",
            "totalReceivedPackets",
            "intercept",
            "connectedPeers",
            "bandwidthLimitedPeers",
            "duplicatePeers",
            "maximumPacketSize",
            "maximumWaitingData",
        ],
    ),
];

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
    if windows {
        build.file(vendor.join("win32.c"));
    } else {
        build.file(vendor.join("unix.c"));
        // unix.c picks its socket APIs from these; every platform we build for has them.
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

    write_layout_check(&include);
}

/// Compiles and runs a C program that prints `offsetof`/`sizeof` of every field in LAYOUT, and
/// turns its output into compile-time assertions on the Rust structs.
fn write_layout_check(include: &Path) {
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let check = out.join("layout_check.rs");
    let host = env::var("HOST").unwrap_or_default();
    let target = env::var("TARGET").unwrap_or_default();
    if host != target || target.contains("windows") {
        println!("cargo:warning=enet: struct layout not checked (cross or MSVC build)");
        fs::write(&check, "").expect("write layout_check.rs");
        return;
    }

    let mut c = String::from("#include <stdio.h>\n#include <stddef.h>\n#include <enet/enet.h>\n");
    c.push_str("int main(void) {\n");
    for (ty, fields) in LAYOUT {
        writeln!(c, "  printf(\"{ty} size %zu\\n\", sizeof({ty}));").unwrap();
        for f in *fields {
            writeln!(c, "  printf(\"{ty} {f} %zu\\n\", offsetof({ty}, {f}));").unwrap();
        }
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

    let mut rust = String::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let parts: Vec<&str> = line.split(' ').collect();
        let [ty, field, value] = parts[..] else {
            panic!("layout probe: bad line {line:?}")
        };
        let expr = if field == "size" {
            format!("::core::mem::size_of::<{ty}>()")
        } else {
            let rust_field = if field == "type" { "r#type" } else { field };
            format!("::core::mem::offset_of!({ty}, {rust_field})")
        };
        writeln!(
            rust,
            "const _: () = assert!({expr} == {value}, \"ffi.rs disagrees with enet.h on {ty}.{field}\");"
        )
        .unwrap();
    }
    fs::write(&check, rust).expect("write layout_check.rs");
}
