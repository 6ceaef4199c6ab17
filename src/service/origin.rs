//! Where the current request comes from: its OperationId and source address,
//! set once per request by the front end (HTTP middleware) and read by the
//! services when they write the audit trail. A task-local, so no use case has
//! to thread it through its arguments.

use std::future::Future;
use std::net::IpAddr;

use uuid::Uuid;

/// The request a use case runs for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub operation_id: Uuid,
    pub address: Option<IpAddr>,
}

tokio::task_local! {
    static ORIGIN: Origin;
}

/// Runs `work` with `origin` as the current request.
pub async fn scope<F: Future>(origin: Origin, work: F) -> F::Output {
    ORIGIN.scope(origin, work).await
}

/// The current request, if the caller runs inside [`scope`] (background jobs do not).
pub fn current() -> Option<Origin> {
    ORIGIN.try_with(|o| *o).ok()
}
