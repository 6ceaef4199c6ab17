//! Which address a request comes from behind reverse proxies (`server.trustedProxies`).
//!
//! The TCP peer is the client unless it lies inside a trusted network. Only then are the
//! forwarding headers read: `X-Forwarded-For` when present, else RFC 7239 `Forwarded`
//! (its `for=` parameters). Their hops are walked from the right (the one the trusted peer
//! appended) and the first address that is not itself a trusted proxy is the client: what
//! a client writes to the left of it cannot move its own address. A hop that does not read
//! as an address (`unknown`, an obfuscated name, garbage) ends the walk at the peer: a
//! malformed header is ignored, never an error. If every hop is trusted, the left-most is
//! the client. Addresses are compared and returned canonical (`::ffff:10.1.2.3` is
//! `10.1.2.3`). Pure rules: the HTTP layer hands in the peer and the header values.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

/// An IPv4 or IPv6 network, `10.0.0.0/8` or `2001:db8::/32`; a bare address is one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    base: IpAddr,
    prefix: u8,
}

/// Why a `server.trustedProxies` entry is not a network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    #[error("is not an IP address or network (write 10.0.0.0/8 or 2001:db8::/32)")]
    NotAnAddress,
    #[error("has a prefix length that is not 0 to {max}")]
    BadPrefix { max: u8 },
    #[error("has bits set after the prefix length (did you mean {suggestion}?)")]
    HostBits { suggestion: String },
}

impl Network {
    /// Whether `ip` (canonical) lies inside this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.base, ip.to_canonical()) {
            (IpAddr::V4(base), IpAddr::V4(ip)) => {
                let mask = mask_v4(self.prefix);
                u32::from(ip) & mask == u32::from(base)
            }
            (IpAddr::V6(base), IpAddr::V6(ip)) => {
                let mask = mask_v6(self.prefix);
                u128::from(ip) & mask == u128::from(base)
            }
            _ => false,
        }
    }
}

fn mask_v4(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn mask_v6(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

impl FromStr for Network {
    type Err = NetworkError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (address, prefix) = match s.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (s, None),
        };
        let base = address
            .parse::<IpAddr>()
            .map_err(|_| NetworkError::NotAnAddress)?;
        let max = if base.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or(NetworkError::BadPrefix { max })?,
            Some(_) => return Err(NetworkError::BadPrefix { max }),
        };
        let network = Self { base, prefix };
        let masked = match base {
            IpAddr::V4(v4) => IpAddr::V4((u32::from(v4) & mask_v4(prefix)).into()),
            IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & mask_v6(prefix)).into()),
        };
        if masked != base {
            return Err(NetworkError::HostBits {
                suggestion: Self {
                    base: masked,
                    prefix,
                }
                .to_string(),
            });
        }
        Ok(network)
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix)
    }
}

/// The networks whose peers may say whom they forward for. Empty (the default): nobody.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Arc<[Network]>);

impl TrustedProxies {
    /// Parses every entry; `Err` carries the first bad entry and why.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, (String, NetworkError)> {
        let networks = entries
            .iter()
            .map(|e| {
                let e = e.as_ref();
                e.parse::<Network>().map_err(|why| (e.to_owned(), why))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(networks.into()))
    }

    pub fn networks(&self) -> &[Network] {
        &self.0
    }

    /// Whether `ip` is a trusted proxy.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The client's address: `peer` unless it is trusted, else the right-most hop of
    /// `x_forwarded_for` (preferred when present) or `forwarded` that is not trusted.
    /// Each header is the comma-joined value of all its lines.
    pub fn client_address(
        &self,
        peer: IpAddr,
        x_forwarded_for: Option<&str>,
        forwarded: Option<&str>,
    ) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<Option<IpAddr>> = match (x_forwarded_for, forwarded) {
            (Some(xff), _) => xff.split(',').map(node).collect(),
            (None, Some(fwd)) => split_unquoted(fwd, ',')
                .into_iter()
                .map(forwarded_for)
                .collect(),
            (None, None) => return peer,
        };
        let mut client = peer;
        for hop in hops.into_iter().rev() {
            let Some(ip) = hop else {
                return peer;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

/// One hop: `1.2.3.4`, `1.2.3.4:port`, `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:port`.
fn node(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    let ip = text
        .parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            let inner = text.strip_prefix('[')?.strip_suffix(']')?;
            inner.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6)
        })?;
    Some(ip.to_canonical())
}

