//! `"host:port"` strings: parsing with the reference's rules and texts (docs/api.md, "Addresses")
//! plus bracketed IPv6 literals (`"[::1]:6789"`, `"[fe80::1%eth0]:6789"`), resolving through
//! ENet, and formatting: IPv4 (and IPv4-mapped) addresses as `a.b.c.d:port`, IPv6 addresses as
//! `[addr]:port` in RFC 5952 form.
//!
//! An `ENetAddress` holds a 16-byte IPv6 host: an IPv4 address a.b.c.d is `::ffff:a.b.c.d`
//! (vendor/enet/patches/0019-ipv6-address.patch), and all zeros is the "any" address.
use crate::ffi::{enet_address_set_host, ENetAddress};
use std::ffi::CStr;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Host parts of 128 characters or more, and port parts of 32 or more, are refused (the
/// reference's buffer sizes, without its overrun). For a bracketed host the host part is the
/// text between the brackets.
const MAX_HOST: usize = 128;
const MAX_PORT: usize = 32;

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum AddressError {
    TooLong,
    Parse,
    /// An IPv6 address written without brackets (`::1:80`).
    Unbracketed,
    /// `[` without `]`.
    Unclosed,
    /// `]` followed by something other than `:`.
    AfterBracket,
    /// Brackets around something that is not an IPv6 address (`[]`, `[localhost]`).
    NotIpv6,
    /// An empty zone, or one that names no interface of this machine.
    Zone,
    /// A link-local IPv6 address without a zone: no interface to reach it through.
    NeedsZone,
    /// An IPv6 destination for a host whose socket is IPv4 only.
    Ipv6FromIpv4Host,
    /// An IPv4 destination for a host whose socket is IPv6 only.
    Ipv4FromIpv6Host,
    MissingPort,
    Resolve,
}

impl AddressError {
    pub fn message(self) -> &'static CStr {
        match self {
            AddressError::TooLong => c"Hostname too long",
            AddressError::Parse => c"Failed to parse address",
            AddressError::Unbracketed => {
                c"Failed to parse address: write IPv6 addresses in brackets, as in [::1]:6789"
            }
            AddressError::Unclosed => c"Failed to parse address: '[' without ']'",
            AddressError::AfterBracket => {
                c"Failed to parse address: ']' must be followed by ':port'"
            }
            AddressError::NotIpv6 => {
                c"Failed to parse address: brackets must hold an IPv6 address, as in [::1]:6789"
            }
            AddressError::Zone => {
                c"Failed to parse address: the zone after '%' names no network interface"
            }
            AddressError::NeedsZone => {
                c"Failed to parse address: a link-local IPv6 address needs a zone, as in [fe80::1%eth0]:6789"
            }
            AddressError::Ipv6FromIpv4Host => {
                c"Cannot connect to an IPv6 address from an IPv4-only host (bound to an IPv4 address, or this system has no IPv6)"
            }
            AddressError::Ipv4FromIpv6Host => {
                c"Cannot connect to an IPv4 address from an IPv6-only host (bound to an IPv6 address)"
            }
            AddressError::MissingPort => c"Missing port in address",
            AddressError::Resolve => c"Failed to resolve host name",
        }
    }
}

/// The zone of a bracketed IPv6 literal (`%eth0`, `%2`).
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Zone<'a> {
    None,
    Index(u32),
    Name(&'a [u8]),
}

/// The host part of an address string.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Host<'a> {
    /// `*`: any address.
    Any,
    /// A host name or an IPv4 literal, resolved by ENet.
    Name(&'a [u8]),
    /// A bracketed IPv6 literal.
    Ipv6(Ipv6Addr, Zone<'a>),
}

/// An address string split into its parts, before name resolution.
#[derive(Debug, PartialEq, Eq)]
pub struct Parsed<'a> {
    pub host: Host<'a>,
    pub port: u16,
}

