//! Whole-database copies of a SQLite database: a consistent online backup
//! (`VACUUM INTO` on a connection of its own, beside a running server), and a
//! restore that replaces the database file while no process holds it.
//!
//! The backup reads one snapshot (a read transaction in WAL mode), so writes
//! the server commits meanwhile are either wholly in it or not at all; it takes
//! no lock of [`super::lock`], which only guards writers. The restore takes
//! that lock, so it refuses while a server runs, checks the file it is given
//! (`PRAGMA quick_check`, and that Latchkey's migrations table is there), then
//! copies it beside the database, syncs it, removes the database's `-wal` and
//! `-shm` files (they belong to the old database) and renames the copy over it:
//! the database path holds the old file or the new one, never a mix.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use super::lock;
use crate::storage::StorageError;

fn io_error(what: &str, path: &Path, e: &io::Error) -> StorageError {
    StorageError::CannotOpen(format!("{what} {}: {e}", path.display()))
}

/// The database file behind `url`; an in-memory database has none.
fn database_file(url: &str) -> Result<PathBuf, StorageError> {
    let options = SqliteConnectOptions::from_str(url)?;
    let path = options.get_filename().to_path_buf();
    if lock::lock_path(&path).is_none() {
        return Err(StorageError::CannotOpen(
            "an in-memory database cannot be backed up or restored".into(),
        ));
    }
    Ok(path)
}

/// Writes a consistent copy of the database at `url` to `dest` (a new file,
/// mode 0600), while a server may be using it.
pub async fn backup(url: &str, dest: &Path) -> Result<(), StorageError> {
    let db = database_file(url)?;
    if !db.exists() {
        return Err(StorageError::CannotOpen(format!(
            "no database at {}",
            db.display()
        )));
    }
    // VACUUM INTO writes into a new or empty file; creating it first gives it mode 0600.
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dest)
        .map_err(|e| io_error("cannot create the backup file", dest, &e))?;
    let result = vacuum_into(&db, dest).await;
    if result.is_err() {
        let _ = fs::remove_file(dest);
    }
    result
}

async fn vacuum_into(db: &Path, dest: &Path) -> Result<(), StorageError> {
    let mut conn = SqliteConnectOptions::new()
        .filename(db)
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(30))
        .connect()
        .await?;
    let target = dest
        .to_str()
        .ok_or_else(|| StorageError::CannotOpen("the backup path is not UTF-8".into()))?;
    sqlx::query("VACUUM INTO ?")
        .bind(target)
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    File::open(dest)
        .and_then(|f| f.sync_all())
        .map_err(|e| io_error("cannot sync the backup file", dest, &e))
}

/// Replaces the database at `url` with the Latchkey SQLite database in `source`;
/// refuses while another process holds the database.
pub async fn restore(url: &str, source: &Path) -> Result<(), StorageError> {
    let db = database_file(url)?;
    let _held = lock::acquire(&db)?;
    check_backup(source).await?;
    let mut staged = db.clone().into_os_string();
    staged.push(".restoring");
    let staged = PathBuf::from(staged);
    let _ = fs::remove_file(&staged);
    copy_private(source, &staged)?;
    // The old database's last commits may still be in its -wal file: fold them in
    // first, so that removing that file below loses nothing should the rename
    // then fail (the old database stays whole).
    // A database too broken to open (a reason to restore) is replaced all the same.
    if db.is_file()
        && let Err(e) = checkpoint(&db).await
    {
        tracing::warn!(error = %e, "the database to replace could not be checkpointed; replacing it as it is");
    }
    for suffix in ["-wal", "-shm"] {
        let mut side = db.clone().into_os_string();
        side.push(suffix);
        match fs::remove_file(&side) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error("cannot remove", Path::new(&side), &e)),
        }
    }
    fs::rename(&staged, &db).map_err(|e| io_error("cannot move the restored file to", &db, &e))?;
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_error("cannot sync the directory", dir, &e))?;
    }
    Ok(())
}

/// Moves every commit in `db`'s -wal file into the database file and empties it.
async fn checkpoint(db: &Path) -> Result<(), StorageError> {
    let mut conn = SqliteConnectOptions::new()
        .filename(db)
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(30))
        .connect()
        .await?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

/// `source` is a sound SQLite file that Latchkey's migrations created.
async fn check_backup(source: &Path) -> Result<(), StorageError> {
    if !source.is_file() {
        return Err(StorageError::CannotOpen(format!(
            "no file at {}",
            source.display()
        )));
    }
    let not_latchkey = |why: String| {
        StorageError::CannotOpen(format!(
            "{} is not a Latchkey SQLite backup: {why}",
            source.display()
        ))
    };
    let mut conn = SqliteConnectOptions::new()
        .filename(source)
        .read_only(true)
        .immutable(true)
        .connect()
        .await
        .map_err(|e| not_latchkey(e.to_string()))?;
    let check: String = sqlx::query_scalar("PRAGMA quick_check")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| not_latchkey(e.to_string()))?;
    if check != "ok" {
        return Err(not_latchkey(format!("quick_check says {check}")));
    }
    let migrated: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('_sqlx_migrations', 'tenants')",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(|e| not_latchkey(e.to_string()))?;
    conn.close().await?;
    if migrated != 2 {
        return Err(not_latchkey("it has no Latchkey tables".into()));
    }
    Ok(())
}

/// Copies `from` to the new file `to` (mode 0600) and syncs it.
fn copy_private(from: &Path, to: &Path) -> Result<(), StorageError> {
    let mut input = File::open(from).map_err(|e| io_error("cannot read", from, &e))?;
    let mut output = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)
        .map_err(|e| io_error("cannot create", to, &e))?;
    io::copy(&mut input, &mut output)
        .and_then(|_| output.sync_all())
        .map_err(|e| io_error("cannot write", to, &e))
}
