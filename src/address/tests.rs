//! Unit tests of address.rs: parsing, resolving and printing, against the reference's rules.
use super::*;

fn port(text: &str) -> u16 {
    parse(text.as_bytes()).unwrap().port
}

fn v6(text: &str) -> Ipv6Addr {
    text.parse().unwrap()
}

fn enet(host: [u8; 16], port: u16, scope: u32) -> ENetAddress {
    ENetAddress {
        host,
        port,
        scopeID: scope,
    }
}

fn v4(a: [u8; 4], port: u16) -> ENetAddress {
    enet(Ipv4Addr::from(a).to_ipv6_mapped().octets(), port, 0)
}

fn shown(a: &ENetAddress) -> String {
    Display(a).to_string()
}

#[test]
fn splits_at_the_first_colon() {
    let p = parse(b"127.0.0.1:1235:34").unwrap();
    assert_eq!(p.host, Host::Name(b"127.0.0.1"));
    assert_eq!(p.port, 1235);
    assert_eq!(
        parse(b"*:*").unwrap(),
        Parsed {
            host: Host::Any,
            port: 0
        }
    );
}

#[test]
fn ports_follow_atoi_then_wrap_to_16_bits() {
    assert_eq!(port("h: 1234x"), 1234);
    assert_eq!(port("h:abc"), 0);
    assert_eq!(port("h:70000"), 4464);
    assert_eq!(port("h:-1"), 65535);
    assert_eq!(port("localhost:112344"), 46808);
    assert_eq!(port("h:99999999999"), 59391);
    assert_eq!(port("h:9999999999999999999999999"), 65535);
    assert_eq!(port("h:-9999999999999999999999999"), 0);
    assert_eq!(port(&format!("h:{:0>31}", 4321)), 4321);
    assert_eq!(port("[::1]:112344"), 46808);
    assert_eq!(port("[::1]: 80x"), 80);
}

#[test]
fn errors_in_the_reference_order() {
    assert_eq!(parse(b""), Err(AddressError::Parse));
    assert_eq!(parse(b":80"), Err(AddressError::Parse));
    assert_eq!(parse(b"localhost"), Err(AddressError::MissingPort));
    assert_eq!(parse(b"localhost:"), Err(AddressError::MissingPort));
    assert_eq!(parse(b"123"), Err(AddressError::MissingPort));
}

#[test]
fn bracketed_ipv6_literals() {
    let p = parse(b"[::1]:6789").unwrap();
    assert_eq!(p.host, Host::Ipv6(Ipv6Addr::LOCALHOST, Zone::None));
    assert_eq!(p.port, 6789);
    assert_eq!(
        parse(b"[2001:DB8::7]:*").unwrap().host,
        Host::Ipv6(v6("2001:db8::7"), Zone::None)
    );
    let any = parse(b"[::]:80").unwrap();
    assert!(any.is_ipv6_any());
    assert!(!parse(b"*:80").unwrap().is_ipv6_any());
    assert!(!parse(b"[::1]:80").unwrap().is_ipv6_any());
    assert_eq!(
        parse(b"[::ffff:1.2.3.4]:80").unwrap().host,
        Host::Ipv6(v6("::ffff:1.2.3.4"), Zone::None)
    );
}

#[test]
fn zones_by_name_or_number() {
    assert_eq!(
        parse(b"[fe80::1%eth0]:6789").unwrap().host,
        Host::Ipv6(v6("fe80::1"), Zone::Name(b"eth0"))
    );
    assert_eq!(
        parse(b"[fe80::1%2]:6789").unwrap().host,
        Host::Ipv6(v6("fe80::1"), Zone::Index(2))
    );
    assert_eq!(parse(b"[fe80::1%]:1"), Err(AddressError::Zone));
    assert_eq!(parse(b"[fe80::1%99999999999]:1"), Err(AddressError::Zone));
    // Lookups by name: the loopback interface exists everywhere we test.
    let lo = if cfg!(target_os = "linux") {
        "lo"
    } else {
        "lo0"
    };
    let a = resolve(format!("[fe80::1%{lo}]:7").as_bytes(), Use::Connect).unwrap();
    assert_ne!(a.scopeID, 0);
    assert_eq!(shown(&a), format!("[fe80::1%{lo}]:7"));
    assert_eq!(
        resolve(b"[fe80::1%no-such-if0]:7", Use::Connect),
        Err(AddressError::Zone)
    );
    // An index no interface has prints as the number.
    let b = resolve(b"[fe80::1%4000000000]:7", Use::Connect).unwrap();
    assert_eq!(b.scopeID, 4_000_000_000);
    assert_eq!(shown(&b), "[fe80::1%4000000000]:7");
}

