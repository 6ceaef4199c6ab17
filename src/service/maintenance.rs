//! Operator tasks on the database itself, run from the host by the local
//! commands of `latchkey` (not through the API): apply the migrations, reset a
//! console user's password, rotate the token-signing keys, back the database up
//! and restore it. Each opens
//! the database on its own; on SQLite, `migrate` and `reset_password` open it
//! the way a server does and so refuse while one runs (one process per
//! database), `backup` reads beside a running server, and `restore` refuses
//! while one runs.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use zeroize::Zeroizing;

use super::accounts::{AccountError, Accounts};
use super::settings::Limits;
use super::{Services, SystemClock};
use crate::storage::{self, StorageError};

/// Opens the database at `url` and applies the migrations it lacks.
pub async fn migrate(url: &str) -> Result<(), StorageError> {
    storage::open(url).await.map(drop)
}

/// Sets a generated password for the console user `name` and ends their
/// sessions; returns the password, to be shown once.
pub async fn reset_password(url: &str, name: &str) -> Result<Zeroizing<String>, AccountError> {
    let store = storage::open(url).await?;
    let services = Services::new(store, Limits::default(), Arc::new(SystemClock));
    // The idle timeout plays no part in a reset.
    let accounts = Accounts::new(&services, Duration::from_secs(3600));
    accounts.reset_password(name).await
}

/// Rotates the token-signing keys from the host (`latchkey keys rotate`):
/// `emergency` withdraws the current key at once (its tokens stop validating)
/// and signs with a new one; otherwise a new key is published now and signs
/// after `schedule`'s overlap. Running servers apply it at their next key
/// refresh. On SQLite this opens the database as a server does, so it refuses
/// while one runs (use `POST /api/v1/SigningKeys/Rotate` then).
pub async fn rotate_keys(
    url: &str,
    master: &crate::domain::jws::MasterKey,
    schedule: crate::domain::signing_keys::KeySchedule,
    emergency: bool,
) -> Result<Option<super::keys::KeyInfo>, super::keys::RotateError> {
    let store = storage::open(url).await?;
    let rotation = if emergency {
        crate::domain::signing_keys::Rotation::Emergency
    } else {
        crate::domain::signing_keys::Rotation::Manual
    };
    super::keys::rotate(
        store.as_ref(),
        master,
        schedule,
        rotation,
        None,
        chrono::Utc::now(),
    )
    .await
}

/// A consistent copy of the database in the new file `dest` (SQLite).
pub async fn backup(url: &str, dest: &Path) -> Result<(), StorageError> {
    storage::backup(url, dest).await
}

/// Replaces the database with the backup `source` (SQLite, no server running).
pub async fn restore(url: &str, source: &Path) -> Result<(), StorageError> {
    storage::restore(url, source).await
}
