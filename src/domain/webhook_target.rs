//! Where webhooks may be delivered: only to globally reachable addresses, unless
//! the operator allows private networks, so a tenant administrator cannot use
//! Latchkey to probe the operator's internal services (cloud metadata services
//! live on link-local addresses). Refused: every range of the IANA IPv4 and IPv6
//! special-purpose address registries that is not globally reachable, multicast,
//! the reserved IPv4 space, IPv6 outside global unicast (`2000::/3`), and IPv6
//! forms that carry an IPv4 address (mapped, compatible, translated, NAT64, 6to4,
//! Teredo) when that address is refused. Pure rules; the HTTP client applies
//! them to every address a host name resolves to.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether webhooks may reach private networks (`notifications.webhooks.allowPrivateNetworks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TargetPolicy {
    pub allow_private_networks: bool,
}

impl TargetPolicy {
    /// Whether a delivery may connect to `ip`.
    pub fn permits(self, ip: IpAddr) -> bool {
        self.allow_private_networks || !is_internal(ip)
    }

    /// Whether a URL may name `host` (as `Url::host_str` gives it, IPv6 in
    /// brackets): an IP address only if permitted; a host name always, since it
    /// is checked each time a delivery resolves it.
    pub fn permits_host(self, host: &str) -> bool {
        let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
        match bare.unwrap_or(host).parse::<IpAddr>() {
            Ok(ip) => self.permits(ip),
            Err(_) => true,
        }
    }
}

/// The reason given when an address is refused, naming the setting that allows it.
pub const REFUSED: &str = "points to an address that is not globally reachable (loopback, \
     private, link-local or another special-purpose range; \
     notifications.webhooks.allowPrivateNetworks is off)";

/// IPv4 ranges refused: the special-purpose registry's entries that are not
/// globally reachable, multicast and the reserved `240.0.0.0/4`. The registry
/// calls a few single addresses in `192.0.0.0/24` globally reachable (PCP and
/// TURN anycast); they are refused with the block, since an anycast address is
/// answered by the nearest server, which may be the operator's own.
const V4_REFUSED: [(Ipv4Addr, u8); 15] = [
    (Ipv4Addr::new(0, 0, 0, 0), 8),       // "this network" (RFC 791)
    (Ipv4Addr::new(10, 0, 0, 0), 8),      // private (RFC 1918)
    (Ipv4Addr::new(100, 64, 0, 0), 10),   // shared address space, CGNAT (RFC 6598)
    (Ipv4Addr::new(127, 0, 0, 0), 8),     // loopback (RFC 1122)
    (Ipv4Addr::new(169, 254, 0, 0), 16),  // link local (RFC 3927)
    (Ipv4Addr::new(172, 16, 0, 0), 12),   // private (RFC 1918)
    (Ipv4Addr::new(192, 0, 0, 0), 24),    // IETF protocol assignments (RFC 6890)
    (Ipv4Addr::new(192, 0, 2, 0), 24),    // documentation TEST-NET-1 (RFC 5737)
    (Ipv4Addr::new(192, 88, 99, 0), 24),  // 6to4 relay anycast, deprecated (RFC 7526)
    (Ipv4Addr::new(192, 168, 0, 0), 16),  // private (RFC 1918)
    (Ipv4Addr::new(198, 18, 0, 0), 15),   // benchmarking (RFC 2544)
    (Ipv4Addr::new(198, 51, 100, 0), 24), // documentation TEST-NET-2 (RFC 5737)
    (Ipv4Addr::new(203, 0, 113, 0), 24),  // documentation TEST-NET-3 (RFC 5737)
    (Ipv4Addr::new(224, 0, 0, 0), 4),     // multicast (RFC 5771)
    (Ipv4Addr::new(240, 0, 0, 0), 4),     // reserved, limited broadcast (RFC 1112, 919)
];