#[test]
fn every_malformed_form_is_a_clean_error() {
    let cases: &[(&[u8], AddressError)] = &[
        (b"::1:80", AddressError::Unbracketed),
        (b"fe80::1:80", AddressError::Unbracketed),
        (b"::", AddressError::Unbracketed),
        (b"[::1:80", AddressError::Unclosed),
        (b"[", AddressError::Unclosed),
        (b"[]:80", AddressError::NotIpv6),
        (b"[]", AddressError::NotIpv6),
        (b"[::1]80", AddressError::AfterBracket),
        (b"[::1]]:80", AddressError::AfterBracket),
        (b"[::1]", AddressError::MissingPort),
        (b"[::1]:", AddressError::MissingPort),
        (b"[localhost]:80", AddressError::NotIpv6),
        (b"[*]:80", AddressError::NotIpv6),
        (b"[1.2.3.4]:80", AddressError::NotIpv6),
        (b"[1::2::3]:80", AddressError::NotIpv6),
        (b"[::1 ]:80", AddressError::NotIpv6),
        (b"[[::1]]:80", AddressError::NotIpv6),
        (b"[\xff::1]:80", AddressError::NotIpv6),
        (b"[fe80::1%]:80", AddressError::Zone),
    ];
    for (text, err) in cases {
        assert_eq!(parse(text), Err(*err), "{}", String::from_utf8_lossy(text));
        assert!(
            err.message()
                .to_bytes()
                .starts_with(b"Failed to parse address")
                || err.message() == c"Missing port in address"
        );
    }
}

#[test]
fn length_limits_without_overrun() {
    let h127 = "a".repeat(127);
    let h128 = "a".repeat(128);
    assert!(parse(format!("{h127}:1").as_bytes()).is_ok());
    assert_eq!(
        parse(format!("{h128}:1").as_bytes()),
        Err(AddressError::TooLong)
    );
    assert_eq!(parse(h128.as_bytes()), Err(AddressError::TooLong));
    assert_eq!(
        parse(format!("h:{}", "1".repeat(32)).as_bytes()),
        Err(AddressError::TooLong)
    );
    assert!(parse(format!("h:{}", "1".repeat(31)).as_bytes()).is_ok());
    // Bracketed: the text between the brackets is the host part.
    let zone = "z".repeat(128 - "fe80::1%".len());
    assert_eq!(
        parse(format!("[fe80::1%{zone}]:1").as_bytes()),
        Err(AddressError::TooLong)
    );
    assert_eq!(
        parse(format!("[::1]:{}", "1".repeat(32)).as_bytes()),
        Err(AddressError::TooLong)
    );
    assert_eq!(
        parse(format!("[{}", ":".repeat(200)).as_bytes()),
        Err(AddressError::TooLong)
    );
}

#[test]
fn stops_at_nul() {
    assert_eq!(parse(b"127.0.0.1:1236\0zzz").unwrap().port, 1236);
    assert_eq!(parse(b"\x00127.0.0.1:1"), Err(AddressError::Parse));
    assert_eq!(parse(b"[::1]:80\0x").unwrap().port, 80);
    assert_eq!(parse(b"[::1\0]:80"), Err(AddressError::Unclosed));
}

