//! Domain rules of Latchkey, with no I/O: identifiers, secret values and their
//! hashes, expiry policies, input validation, the verification decision and
//! when a client may renew its own secret (self-rotation).
//!
//! Nothing here touches a database, the network, the clock or the environment:
//! time and randomness come in as arguments (randomness from the OS through
//! [`secret_value::SecretValue::generate`], which is the one exception, kept
//! behind a fallible call).

pub mod access;
pub mod account;
pub mod audit;
pub mod audit_actions;
pub mod bootstrap_token;
pub mod client;
pub mod error;
pub mod events;
pub mod expiry;
pub mod forwarded;
pub mod ids;
pub mod jws;
pub mod leaks;
pub mod password;
pub mod policy;
pub mod secret_hash;
pub mod secret_status;
pub mod secret_value;
pub mod self_rotation;
pub mod signing_keys;
pub mod summary;
pub mod throttle;
pub mod verification;
pub mod webhook_signature;
pub mod webhook_target;

pub use error::ValidationError;