/// Global unicast (`2000::/3`), the only IPv6 space routed on the internet: the
/// rest (loopback, unspecified, `64:ff9b:1::/48` local-use NAT64, `100::/64`
/// discard-only, `100:0:0:1::/64` dummy, `5f00::/16` SRv6, `fc00::/7` unique
/// local, `fe80::/10` link local, `fec0::/10` site local, `ff00::/8` multicast,
/// unassigned space) is refused, once the IPv4-carrying forms are decoded.
const V6_GLOBAL_UNICAST: (Ipv6Addr, u8) = (Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3);

/// Ranges inside global unicast that are not globally reachable.
const V6_REFUSED: [(Ipv6Addr, u8); 3] = [
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23), // IETF protocol assignments (RFC 2928)
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation (RFC 3849)
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20), // documentation (RFC 9637)
];

/// The registry's globally reachable entries inside `2001::/23`. Its anycast
/// addresses (`2001:1::1`–`3`, PCP, TURN, DNS-SD SRP) stay refused, as in IPv4.
/// (`2001::/32`, Teredo, is decoded before.)
const V6_GLOBAL_IN_REFUSED: [(Ipv6Addr, u8); 4] = [
    (Ipv6Addr::new(0x2001, 0x3, 0, 0, 0, 0, 0, 0), 32), // AMT (RFC 7450)
    (Ipv6Addr::new(0x2001, 0x4, 0x112, 0, 0, 0, 0, 0), 48), // AS112-v6 (RFC 7535)
    (Ipv6Addr::new(0x2001, 0x20, 0, 0, 0, 0, 0, 0), 28), // ORCHIDv2 (RFC 7343)
    (Ipv6Addr::new(0x2001, 0x30, 0, 0, 0, 0, 0, 0), 28), // drone remote ID (RFC 9374)
];

/// Whether `ip` is one that webhooks may not reach by default (see the module doc).
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(carried) => carried.into_iter().flatten().any(is_internal_v4),
            None => is_internal_v6(v6),
        },
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let bits = u32::from(ip);
    V4_REFUSED.iter().any(|&(net, len)| {
        let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
        bits & mask == u32::from(net)
    })
}

fn in_v6(ip: Ipv6Addr, (net, len): (Ipv6Addr, u8)) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    u128::from(ip) & mask == u128::from(net)
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    !in_v6(ip, V6_GLOBAL_UNICAST)
        || (V6_REFUSED.iter().any(|&r| in_v6(ip, r))
            && !V6_GLOBAL_IN_REFUSED.iter().any(|&r| in_v6(ip, r)))
}

