//! HTTP plumbing every front end shares (the management API in [`crate::http`], the
//! issuers in [`crate::oauth`], the console in [`crate::console`]): the state handlers
//! reach, the per-request OperationId and client address ([`operation`]), the one
//! mapping from failures to statuses and error bodies ([`error`]), and the body limit.
//!
//! Front ends import this module and the services, never each other; the composition
//! root ([`crate::app`]) assembles them into one router.

pub mod error;
pub mod operation;
mod state;

pub use state::{AppParts, AppState, EMAIL_OFF_WARNING};

/// Bodies larger than this get 413.
pub const BODY_LIMIT: usize = 64 * 1024;