#[test]
fn star_binds_any_but_connects_to_ipv4_zero() {
    let bind = resolve(b"*:9", Use::Bind).unwrap();
    assert_eq!(bind.host, [0; 16]);
    let connect = resolve(b"*:9", Use::Connect).unwrap();
    assert_eq!(connect, v4([0, 0, 0, 0], 9));
    assert_eq!(shown(&bind), "0.0.0.0:9");
    assert_eq!(shown(&connect), "0.0.0.0:9");
}

#[test]
fn ipv4_and_mapped_print_as_a_dotted_quad() {
    assert_eq!(shown(&v4([127, 0, 0, 1], 5678)), "127.0.0.1:5678");
    assert_eq!(shown(&ENetAddress::default()), "0.0.0.0:0");
    assert_eq!(shown(&v4([255, 255, 255, 255], 1)), "255.255.255.255:1");
    assert_eq!(Ip(&v4([10, 0, 0, 1], 1)).to_string(), "10.0.0.1");
    assert!(is_ipv4(&v4([1, 2, 3, 4], 1)));
    assert!(is_ipv4(&ENetAddress::default()));
    // Only the ::ffff: prefix is IPv4; ::1.2.3.4 (deprecated "compatible") is IPv6.
    let compat = enet(v6("::1.2.3.4").octets(), 1, 0);
    assert!(!is_ipv4(&compat));
    assert_eq!(shown(&compat), "[::102:304]:1");
}

#[test]
fn ipv6_prints_in_rfc_5952_form() {
    let cases = [
        ("::1", "::1"),
        ("2001:0DB8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("2001:db8:0:0:aaaa:0:0:0", "2001:db8:0:0:aaaa::"),
        ("fe80:0:0:0:1:0:0:0", "fe80::1:0:0:0"),
        ("0:0:0:0:0:0:0:2", "::2"),
        ("64:ff9b::1.2.3.4", "64:ff9b::102:304"),
    ];
    for (input, want) in cases {
        let a = enet(v6(input).octets(), 6789, 0);
        assert_eq!(Ip(&a).to_string(), want, "{input}");
        assert_eq!(shown(&a), format!("[{want}]:6789"));
    }
}

#[test]
fn a_bracketed_address_with_its_zone_fits_in_a_text() {
    let widest = enet([0xff; 16], 65535, u32::MAX);
    let text = shown(&widest);
    assert_eq!(
        text,
        "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535"
    );
    assert!(text.len() + 16 < 200, "Text holds 200 bytes");
}

#[test]
fn link_local_needs_a_zone() {
    assert_eq!(
        resolve(b"[fe80::1]:80", Use::Connect),
        Err(AddressError::NeedsZone)
    );
    assert_eq!(resolve(b"[fe80::1%1]:80", Use::Bind).unwrap().scopeID, 1);
    assert_eq!(
        resolve(b"[2001:db8::1]:80", Use::Connect).unwrap().scopeID,
        0
    );
}

#[test]
fn a_socket_reaches_only_its_families() {
    use crate::ffi::{
        ENET_ADDRESS_FAMILY_DUAL as DUAL, ENET_ADDRESS_FAMILY_IPV4 as IPV4,
        ENET_ADDRESS_FAMILY_IPV6 as IPV6,
    };
    let four = v4([127, 0, 0, 1], 1);
    let six = enet(Ipv6Addr::LOCALHOST.octets(), 1, 0);
    assert_eq!(reachable(DUAL, &four), Ok(()));
    assert_eq!(reachable(DUAL, &six), Ok(()));
    assert_eq!(reachable(IPV4, &four), Ok(()));
    assert_eq!(reachable(IPV4, &six), Err(AddressError::Ipv6FromIpv4Host));
    assert_eq!(reachable(IPV6, &six), Ok(()));
    assert_eq!(reachable(IPV6, &four), Err(AddressError::Ipv4FromIpv6Host));
}

#[test]
fn link_local_detection() {
    assert!(is_link_local(&enet(v6("fe80::1").octets(), 0, 0)));
    assert!(is_link_local(&enet(v6("febf::1").octets(), 0, 0)));
    assert!(!is_link_local(&enet(v6("fec0::1").octets(), 0, 0)));
    assert!(!is_link_local(&enet(v6("::1").octets(), 0, 0)));
}