impl Parsed<'_> {
    /// `[::]`: the IPv6 "any" address, written out (as opposed to `*`).
    pub fn is_ipv6_any(&self) -> bool {
        matches!(self.host, Host::Ipv6(a, _) if a.is_unspecified())
    }
}

/// What an address is for: `*` binds every local address (`::`, dual stack), but as a
/// destination it keeps meaning the IPv4 `0.0.0.0` it always meant.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Use {
    Bind,
    Connect,
}

/// Splits at the first `:` (or after `]` for a bracketed IPv6 literal), checks the parts in the
/// reference's order (length, empty host, empty port) and converts the port.
pub fn parse(text: &[u8]) -> Result<Parsed<'_>, AddressError> {
    // The reference reads a C string: everything from the first NUL on is ignored.
    let text = text.split(|&b| b == 0).next().unwrap_or_default();
    let (host, port) = match text.strip_prefix(b"[") {
        Some(rest) => split_bracketed(rest)?,
        None => split_plain(text)?,
    };
    let port = match port {
        b"*" => 0,
        digits => atoi(digits) as u16,
    };
    Ok(Parsed { host, port })
}

/// `host:port`, as the reference splits it.
fn split_plain(text: &[u8]) -> Result<(Host<'_>, &[u8]), AddressError> {
    let (host, port) = match text.iter().position(|&b| b == b':') {
        Some(colon) => (&text[..colon], &text[colon + 1..]),
        None => (text, &text[text.len()..]),
    };
    if host.len() >= MAX_HOST || port.len() >= MAX_PORT {
        return Err(AddressError::TooLong);
    }
    // `::1:80`, `fe80::1:80`: an IPv6 address whose first colon would be taken as the port's.
    if text.windows(2).any(|w| w == b"::") {
        return Err(AddressError::Unbracketed);
    }
    if host.is_empty() {
        return Err(AddressError::Parse);
    }
    if port.is_empty() {
        return Err(AddressError::MissingPort);
    }
    let host = if host == b"*" {
        Host::Any
    } else {
        Host::Name(host)
    };
    Ok((host, port))
}

/// `[v6addr%zone]:port`, the text after `[`.
fn split_bracketed(rest: &[u8]) -> Result<(Host<'_>, &[u8]), AddressError> {
    let Some(close) = rest.iter().position(|&b| b == b']') else {
        return Err(if rest.len() >= MAX_HOST {
            AddressError::TooLong
        } else {
            AddressError::Unclosed
        });
    };
    let (inside, after) = (&rest[..close], &rest[close + 1..]);
    let port = after.get(1..).unwrap_or_default();
    if inside.len() >= MAX_HOST || port.len() >= MAX_PORT {
        return Err(AddressError::TooLong);
    }
    let host = ipv6_literal(inside)?;
    match after.first() {
        None => Err(AddressError::MissingPort),
        Some(b':') if port.is_empty() => Err(AddressError::MissingPort),
        Some(b':') => Ok((host, port)),
        Some(_) => Err(AddressError::AfterBracket),
    }
}

/// The text between the brackets: an IPv6 address, optionally `%zone` (a number or an
/// interface name).
fn ipv6_literal(inside: &[u8]) -> Result<Host<'_>, AddressError> {
    let (addr, zone) = match inside.iter().position(|&b| b == b'%') {
        Some(at) => (&inside[..at], Some(&inside[at + 1..])),
        None => (inside, None),
    };
    let addr = std::str::from_utf8(addr)
        .ok()
        .and_then(|a| a.parse::<Ipv6Addr>().ok())
        .ok_or(AddressError::NotIpv6)?;
    let zone = match zone {
        None => Zone::None,
        Some([]) => return Err(AddressError::Zone),
        Some(z) if z.iter().all(u8::is_ascii_digit) => std::str::from_utf8(z)
            .ok()
            .and_then(|z| z.parse().ok())
            .map(Zone::Index)
            .ok_or(AddressError::Zone)?,
        Some(z) => Zone::Name(z),
    };
    Ok(Host::Ipv6(addr, zone))
}