/// The `for=` node of one `Forwarded` element (`for=192.0.2.60;proto=http;by=…`).
fn forwarded_for(element: &str) -> Option<IpAddr> {
    let value = split_unquoted(element, ';').into_iter().find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("for")
            .then_some(value.trim())
    })?;
    match value.strip_prefix('"') {
        Some(quoted) => node(&unquote(quoted)?),
        None => node(value),
    }
}

/// The content of a quoted-string after its opening quote; `None` if it does not end
/// with the closing quote.
fn unquote(rest: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return chars.as_str().is_empty().then_some(out),
            c => out.push(c),
        }
    }
    None
}

/// `text` split at `sep` where it is not inside a quoted-string.
fn split_unquoted(text: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn trusted(entries: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(entries).unwrap()
    }

    #[test]
    fn networks_parse_and_contain() {
        // (entry, inside, outside)
        let rows = [
            ("127.0.0.0/8", "127.9.8.7", "128.0.0.1"),
            ("10.0.0.0/8", "::ffff:10.1.2.3", "11.0.0.1"),
            ("192.168.1.7", "192.168.1.7", "192.168.1.8"),
            ("192.168.1.7/32", "192.168.1.7", "192.168.1.6"),
            ("0.0.0.0/0", "203.0.113.7", "::1"),
            ("2001:db8::/32", "2001:db8:ffff::1", "2001:db9::1"),
            ("::1", "::1", "::2"),
            ("::/0", "2001:db8::1", "127.0.0.1"),
            ("fd00::/8", "fdff::1", "fe00::1"),
            (" 172.16.0.0/12 ", "172.31.255.255", "172.32.0.0"),
        ];
        for (entry, inside, outside) in rows {
            let net: Network = entry.parse().unwrap_or_else(|e| panic!("{entry}: {e}"));
            assert!(net.contains(ip(inside)), "{entry} contains {inside}");
            assert!(!net.contains(ip(outside)), "{entry} excludes {outside}");
        }
    }

    #[test]
    fn bad_networks_say_why() {
        let rows = [
            ("", NetworkError::NotAnAddress),
            ("localhost", NetworkError::NotAnAddress),
            ("10.0.0/8", NetworkError::NotAnAddress),
            ("10.0.0.0/33", NetworkError::BadPrefix { max: 32 }),
            ("10.0.0.0/", NetworkError::BadPrefix { max: 32 }),
            ("10.0.0.0/-1", NetworkError::BadPrefix { max: 32 }),
            ("10.0.0.0/+8", NetworkError::BadPrefix { max: 32 }),
            ("10.0.0.0/8/8", NetworkError::BadPrefix { max: 32 }),
            ("::/129", NetworkError::BadPrefix { max: 128 }),
            ("::/999", NetworkError::BadPrefix { max: 128 }),
            (
                "10.1.2.3/8",
                NetworkError::HostBits {
                    suggestion: "10.0.0.0/8".into(),
                },
            ),
            (
                "2001:db8::1/32",
                NetworkError::HostBits {
                    suggestion: "2001:db8::/32".into(),
                },
            ),
        ];
        for (entry, want) in rows {
            assert_eq!(entry.parse::<Network>(), Err(want), "{entry:?}");
        }
        let e = TrustedProxies::parse(&["10.0.0.0/8", "nope", "bad/99"]).unwrap_err();
        assert_eq!(e, ("nope".to_owned(), NetworkError::NotAnAddress));
    }

    fn local() -> TrustedProxies {
        trusted(&["127.0.0.0/8", "10.0.0.0/8", "2001:db8:1::/48"])
    }

    #[test]
    fn headers_are_ignored_unless_the_peer_is_trusted() {
        // (trusted, peer, client) with X-Forwarded-For and Forwarded naming 203.0.113.7
        let rows = [
            (trusted(&[]), "127.0.0.1", "127.0.0.1"),
            (local(), "198.51.100.9", "198.51.100.9"),
            (local(), "::ffff:198.51.100.9", "198.51.100.9"),
            (local(), "::ffff:127.0.0.1", "203.0.113.7"),
            (local(), "2001:db8:1::5", "203.0.113.7"),
        ];
        for (proxies, peer, want) in rows {
            for (xff, fwd) in [(Some("203.0.113.7"), None), (None, Some("for=203.0.113.7"))] {
                let got = proxies.client_address(ip(peer), xff, fwd);
                assert_eq!(got, ip(want), "{peer} {xff:?} {fwd:?}");
            }
        }
        assert_eq!(
            local().client_address(ip("127.0.0.1"), None, None),
            ip("127.0.0.1")
        );
        // X-Forwarded-For wins over Forwarded.
        let both =
            local().client_address(ip("127.0.0.1"), Some("198.51.100.1"), Some("for=192.0.2.4"));
        assert_eq!(both, ip("198.51.100.1"));
    }

    #[test]
    fn x_forwarded_for_gives_the_right_most_untrusted_hop() {
        // (X-Forwarded-For from a trusted peer, client)
        let rows = [
            ("203.0.113.7", "203.0.113.7"),
            (" 203.0.113.7:4711 ", "203.0.113.7"),
            ("2001:db8::1", "2001:db8::1"),
            ("[2001:db8::1]:80", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("::ffff:203.0.113.7", "203.0.113.7"),
            // Walk from the right past trusted hops; what the client wrote on the left is moot.
            ("198.51.100.1, 127.0.0.1", "198.51.100.1"),
            ("1.1.1.1, 198.51.100.1, 10.0.0.2", "198.51.100.1"),
            ("garbage, 198.51.100.1", "198.51.100.1"),
            ("1.1.1.1,198.51.100.1", "198.51.100.1"),
            ("2001:db8::7, 2001:db8:1::9", "2001:db8::7"),
            // Every hop trusted: the left-most.
            ("10.0.0.3, 10.0.0.2", "10.0.0.3"),
            // Malformed: the peer.
            ("", "127.0.0.1"),
            ("unknown", "127.0.0.1"),
            ("198.51.100.1, nonsense", "127.0.0.1"),
            ("198.51.100.1,", "127.0.0.1"),
            ("203.0.113.7 ; drop table", "127.0.0.1"),
            ("300.1.1.1", "127.0.0.1"),
            ("\u{fffd}\u{fffd}", "127.0.0.1"),
        ];
        for (xff, want) in rows {
            let got = local().client_address(ip("127.0.0.1"), Some(xff), None);
            assert_eq!(got, ip(want), "X-Forwarded-For: {xff}");
        }
    }

    #[test]
    fn forwarded_gives_the_right_most_untrusted_for() {
        // (Forwarded from a trusted peer, client)
        let rows = [
            ("for=203.0.113.7", "203.0.113.7"),
            ("For=\"203.0.113.7:80\"", "203.0.113.7"),
            ("for=\"[2001:db8::1]:4711\"", "2001:db8::1"),
            ("for=\"[2001:db8::1]\"", "2001:db8::1"),
            (
                "for=192.0.2.43;proto=https;by=\"[2001:db8:1::9]\", for=\"[2001:db8:1::7]\"",
                "192.0.2.43",
            ),
            ("proto=\"a,b\";for=192.0.2.43", "192.0.2.43"),
            ("for=\"\\1\\92.0.2.43\"", "192.0.2.43"),
            // Malformed or hidden: the peer.
            ("for=192.0.2.43, for=unknown", "127.0.0.1"),
            ("for=_hidden", "127.0.0.1"),
            ("proto=https", "127.0.0.1"),
            ("for=\"192.0.2.43", "127.0.0.1"),
            ("for=\"192.0.2.43\"x", "127.0.0.1"),
        ];
        for (fwd, want) in rows {
            let got = local().client_address(ip("127.0.0.1"), None, Some(fwd));
            assert_eq!(got, ip(want), "Forwarded: {fwd}");
        }
    }
}
