//! Attack review 2 of the connect-flood defence (vendor patches 0023-0031, docs/handshake.md):
//! cases that found something, each named after what it attacks.
use crate::flood::{connect_datagram, joins_under, Flood, Sources};
use crate::{Ctx, Outcome};
use std::net::Ipv4Addr;

/// One forged endpoint (127.1.0.1, one port: a spoofer needs no answer) sends fresh CONNECTs
/// (new connect IDs, random client peer ids) to a host of 4,095 slots at 50,000/s. The half-open
/// path has no limit per endpoint: its first ~2,048 CONNECTs each make an unverified peer, all in
/// the endpoint index's one chain, and every later CONNECT of that endpoint walks that chain
/// (enet_protocol_endpoint_state; any datagram of it to a slot not its own walks it too, in
/// enet_protocol_find_alias). Measured in C on this 2-core machine: 26-63 us a CONNECT from one
/// endpoint against ~5 us from 256. Three honest clients join one after another, each within
/// 2 s (guarantee 2: no off-path attacker decides who joins).
pub fn one_endpoint_chain(ctx: &Ctx) -> Outcome {
    let attack = |addr| {
        let from = Sources::Ports(Ipv4Addr::new(127, 1, 0, 1), 1);
        Flood::start_with(addr, 50_000, from, ctx.seed_for("one-endpoint"), |rng| {
            connect_datagram(
                rng.below(0xFFF) as u16,
                rng.next() as u32,
                rng.next() as u16,
            )
        })
    };
    let server_env = [("ENET_PEER_COUNT", "4095".to_string())];
    let client_env = [("ENET_GAP", "200".to_string())];
    joins_under(
        ctx,
        "one-endpoint",
        &server_env,
        attack,
        (3, 2000),
        &client_env,
    )
}

/// A host of 4,095 slots that refuses connections (`host:refuse_connections(true)` once its 4
/// echoers are in; a server in maintenance, or full by its own rule) under 50,000 forged
/// CONNECTs/s from 300 sources. Refusing holds duplicatePeers at 0, and the half-open path asked
/// enet_protocol_source_full before anything else, which walks every slot to count the source's
/// peers before finding that 0 allows none: every forged CONNECT walked 4,095 slots (measured in
/// C: 40-63 us a CONNECT with 3,000 slots in use, against 13-20 us for one that is answered
/// from a record). Nothing is created, so no pressure ever moves the flood to the record path.
/// The connected peers' echoes must stay within 250 ms at the 99th percentile.
pub fn refusing_4095_50k(ctx: &Ctx) -> Outcome {
    crate::flood::echo_under(
        ctx,
        "refusing-4095",
        &[
            ("ENET_PEER_COUNT", "4095".to_string()),
            ("ENET_REFUSE_AT", "4".to_string()),
        ],
        |addr| Flood::start(addr, 50_000, 300, ctx.seed_for("refusing-4095")),
        250,
    )
}