/// glibc's `atoi`: optional leading blanks and sign, digits up to the first non-digit, no digits
/// is 0. Accumulates in 64 bits and saturates as `strtol` does, instead of overflowing.
pub fn atoi(s: &[u8]) -> i64 {
    let mut rest = s;
    while let [b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r', tail @ ..] = rest {
        rest = tail;
    }
    let negative = match rest {
        [b'-', tail @ ..] => {
            rest = tail;
            true
        }
        [b'+', tail @ ..] => {
            rest = tail;
            false
        }
        _ => false,
    };
    let mut value: i64 = 0;
    for &b in rest.iter().take_while(|b| b.is_ascii_digit()) {
        let digit = i64::from(b - b'0');
        value = if negative {
            value.saturating_mul(10).saturating_sub(digit)
        } else {
            value.saturating_mul(10).saturating_add(digit)
        };
    }
    value
}

/// Parses and resolves (blocking DNS, as ENet does) into an `ENetAddress`.
pub fn resolve(text: &[u8], purpose: Use) -> Result<ENetAddress, AddressError> {
    to_enet(&parse(text)?, purpose)
}

/// The `ENetAddress` of a parsed address: host names through ENet (IPv4 first), IPv6 literals
/// with their zone's interface index.
pub fn to_enet(parsed: &Parsed<'_>, purpose: Use) -> Result<ENetAddress, AddressError> {
    let mut address = ENetAddress {
        port: parsed.port,
        ..ENetAddress::default()
    };
    match parsed.host {
        Host::Any if purpose == Use::Bind => {}
        Host::Any => address.host = Ipv4Addr::UNSPECIFIED.to_ipv6_mapped().octets(),
        Host::Name(host) => {
            let name = c_string(host).ok_or(AddressError::TooLong)?;
            // SAFETY: `address` is a valid out-parameter and `name` a NUL-terminated string.
            if unsafe { enet_address_set_host(&mut address, name.as_ptr().cast()) } != 0 {
                return Err(AddressError::Resolve);
            }
        }
        Host::Ipv6(addr, zone) => {
            address.host = addr.octets();
            address.scopeID = match zone {
                Zone::None => 0,
                Zone::Index(index) => index,
                Zone::Name(name) => interface_index(name).ok_or(AddressError::Zone)?,
            };
            if address.scopeID == 0 && is_link_local(&address) {
                return Err(AddressError::NeedsZone);
            }
        }
    }
    Ok(address)
}

/// Whether a host whose socket reaches `families` (`ENET_ADDRESS_FAMILY_*`) can send to
/// `target`: checked at `connect`, so that a mismatch is an error there, not a socket error
/// inside a later `service`.
pub fn reachable(families: std::os::raw::c_int, target: &ENetAddress) -> Result<(), AddressError> {
    use crate::ffi::{ENET_ADDRESS_FAMILY_IPV4, ENET_ADDRESS_FAMILY_IPV6};
    match is_ipv4(target) {
        true if families & ENET_ADDRESS_FAMILY_IPV4 == 0 => Err(AddressError::Ipv4FromIpv6Host),
        false if families & ENET_ADDRESS_FAMILY_IPV6 == 0 => Err(AddressError::Ipv6FromIpv4Host),
        _ => Ok(()),
    }
}

/// The address's host as a standard IP address: IPv4 for `::ffff:a.b.c.d` and for the
/// all-zero "any" address (which ENet's IPv4 hosts always printed as `0.0.0.0`).
pub fn ip(address: &ENetAddress) -> std::net::IpAddr {
    let v6 = Ipv6Addr::from(address.host);
    if v6.is_unspecified() {
        return Ipv4Addr::UNSPECIFIED.into();
    }
    match v6.to_ipv4_mapped() {
        Some(v4) => v4.into(),
        None => v6.into(),
    }
}

