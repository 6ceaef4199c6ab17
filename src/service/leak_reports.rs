//! Leak reports from secret scanners (GitHub's secret scanning partner program
//! format), the keys trusted to sign them, and each tenant's leak policy.
//!
//! A report is believed only when a trusted key signed its exact body; otherwise
//! nothing is read from it. Each reported value is checked for the generated
//! format and checksum (a failure is a `false_positive`, with no look-up), then
//! found by its SHA-256 digest through an index. A live secret is acted on once
//! per value, by the tenant's policy (revoke, or alert only), with a
//! `secret.leaked` event and an audit entry whose actor is the scanner key, all
//! in one transaction; a value reported again, concurrently or later, acts no
//! more. Values of revoked and unknown secrets get the same answer.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::tenants::Tenants;
use super::{Caller, Context, ServiceError, journal};
use crate::domain::ValidationError;
use crate::domain::access::Action;
use crate::domain::audit_actions::AuditAction;
use crate::domain::events::{Event, EventType, SecretSubject};
use crate::domain::ids::TenantId;
use crate::domain::leaks::{
    KeysDocument, Label, LeakDetails, LeakPolicy, ReportedToken, ScannerKey, action_text,
    parse_report,
};
use crate::domain::secret_hash::generated_digest;
use crate::domain::secret_value::SecretValue;
use crate::storage::{FoundSecret, Journal, LeakRecord, StorageError};

/// The partner program's feedback on one reported token (never the value: its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feedback {
    /// Hex SHA-256 of the reported token.
    pub token_hash: String,
    pub token_type: String,
    pub label: Label,
}

#[derive(Clone)]
pub struct LeakReports {
    ctx: Arc<Context>,
    /// The keys of `leaks.scannerKeys`, used while none are stored.
    file_keys: Arc<RwLock<Vec<ScannerKey>>>,
}

/// How much of a URL or source the audit trail and events keep.
const WHERE_MAX: usize = 512;

impl LeakReports {
    pub(crate) fn new(ctx: Arc<Context>) -> Self {
        Self {
            ctx,
            file_keys: Arc::default(),
        }
    }

    /// Sets the configured keys (at start-up).
    pub fn set_file_keys(&self, keys: Vec<ScannerKey>) {
        *self
            .file_keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = keys;
    }

    /// The keys in force: those stored by a platform administrator, else the file's.
    async fn trusted_keys(&self) -> Result<Vec<ScannerKey>, ServiceError> {
        let stored = self.ctx.store.scanner_keys().await?;
        if stored.is_empty() {
            return Ok(self
                .file_keys
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone());
        }
        KeysDocument {
            public_keys: stored,
        }
        .keys()
        .map_err(|e| ServiceError::Internal(format!("stored scanner key: {}", e.reason)))
    }

