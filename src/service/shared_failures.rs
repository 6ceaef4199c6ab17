//! Failed-attempt limits across the nodes of one database, for the token
//! endpoint: each failure is counted in the record every node shares
//! ([`share_failure`]), which confirms at most the limit's number of failures per
//! key and window over all nodes (one beyond is answered as throttled, not as a
//! wrong secret); the shared counts, announced by every node or read with a
//! client's credentials, are folded into this node's limiter ([`fold`]), so a
//! key whose window is full is refused without a check. Successes write nothing.
//! On SQLite (one process) the storage records nothing and this is a no-op.

use std::net::IpAddr;
use std::time::Duration;

use super::ServiceError;
use super::limiter::{Limiter, WeakLimiter};
use super::verify::{Presented, VerifiedClient, Verifier};
use crate::domain::ids::{ClientId, TenantId};
use crate::domain::verification::Refusal;
use crate::storage::failures::{FailureLimit, FailureVerdict, KeyFailures};

/// The window of the failed-attempt limits.
pub(super) const WINDOW: Duration = Duration::from_secs(60);

/// The token endpoint's limiter: failures per (tenant, client id) and per address.
pub(super) type Throttle = Limiter<(TenantId, String), IpAddr>;

/// Checks `secret` for `client`, reading (when `client_id`, as presented, is a
/// well-formed id) the failures every node shares with its credentials.
/// `Err(wait)`: they fill the limit (`per_client`), so nothing was checked and
/// the attempt is to be refused as throttled.
pub(super) async fn verify(
    verifier: &Verifier,
    throttle: &Throttle,
    per_client: u32,
    client_id: Option<&str>,
    presented: Presented<'_>,
) -> Result<Result<Result<VerifiedClient, Refusal>, ServiceError>, Duration> {
    let Some(client_id) = client_id else {
        return Ok(verifier.verify_client(presented).await);
    };
    let key = client_key(presented.tenant, client_id);
    let (failures, decided) = match verifier
        .verify_client_unless_full(presented, &key, per_client)
        .await
    {
        Ok(found) => found,
        Err(e) => return Ok(Err(e)),
    };
    // The usual case, no shared failure, costs no lock.
    if let Some(failures) = failures.as_ref().filter(|f| f.count > 0) {
        fold(throttle, failures);
    }
    match decided {
        Some(decided) => Ok(Ok(decided)),
        None => Err(failures
            .map_or(WINDOW, |f| f.oldest_ends_in)
            .max(Duration::from_secs(1))),
    }
}

/// Counts a failure in the record every node shares and folds the shared
/// counts into this node's limiter. `Some(wait)`: other nodes' failures had
/// already filled a limit, so this one is not confirmed as a failure; it is
/// answered as throttled. A record that cannot be written leaves the node's
/// own limit, which has counted the failure already.
pub(super) async fn share_failure(
    verifier: &Verifier,
    throttle: &Throttle,
    (per_client, per_address): (u32, u32),
    tenant: &TenantId,
    known_client: Option<&str>,
    source: Option<IpAddr>,
) -> Option<Duration> {
    let mut limits = Vec::with_capacity(2);
    // A client that does not exist (or a malformed id) has nothing to guess, and
    // the database keeps nothing that names an unknown tenant or client: only the
    // address limit counts the attempt.
    if let Some(client_id) = known_client.filter(|c| ClientId::parse(c).is_ok()) {
        limits.push(FailureLimit {
            key: client_key(tenant, client_id),
            max: per_client,
        });
    }
    if let Some(address) = source {
        limits.push(FailureLimit {
            key: format!("address {address}"),
            max: per_address,
        });
    }
    if limits.is_empty() {
        return None;
    }
    match verifier.record_failure(&limits, WINDOW).await {
        Ok(None) => None,
        Ok(Some(verdict)) => {
            for key in verdict.keys() {
                fold(throttle, key);
            }
            match verdict {
                FailureVerdict::Full { retry_after, .. } => Some(retry_after),
                FailureVerdict::Counted(_) => None,
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "a failed authentication was not shared with the other nodes: {e}");
            None
        }
    }
}

/// The shared failure key of a client id (see [`fold`]).
pub(super) fn client_key(tenant: &TenantId, client_id: &str) -> String {
    format!("client {tenant} {client_id}")
}

/// Folds the failures other nodes announce into this node's limiter, while it lives.
pub(super) async fn fold_announcements(
    mut feed: tokio::sync::broadcast::Receiver<KeyFailures>,
    throttle: WeakLimiter<(TenantId, String), IpAddr>,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match feed.recv().await {
            Ok(key) => match throttle.upgrade() {
                Some(throttle) => fold(&throttle, &key),
                None => return,
            },
            Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
    }
}

/// One key's shared count into the limiter (keys as [`share_failure`] names them).
pub(super) fn fold(throttle: &Throttle, key: &KeyFailures) {
    let count = usize::try_from(key.count).unwrap_or(usize::MAX);
    if let Some(rest) = key.key.strip_prefix("client ")
        && let Some((tenant, client)) = rest.split_once(' ')
        && let Some(tenant) = TenantId::parse(tenant)
    {
        throttle.fold_name(&(tenant, client.to_owned()), count, key.oldest_ends_in);
    } else if let Some(address) = key.key.strip_prefix("address ")
        && let Ok(address) = address.parse::<IpAddr>()
    {
        throttle.fold_address(&address, count, key.oldest_ends_in);
    }
}
