//! `"host:port"` strings: parsing with the reference's rules and texts (docs/api.md,
//! "Conventions") plus bracketed IPv6 literals (`"[::1]:6789"`, `"[fe80::1%eth0]:6789"`), and
//! formatting: IPv4 (and IPv4-mapped) addresses as `a.b.c.d:port`, IPv6 addresses as
//! `[addr]:port` in RFC 5952 form. Pure Rust: what only the system knows (a host name's
//! address, the interface a zone names) comes from os.rs. Unit tests: address/tests.rs.
//!
//! An `ENetAddress` holds a 16-byte IPv6 host: an IPv4 address a.b.c.d is `::ffff:a.b.c.d`
//! (vendor/enet/patches/0019-ipv6-address.patch), and all zeros is the "any" address.
use crate::ffi::ENetAddress;
use crate::lua::Name;
use crate::os;
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
            if !os::set_host(&mut address, host) {
                return Err(AddressError::Resolve);
            }
        }
        Host::Ipv6(addr, zone) => {
            address.host = addr.octets();
            address.scopeID = match zone {
                Zone::None => 0,
                Zone::Index(index) => index,
                Zone::Name(name) => os::interface_index(name).ok_or(AddressError::Zone)?,
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

/// The family name of an address as it prints (`"inet"` for IPv4 and mapped addresses).
pub fn family(address: &ENetAddress) -> Name {
    if is_ipv4(address) {
        Name::Inet
    } else {
        Name::Inet6
    }
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
            match os::interface_name(self.0.scopeID, &mut buf) {
                Some(name) => write!(f, "%{name}")?,
                None => write!(f, "%{}", self.0.scopeID)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