    /// Acts on a signed report; [`ServiceError::Unauthenticated`] (and nothing
    /// read or changed) unless `key_id` names a trusted key whose signature
    /// `signature` is over `body`.
    pub async fn report(
        &self,
        key_id: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<Vec<Feedback>, ServiceError> {
        let (Some(key_id), Some(signature)) = (key_id, signature) else {
            tracing::info!("leak report refused: unsigned");
            return Err(ServiceError::Unauthenticated);
        };
        let keys = self.trusted_keys().await?;
        let Some(key) = keys
            .iter()
            .find(|k| k.key_identifier == key_id && k.verifies(body, signature))
        else {
            tracing::info!("leak report refused: not signed by a trusted scanner key");
            return Err(ServiceError::Unauthenticated);
        };
        let tokens = parse_report(body)?;
        // The same value twice in one report: looked up once, answered alike.
        let mut labels: HashMap<&str, Label> = HashMap::new();
        let mut feedback = Vec::with_capacity(tokens.len());
        for token in &tokens {
            let label = match labels.get(token.token.as_str()) {
                Some(label) => *label,
                None => {
                    let label = self.one(key, token).await?;
                    labels.insert(&token.token, label);
                    label
                }
            };
            feedback.push(Feedback {
                token_hash: hex(&Sha256::digest(token.token.as_bytes())),
                token_type: token.token_type.clone(),
                label,
            });
        }
        Ok(feedback)
    }

    async fn one(&self, key: &ScannerKey, token: &ReportedToken) -> Result<Label, ServiceError> {
        let value = SecretValue::presented(&token.token);
        let Some(digest) = generated_digest(&value) else {
            return Ok(Label::FalsePositive);
        };
        let now = self.ctx.clock.now();
        let found = self.ctx.store.find_secrets_by_digest(&digest).await?;
        let Some(found) = found
            .into_iter()
            .find(|f| !f.previous || f.secret.grace_until.is_some_and(|g| g > now))
        else {
            return Ok(Label::FalsePositive);
        };
        let leak = LeakRecord {
            digest: digest.to_vec(),
            tenant: found.tenant_id,
            client_pk: found.client_pk,
            secret_id: found.secret.id,
            policy: found.leak_policy,
            at: now,
        };
        let journal = leak_journal(key, token, &found, now);
        if self.ctx.store.record_leak(&leak, &journal).await? {
            tracing::warn!(tenant.id = %found.tenant_id, client.id = %found.client_id, secret.id = %found.secret.id,
                "a scanner reported the value of secret {} of client {}: {}", found.secret.id, found.client_id, action_text(found.leak_policy));
        }
        Ok(Label::TruePositive)
    }

    /// The trusted keys, as a `public_keys` document (platform administrators).
    pub async fn keys(&self, caller: &Caller) -> Result<KeysDocument, ServiceError> {
        require_platform(caller)?;
        Ok(KeysDocument::of(&self.trusted_keys().await?))
    }

    /// Replaces the stored keys (an empty list goes back to the configured file's).
    pub async fn replace_keys(
        &self,
        caller: &Caller,
        doc: KeysDocument,
    ) -> Result<KeysDocument, ServiceError> {
        require_platform(caller)?;
        let keys = doc.keys()?;
        let ids: HashSet<&str> = keys.iter().map(|k| k.key_identifier.as_str()).collect();
        if ids.len() != keys.len() {
            return Err(ValidationError::new("public_keys", "key identifiers must differ").into());
        }
        let mut entry = journal::entry(
            caller,
            None,
            AuditAction::ScannerKeysReplace,
            self.ctx.clock.now(),
        );
        entry.reason = Some(format!("{} keys", keys.len()));
        self.ctx
            .store
            .replace_scanner_keys(&KeysDocument::of(&keys).public_keys, &entry)
            .await?;
        tracing::info!("scanner keys replaced ({} keys)", keys.len());
        self.keys(caller).await
    }

    /// The tenant's leak policy.
    pub async fn policy(
        &self,
        caller: &Caller,
        tenant: &TenantId,
    ) -> Result<LeakPolicy, ServiceError> {
        Tenants::require(&self.ctx, caller, tenant, Action::ReadTenant).await?;
        self.ctx
            .store
            .get_leak_policy(tenant)
            .await?
            .ok_or(ServiceError::TenantNotFound)
    }

    /// Sets what happens to the tenant's secrets when a scanner reports their value.
    pub async fn set_policy(
        &self,
        caller: &Caller,
        tenant: &TenantId,
        policy: LeakPolicy,
    ) -> Result<LeakPolicy, ServiceError> {
        Tenants::require(&self.ctx, caller, tenant, Action::WriteSecrets).await?;
        let mut entry = journal::entry(
            caller,
            Some(*tenant),
            AuditAction::TenantLeakPolicyUpdate,
            self.ctx.clock.now(),
        );
        entry.reason = Some(policy.as_str().to_owned());
        self.ctx
            .store
            .set_leak_policy(tenant, policy, &Journal::new(entry))
            .await
            .map_err(|e| match e {
                StorageError::NotFound => ServiceError::TenantNotFound,
                e => e.into(),
            })?;
        Ok(policy)
    }
}

fn require_platform(caller: &Caller) -> Result<(), ServiceError> {
    if caller.may_manage_tenants() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden)
    }
}

/// The audit entry (actor: the scanner key) and `secret.leaked` event of one leak.
fn leak_journal(
    key: &ScannerKey,
    token: &ReportedToken,
    found: &FoundSecret,
    now: DateTime<Utc>,
) -> Journal {
    let action = match found.leak_policy {
        LeakPolicy::Revoke => "revoked",
        LeakPolicy::Alert => "alerted",
    };
    let url = clip(&token.url);
    let mut audit = journal::entry_by(
        "scanner",
        clip(&key.key_identifier),
        Some(found.tenant_id),
        AuditAction::SecretLeakReport,
        now,
    );
    audit.client_kind = Some(found.client_kind);
    audit.client_id = Some(found.client_id.clone());
    audit.secret_id = Some(found.secret.id);
    audit.reason = Some(format!(
        "{}; found at {url} ({})",
        action_text(found.leak_policy),
        clip(&token.source)
    ));
    let subject: SecretSubject =
        found
            .secret
            .subject(found.tenant_id, found.client_kind, &found.client_id);
    let mut event = Event::new(EventType::Leaked, subject, now);
    event.leak = Some(LeakDetails {
        token_type: clip(&token.token_type),
        url,
        source: clip(&token.source),
        action: action.to_owned(),
    });
    Journal::new(audit).with_event(event)
}

/// At most [`WHERE_MAX`] characters, one line.
fn clip(s: &str) -> String {
    s.chars()
        .take(WHERE_MAX)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
