//! Where webhooks may be delivered: an address on a private, loopback or
//! link-local network (cloud metadata services live there) is refused unless the
//! operator allows private networks, so a tenant administrator cannot use
//! Latchkey to probe the operator's internal services. Pure rules; the HTTP
//! client applies them to every address a host name resolves to.

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
pub const REFUSED: &str = "points to a private, loopback or link-local address \
     (notifications.webhooks.allowPrivateNetworks is off)";

/// Loopback, private (RFC 1918, unique local), link-local, shared (CGNAT),
/// unspecified, broadcast and multicast addresses, IPv4-mapped ones included.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_internal_v4(v4),
            None => is_internal_v6(v6),
        },
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn internal_addresses_are_recognised() {
        for s in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(is_internal(ip(s)), "{s} is internal");
        }
    }

    #[test]
    fn public_addresses_are_not() {
        for s in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "93.184.216.34",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_internal(ip(s)), "{s} is public");
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
        assert!(open.permits(ip("127.0.0.1")));
    }

    #[test]
    fn hosts_are_judged_by_their_ip_address_names_pass() {
        let strict = TargetPolicy::default();
        assert!(!strict.permits_host("127.0.0.1"));
        assert!(!strict.permits_host("[::1]"));
        assert!(!strict.permits_host("[::ffff:10.0.0.1]"));
        assert!(strict.permits_host("8.8.8.8"));
        assert!(
            strict.permits_host("localhost"),
            "names are checked when resolved"
        );
    }
}
