//! The key ring: the token-signing key every node uses and the public keys
//! tokens are verified with (and the JWKS publishes), loaded once at start-up;
//! plus the master-key file for deployments that do not pass the key in.
//!
//! Owns the life of signing keys in storage; the cryptography is
//! [`crate::domain::jws`]. Invariants:
//! - storage holds private keys only sealed under the master key, bound to
//!   their kid (AES-256-GCM associated data);
//! - every node ends up signing with the same key: the first node to start on
//!   an empty database creates it, and a node that loses that race reads the
//!   winner's key back instead of using its own;
//! - the JWKS carries only the checked public fields of each stored key.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::domain::jws::{ALGORITHM, JwsError, MasterKey, SigningKey, VerifyingKey};
use crate::storage::{SigningKeyRecord, Storage, StorageError};

/// Why the key ring or the master-key file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    #[error(
        "the master key does not open the stored signing key: LATCHKEY_MASTER_KEY differs from the one that created it"
    )]
    WrongMasterKey,
    #[error("the stored signing key {kid} is unusable: {reason}")]
    CorruptKey { kid: String, reason: String },
    #[error("signing key: {0}")]
    Crypto(#[from] JwsError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("master key file {}: {reason}", path.display())]
    KeyFile { path: PathBuf, reason: String },
}

/// The current signing key and every published verifying key. Cheap to clone.
#[derive(Clone)]
pub struct KeyRing {
    current: Arc<SigningKey>,
    verifying: Vec<VerifyingKey>,
    jwks: Value,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.verifying.iter().map(VerifyingKey::kid).collect();
        write!(
            f,
            "KeyRing(current {}, published {kids:?})",
            self.current.kid()
        )
    }
}

impl KeyRing {
    /// Loads the current signing key, creating it first (created at `now`) when
    /// the database has none, and every published public key.
    pub async fn load(
        store: &dyn Storage,
        master: &MasterKey,
        now: DateTime<Utc>,
    ) -> Result<Self, KeyRingError> {
        let record = match store.current_signing_key().await? {
            Some(record) => record,
            None => {
                let key = SigningKey::generate()?;
                store
                    .insert_signing_key_if_absent(&SigningKeyRecord {
                        kid: key.kid().to_owned(),
                        algorithm: ALGORITHM.to_owned(),
                        private_key_sealed: key.seal_with(master)?,
                        public_jwk: key.public_jwk().to_string(),
                        created_at: now,
                    })
                    .await?;
                // Read back rather than use `key`: another node may have won the race.
                let stored = store.current_signing_key().await?.ok_or_else(|| {
                    StorageError::Corrupt("no current signing key right after storing one".into())
                })?;
                if stored.kid == key.kid() {
                    tracing::info!(key.kid = %stored.kid, "created token-signing key {}", stored.kid);
                }
                stored
            }
        };
        let current = Arc::new(open_record(&record, master)?);
        let mut verifying = Vec::new();
        for published in store.signing_keys().await? {
            verifying.push(verifying_key(&published)?);
        }
        if !verifying.iter().any(|k| k.kid() == current.kid()) {
            verifying.push(VerifyingKey::from_jwk(current.public_jwk())?);
        }
        let jwks = json!({ "keys": verifying.iter().map(VerifyingKey::jwk).collect::<Vec<_>>() });
        tracing::info!(key.kid = %current.kid(), keys.published = verifying.len(), "signing tokens with key {}", current.kid());
        Ok(Self {
            current,
            verifying,
            jwks,
        })
    }

    /// The key that signs new tokens.
    pub fn current(&self) -> &SigningKey {
        &self.current
    }

    /// Every key a token may be signed with, for [`crate::domain::jws::verify`].
    pub fn verifying_keys(&self) -> &[VerifyingKey] {
        &self.verifying
    }

    /// The JWK Set document: `{"keys":[...]}`.
    pub fn jwks(&self) -> &Value {
        &self.jwks
    }
}

fn corrupt(record: &SigningKeyRecord, reason: impl ToString) -> KeyRingError {
    KeyRingError::CorruptKey {
        kid: record.kid.clone(),
        reason: reason.to_string(),
    }
}