/// True for an IPv4 address (`::ffff:a.b.c.d`, or `0.0.0.0`/any).
pub fn is_ipv4(address: &ENetAddress) -> bool {
    ip(address).is_ipv4()
}

/// True for a link-local IPv6 address (fe80::/10), which needs a zone to be reachable.
pub fn is_link_local(address: &ENetAddress) -> bool {
    address.host[0] == 0xfe && address.host[1] & 0xc0 == 0x80
}

/// Formats an address as `a.b.c.d:port` or `[addr%zone]:port`.
pub struct Display<'a>(pub &'a ENetAddress);

impl fmt::Display for Display<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_ipv4(self.0) {
            write!(f, "{}:{}", Ip(self.0), self.0.port)
        } else {
            write!(f, "[{}]:{}", Ip(self.0), self.0.port)
        }
    }
}

/// As [`Display`], for the socket address of a host bound to `"[::]"` written out: there the
/// all-zero address prints as `[::]`, where everywhere else it keeps ENet's `0.0.0.0`.
pub struct DisplayIpv6Any<'a>(pub &'a ENetAddress);

impl fmt::Display for DisplayIpv6Any<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.host == [0; 16] {
            write!(f, "[::]:{}", self.0.port)
        } else {
            Display(self.0).fmt(f)
        }
    }
}

/// Formats an address's host, unbracketed: `a.b.c.d`, or RFC 5952 text with `%zone` (the
/// interface name when this machine has it, else the index).
pub struct Ip<'a>(pub &'a ENetAddress);

impl fmt::Display for Ip<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ip = ip(self.0);
        write!(f, "{ip}")?;
        if ip.is_ipv6() && self.0.scopeID != 0 {
            let mut buf = [0u8; 64];
            match interface_name(self.0.scopeID, &mut buf) {
                Some(name) => write!(f, "%{name}")?,
                None => write!(f, "%{}", self.0.scopeID)?,
            }
        }
        Ok(())
    }
}

/// `bytes` as a NUL-terminated C string on the stack (nothing here allocates: addresses are
/// resolved and printed when memory may be short), or `None` when it is too long or holds a NUL.
fn c_string(bytes: &[u8]) -> Option<[u8; MAX_HOST + 1]> {
    let mut name = [0u8; MAX_HOST + 1];
    if bytes.contains(&0) {
        return None;
    }
    name.get_mut(..bytes.len())?.copy_from_slice(bytes);
    Some(name)
}

/// The index of the network interface named `name` (`if_nametoindex`), if there is one.
#[cfg(unix)]
fn interface_index(name: &[u8]) -> Option<u32> {
    let name = c_string(name)?;
    // SAFETY: a NUL-terminated string; the function only reads it.
    let index = unsafe { libc::if_nametoindex(name.as_ptr().cast()) };
    (index != 0).then_some(index)
}

/// Interface names in zones are looked up on Unix only; elsewhere write the index (`%12`).
#[cfg(not(unix))]
fn interface_index(_name: &[u8]) -> Option<u32> {
    None
}

/// The name of the network interface with index `index` (`if_indextoname`), written into
/// `buf`, if there is one.
#[cfg(unix)]
fn interface_name(index: u32, buf: &mut [u8; 64]) -> Option<&str> {
    const _: () = assert!(libc::IF_NAMESIZE <= 64);
    // SAFETY: the buffer holds at least IF_NAMESIZE bytes; on success it holds a
    // NUL-terminated name.
    let name = unsafe { libc::if_indextoname(index, buf.as_mut_ptr().cast()) };
    if name.is_null() {
        return None;
    }
    let end = buf.iter().position(|&b| b == 0)?;
    std::str::from_utf8(buf.get(..end)?).ok()
}

#[cfg(not(unix))]
fn interface_name(_index: u32, _buf: &mut [u8; 64]) -> Option<&str> {
    None
}

#[cfg(test)]
mod tests {
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
}
