//! One-time reveals: a value a front end shows once (a new secret value, a
//! webhook signing secret) kept between the POST that made it and the GET that
//! shows it, so that the POST can answer with a redirect (post/redirect/get) and
//! a reload never submits the form again.
//!
//! A reveal is stored sealed under the master key (bound to its id), belongs to
//! one console session, and lives [`REVEAL_LIFETIME`]. Taking it deletes it in
//! the same statement that reads it, so it is shown at most once even when
//! several nodes share the database or two requests race. The payload is opaque
//! here: the front end decides what it holds.

use std::sync::Arc;

use zeroize::Zeroizing;

use super::{Context, ServiceError};
use crate::domain::account::random_token;
use crate::domain::jws::MasterKey;
use crate::storage::StorageError;

/// How long a reveal waits for its GET.
pub const REVEAL_LIFETIME: chrono::Duration = chrono::Duration::minutes(5);

/// The longest reveal id a front end may pass back (a 256-bit token in base64url).
const ID_MAX_LEN: usize = 64;

#[derive(Clone)]
pub struct Reveals {
    ctx: Arc<Context>,
}

impl Reveals {
    pub(crate) fn new(ctx: Arc<Context>) -> Self {
        Self { ctx }
    }

    /// Keeps `payload` for session `session_hash`; returns the id to take it by.
    /// `NotFound("session")` when the session has ended meanwhile.
    pub async fn stash(&self, session_hash: &[u8], payload: &[u8]) -> Result<String, ServiceError> {
        let id = random_token()?.to_string();
        let sealed = self
            .master()?
            .seal(payload, id.as_bytes())
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let now = self.ctx.clock.now();
        self.ctx
            .store
            .insert_reveal(&id, session_hash, &sealed, now + REVEAL_LIFETIME, now)
            .await
            .map_err(|e| match e {
                StorageError::NotFound => ServiceError::NotFound("session"),
                e => e.into(),
            })?;
        Ok(id)
    }

    /// The payload of reveal `id`, deleted as it is read; `None` when it was
    /// taken already, expired, belongs to another session or never existed.
    pub async fn take(
        &self,
        session_hash: &[u8],
        id: &str,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, ServiceError> {
        if id.is_empty() || id.len() > ID_MAX_LEN {
            return Ok(None);
        }
        let now = self.ctx.clock.now();
        let Some(sealed) = self.ctx.store.take_reveal(id, session_hash, now).await? else {
            return Ok(None);
        };
        self.master()?
            .open(&sealed, id.as_bytes())
            .map(Some)
            .map_err(|e| ServiceError::Internal(format!("a reveal cannot be unsealed: {e}")))
    }

    fn master(&self) -> Result<&MasterKey, ServiceError> {
        self.ctx
            .sealer
            .get()
            .map(AsRef::as_ref)
            .ok_or_else(|| ServiceError::Internal("no master key loaded".into()))
    }
}
