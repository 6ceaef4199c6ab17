//! Keeps webhook deliveries off the addresses the target policy refuses
//! ([`crate::domain::webhook_target`]): a DNS resolver for the delivery client
//! that drops refused addresses from every answer (checked at connect time, so a
//! name re-pointed after the subscription was made is caught too), and the check
//! for URLs that name an IP address, which reqwest connects to without resolving.

use std::net::SocketAddr;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::domain::webhook_target::{REFUSED, TargetPolicy};

/// The system resolver, minus the addresses `policy` refuses.
pub struct PolicyResolver {
    pub policy: TargetPolicy,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let permitted: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| policy.permits(a.ip()))
                .collect();
            if permitted.is_empty() && !found.is_empty() {
                return Err(Box::new(RefusedTarget) as Box<_>);
            }
            Ok(Box::new(permitted.into_iter()) as Addrs)
        })
    }
}

/// Every address of the host is one the policy refuses.
#[derive(Debug)]
pub struct RefusedTarget;

impl std::fmt::Display for RefusedTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the URL {REFUSED}")
    }
}

impl std::error::Error for RefusedTarget {}

/// `Err` when `url` names an IP address the policy refuses.
pub fn check_literal(url: &str, policy: TargetPolicy) -> Result<(), RefusedTarget> {
    let Ok(url) = reqwest::Url::parse(url) else {
        return Ok(()); // reqwest reports unusable URLs itself
    };
    match url.host_str() {
        Some(host) if !policy.permits_host(host) => Err(RefusedTarget),
        _ => Ok(()),
    }
}

/// Whether a transport error came from a refused target.
pub fn is_refused(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if c.downcast_ref::<RefusedTarget>().is_some() {
            return true;
        }
        cause = c.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: TargetPolicy = TargetPolicy {
        allow_private_networks: false,
    };

    #[test]
    fn literal_internal_addresses_are_refused_unless_allowed() {
        assert!(check_literal("http://127.0.0.1:9/x", STRICT).is_err());
        assert!(check_literal("http://[fe80::1]/x", STRICT).is_err());
        assert!(check_literal("https://hooks.example.com/x", STRICT).is_ok());
        let open = TargetPolicy {
            allow_private_networks: true,
        };
        assert!(check_literal("http://127.0.0.1:9/x", open).is_ok());
    }

    #[tokio::test]
    async fn a_name_that_resolves_only_to_loopback_is_refused() {
        let resolver = PolicyResolver { policy: STRICT };
        let name: Name = "localhost".parse().unwrap();
        let err = resolver.resolve(name).await.err().expect("refused");
        assert!(is_refused(err.as_ref()), "{err}");
    }
}