/// Unseals the current key and checks it against its published half.
fn open_record(record: &SigningKeyRecord, master: &MasterKey) -> Result<SigningKey, KeyRingError> {
    if record.algorithm != ALGORITHM {
        return Err(corrupt(
            record,
            format!("algorithm {} is not supported", record.algorithm),
        ));
    }
    let pkcs8 = master
        .open(&record.private_key_sealed, record.kid.as_bytes())
        .map_err(|_| KeyRingError::WrongMasterKey)?;
    let key = SigningKey::from_pkcs8(&record.kid, &pkcs8).map_err(|e| corrupt(record, e))?;
    let published: Value = serde_json::from_str(&record.public_jwk)
        .map_err(|_| corrupt(record, "its public JWK is not JSON"))?;
    if VerifyingKey::from_jwk(&published)
        .map_err(|e| corrupt(record, e))?
        .jwk()
        != key.public_jwk()
    {
        return Err(corrupt(
            record,
            "its public JWK does not match its private key",
        ));
    }
    Ok(key)
}

fn verifying_key(record: &SigningKeyRecord) -> Result<VerifyingKey, KeyRingError> {
    let jwk: Value = serde_json::from_str(&record.public_jwk)
        .map_err(|_| corrupt(record, "its public JWK is not JSON"))?;
    let key = VerifyingKey::from_jwk(&jwk).map_err(|e| corrupt(record, e))?;
    if key.kid() != record.kid {
        return Err(corrupt(record, "its public JWK names another kid"));
    }
    Ok(key)
}

/// Reads the master key from `path`, or creates the file (mode 0600) with a
/// fresh key when it does not exist.
///
/// A file that other users may read or write is refused (like ssh with a
/// private key); a group-readable one is accepted with a warning, so a
/// secret volume mounted `0440` with a shared group still works. The file is
/// created complete or not at all: the key is written to a private temporary
/// file that is then hard-linked into place, which fails if the path appeared
/// meanwhile, so two processes starting at once both end with the same key.
pub fn load_or_create_key_file(path: &Path) -> Result<MasterKey, KeyRingError> {
    let fail = |reason: String| KeyRingError::KeyFile {
        path: path.to_owned(),
        reason,
    };
    match fs::metadata(path) {
        Ok(_) => return read_key_file(path).map_err(fail),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(fail(e.to_string())),
    }
    let key = MasterKey::generate().map_err(|e| fail(e.to_string()))?;
    let name = path
        .file_name()
        .ok_or_else(|| fail("is not a file name".to_owned()))?;
    let suffix = MasterKey::generate()
        .map_err(|e| fail(e.to_string()))?
        .to_text();
    let mut temp_name = OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{}.tmp", &suffix[..12]));
    let temp = path.with_file_name(temp_name);
    let created = write_new(&temp, &key).and_then(|()| fs::hard_link(&temp, path));
    let _ = fs::remove_file(&temp);
    match created {
        Ok(()) => {
            sync_parent(path).map_err(|e| fail(e.to_string()))?;
            tracing::warn!(path = %path.display(), "created a new master key file; back it up: tokens cannot be signed without it");
            Ok(key)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => read_key_file(path).map_err(fail),
        Err(e) => Err(fail(e.to_string())),
    }
}

fn write_new(path: &Path, key: &MasterKey) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    let mut text = key.to_text();
    text.push('\n');
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => File::open(dir)?.sync_all(),
        _ => File::open(".")?.sync_all(),
    }
}

fn read_key_file(path: &Path) -> Result<MasterKey, String> {
    let mode = fs::metadata(path)
        .map_err(|e| e.to_string())?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o007 != 0 {
        return Err(format!(
            "other users may access it (mode {mode:03o}); run `chmod 600` on it"
        ));
    }
    if mode & 0o070 != 0 {
        tracing::warn!(path = %path.display(), mode = %format!("{mode:03o}"), "the master key file is readable by its group");
    }
    let text = Zeroizing::new(fs::read_to_string(path).map_err(|e| e.to_string())?);
    MasterKey::parse(&text)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
