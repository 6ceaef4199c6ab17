//! Verification of a presented secret: the library function the token endpoint
//! calls. Bounded work whatever the number of secrets: one storage read, one
//! digest (SHA-256, or a single Argon2id run with the client's salt), and a
//! constant-time comparison with every candidate. An unknown client gets the same
//! digest work, with a fixed salt, so it costs the same as a wrong secret.

use std::sync::Arc;

use super::{Context, ServiceError};
use crate::domain::ids::{ClientId, SecretId, TenantId};
use crate::domain::secret_hash::UNKNOWN_CLIENT_SALT;
use crate::domain::secret_value::SecretValue;
use crate::domain::verification::{self, Refusal};

#[derive(Clone)]
pub struct Verifier {
    ctx: Arc<Context>,
}

impl Verifier {
    pub(crate) fn new(ctx: Arc<Context>) -> Self {
        Self { ctx }
    }

    /// `Ok(Ok(id))`: the secret `id` of the client proves the caller; `Ok(Err(why))`:
    /// refused; `Err(_)`: the check itself failed (database unreachable).
    pub async fn verify(
        &self,
        tenant: &TenantId,
        client: &ClientId,
        presented: &SecretValue,
    ) -> Result<Result<SecretId, Refusal>, ServiceError> {
        let credentials = self.ctx.store.load_credentials(tenant, client).await?;
        let salt = credentials
            .as_ref()
            .map_or(&UNKNOWN_CLIENT_SALT[..], |c| &c.argon_salt[..]);
        let digest = self.ctx.hasher.digest(presented, salt).await?;
        let Some(credentials) = credentials else {
            return Ok(Err(Refusal::UnknownClient));
        };
        let now = self.ctx.clock.now();
        Ok(verification::decide(
            &digest,
            &credentials.candidates,
            credentials.enabled,
            now,
        ))
    }
}