/// The IPv4 addresses an IPv6 address carries, by the forms a stack or a
/// translator may turn into IPv4 traffic: IPv4-mapped `::ffff:0:0/96`,
/// IPv4-compatible `::/96` (deprecated; `::` and `::1` decode into `0.0.0.0/8`),
/// IPv4-translated `::ffff:0:0:0/96` (SIIT), NAT64 `64:ff9b::/96`, 6to4
/// `2002::/16`, and Teredo `2001::/32` (server, and client with its bits inverted).
fn embedded_v4(ip: Ipv6Addr) -> Option<[Option<Ipv4Addr>; 2]> {
    let bits = u128::from(ip);
    let low = Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    let prefix96 = bits >> 32;
    if prefix96 == 0
        || prefix96 == 0xffff
        || prefix96 == 0xffff_0000
        || prefix96 == 0x0064_ff9b << 64
    {
        return Some([Some(low), None]);
    }
    let segments = ip.segments();
    if segments[0] == 0x2002 {
        let v4 = ((bits >> 80) & 0xffff_ffff) as u32;
        return Some([Some(Ipv4Addr::from(v4)), None]);
    }
    if segments[0] == 0x2001 && segments[1] == 0 {
        let server = ((bits >> 64) & 0xffff_ffff) as u32;
        let client = !((bits & 0xffff_ffff) as u32);
        return Some([Some(Ipv4Addr::from(server)), Some(Ipv4Addr::from(client))]);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// One row per entry of the IANA special-purpose registries (IPv4, IPv6), then
    /// the other refused spaces, then the IPv4-carrying IPv6 forms: an address and
    /// whether webhooks are refused it by default.
    const TABLE: &[(&str, bool, &str)] = &[
        // IPv4 special-purpose registry.
        ("0.0.0.0", true, "this host on this network"),
        ("0.1.2.3", true, "this network, 0.0.0.0/8"),
        ("10.1.2.3", true, "private-use 10/8"),
        ("100.64.0.1", true, "shared address space 100.64/10"),
        ("100.127.255.255", true, "shared address space, last"),
        ("100.128.0.1", false, "just past shared address space"),
        ("127.0.0.1", true, "loopback"),
        ("127.8.9.10", true, "loopback 127/8"),
        ("169.254.169.254", true, "link local (cloud metadata)"),
        ("172.16.0.1", true, "private-use 172.16/12"),
        ("172.31.255.255", true, "private-use 172.16/12, last"),
        ("172.32.0.1", false, "just past 172.16/12"),
        ("192.0.0.1", true, "IETF protocol assignments 192.0.0/24"),
        ("192.0.0.2", true, "DS-Lite 192.0.0.0/29"),
        ("192.0.0.8", true, "IPv4 dummy address"),
        ("192.0.0.9", true, "PCP anycast (refused with its block)"),
        ("192.0.0.10", true, "TURN anycast (refused with its block)"),
        ("192.0.0.170", true, "NAT64/DNS64 discovery"),
        ("192.0.0.171", true, "NAT64/DNS64 discovery"),
        ("192.0.1.1", false, "just past 192.0.0/24"),
        ("192.0.2.1", true, "documentation TEST-NET-1"),
        ("192.31.196.1", false, "AS112-v4, globally reachable"),
        ("192.52.193.1", false, "AMT, globally reachable"),
        ("192.88.99.1", true, "deprecated 6to4 relay anycast"),
        ("192.88.99.2", true, "6a44 relay anycast"),
        ("192.168.1.1", true, "private-use 192.168/16"),
        (
            "192.175.48.1",
            false,
            "direct delegation AS112, globally reachable",
        ),
        ("198.18.0.1", true, "benchmarking 198.18/15"),
        ("198.19.255.255", true, "benchmarking, last"),
        ("198.20.0.1", false, "just past benchmarking"),
        ("198.51.100.7", true, "documentation TEST-NET-2"),
        ("203.0.113.7", true, "documentation TEST-NET-3"),
        ("240.0.0.1", true, "reserved 240/4"),
        ("255.255.255.254", true, "reserved 240/4"),
        ("255.255.255.255", true, "limited broadcast"),
        // IPv4 multicast.
        ("224.0.0.1", true, "multicast"),
        ("239.255.255.250", true, "multicast (SSDP)"),
        // IPv4, public.
        ("8.8.8.8", false, "public"),
        ("93.184.216.34", false, "public"),
        ("223.255.255.254", false, "public, last before multicast"),
        // IPv6 special-purpose registry.
        ("::1", true, "loopback"),
        ("::", true, "unspecified"),
        ("::ffff:127.0.0.1", true, "IPv4-mapped loopback"),
        ("::ffff:169.254.169.254", true, "IPv4-mapped link local"),
        ("::ffff:8.8.8.8", false, "IPv4-mapped public"),
        ("64:ff9b::10.0.0.1", true, "NAT64 of a private address"),
        ("64:ff9b::7f00:1", true, "NAT64 of loopback"),
        ("64:ff9b::8.8.8.8", false, "NAT64 of a public address"),
        ("64:ff9b:1::8.8.8.8", true, "local-use NAT64 64:ff9b:1::/48"),
        ("100::1", true, "discard-only 100::/64"),
        ("100:0:0:1::1", true, "dummy IPv6 prefix 100:0:0:1::/64"),
        (
            "2001:2::1",
            true,
            "IETF protocol assignments 2001::/23 (benchmarking)",
        ),
        ("2001:1::1", true, "PCP anycast (refused, as in IPv4)"),
        ("2001:1::2", true, "TURN anycast (refused, as in IPv4)"),
        (
            "2001:1::3",
            true,
            "DNS-SD SRP anycast (refused, as in IPv4)",
        ),
        ("2001:3::1", false, "AMT, globally reachable"),
        ("2001:4:112::1", false, "AS112-v6, globally reachable"),
        ("2001:10::1", true, "ORCHID, deprecated"),
        ("2001:20::1", false, "ORCHIDv2, globally reachable"),
        ("2001:30::1", false, "drone remote ID, globally reachable"),
        ("2001:1ff::1", true, "2001::/23, last /32"),
        ("2001:200::1", false, "just past 2001::/23"),
        ("2001:db8::1", true, "documentation 2001:db8::/32"),
        (
            "2620:4f:8000::1",
            false,
            "direct delegation AS112, globally reachable",
        ),
        ("3fff::1", true, "documentation 3fff::/20"),
        ("5f00::1", true, "segment routing SIDs 5f00::/16"),
        ("fc00::1", true, "unique local"),
        ("fd00::1", true, "unique local"),
        ("fe80::1", true, "link local"),
        // Other refused IPv6 space.
        ("fec0::1", true, "site local, deprecated"),
        ("ff02::1", true, "multicast"),
        ("4000::1", true, "outside global unicast 2000::/3"),
        ("1::1", true, "outside global unicast 2000::/3"),
        // IPv6, public.
        ("2001:4860:4860::8888", false, "public"),
        ("2a00:1450:4001::1", false, "public"),
        // IPv6 forms that carry an IPv4 address.
        ("::127.0.0.1", true, "IPv4-compatible loopback"),
        ("::10.1.2.3", true, "IPv4-compatible private"),
        ("::8.8.8.8", false, "IPv4-compatible public"),
        ("::ffff:0:10.0.0.1", true, "IPv4-translated (SIIT) private"),
        ("::ffff:0:8.8.8.8", false, "IPv4-translated (SIIT) public"),
        ("2002:a00:1::1", true, "6to4 of 10.0.0.1"),
        ("2002:a9fe:a9fe::1", true, "6to4 of 169.254.169.254"),
        ("2002:c000:22a::1", true, "6to4 of 192.0.2.42"),
        ("2002:808:808::1", false, "6to4 of 8.8.8.8"),
        (
            "2001:0:4136:e378:8000:63bf:80ff:fffe",
            true,
            "Teredo, client 127.0.0.1",
        ),
        (
            "2001:0:a00:1:8000:63bf:f7f7:f7f7",
            true,
            "Teredo, server 10.0.0.1",
        ),
        (
            "2001:0:4136:e378:8000:63bf:f7f7:f7f7",
            false,
            "Teredo, public server and client 8.8.8.8",
        ),
    ];

    #[test]
    fn every_registry_entry_is_judged() {
        for &(address, refused, what) in TABLE {
            assert_eq!(is_internal(ip(address)), refused, "{address} ({what})");
            let strict = TargetPolicy::default();
            assert_eq!(strict.permits(ip(address)), !refused, "{address} ({what})");
            let bracketed = if address.contains(':') {
                format!("[{address}]")
            } else {
                address.to_owned()
            };
            assert_eq!(
                strict.permits_host(&bracketed),
                !refused,
                "{address} ({what})"
            );
        }
    }

    #[test]
    fn the_policy_refuses_internal_addresses_unless_allowed() {
        let strict = TargetPolicy::default();
        assert!(!strict.permits(ip("127.0.0.1")));
        assert!(strict.permits(ip("8.8.8.8")));
        let open = TargetPolicy {
            allow_private_networks: true,
        };
        for &(address, _, _) in TABLE {
            assert!(open.permits(ip(address)), "{address}");
        }
    }

    #[test]
    fn hosts_are_judged_by_their_ip_address_names_pass() {
        let strict = TargetPolicy::default();
        assert!(!strict.permits_host("127.0.0.1"));
        assert!(!strict.permits_host("[::1]"));
        assert!(!strict.permits_host("[::ffff:10.0.0.1]"));
        assert!(!strict.permits_host("[::ffff:0:a00:1]"));
        assert!(strict.permits_host("8.8.8.8"));
        assert!(
            strict.permits_host("localhost"),
            "names are checked when resolved"
        );
    }
}
