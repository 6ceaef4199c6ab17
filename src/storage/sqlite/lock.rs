//! One process per SQLite database: an exclusive advisory lock on a file beside
//! it (`latchkey.db` → `latchkey.db.lock`), held for the life of the process.
//!
//! The process that owns a database caches its credentials
//! ([`crate::storage::cached`]), so a second process writing the same file
//! would leave the first one answering from stale data (a revoked secret still
//! accepted). The lock is `flock(LOCK_EX | LOCK_NB)` through std's
//! [`File::try_lock`]: the operating system releases it when the process ends,
//! however it ends (kill -9 included), so a stale lock file never blocks a
//! restart. The holder writes its PID into the file, so a refused process can
//! name it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::storage::StorageError;

/// The lock on one database file; released when dropped (or the process ends).
#[derive(Debug)]
pub(super) struct DatabaseLock {
    _file: File,
}

/// `PATH.lock` beside the database at `db`; `None` for an in-memory database.
pub(super) fn lock_path(db: &Path) -> Option<PathBuf> {
    let name = db.to_string_lossy();
    // sqlx names an in-memory database `file:sqlx-in-memory-N`.
    if name.is_empty() || name.starts_with("file:") || name.contains(":memory:") {
        return None;
    }
    let mut path = db.as_os_str().to_owned();
    path.push(".lock");
    Some(PathBuf::from(path))
}

/// Takes the lock for the database at `db` or says which process holds it.
pub(super) fn acquire(db: &Path) -> Result<Option<DatabaseLock>, StorageError> {
    let Some(path) = lock_path(db) else {
        return Ok(None);
    };
    let cannot = |e: std::io::Error| {
        StorageError::CannotOpen(format!("cannot open the lock file {}: {e}", path.display()))
    };
    // Never truncated on open: the holder's PID must stay readable by others.
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(cannot)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut text = String::new();
            let holder = match file.read_to_string(&mut text) {
                Ok(_) if !text.trim().is_empty() => format!("PID {}", text.trim()),
                _ => "a process that has not yet written its PID".to_owned(),
            };
            return Err(StorageError::CannotOpen(format!(
                "the SQLite database {} is in use by another Latchkey process ({holder}; lock \
                 file {}): one database belongs to one process",
                db.display(),
                path.display()
            )));
        }
        Err(TryLockError::Error(e)) => return Err(cannot(e)),
    }
    file.set_len(0)
        .and_then(|()| file.seek(SeekFrom::Start(0)))
        .and_then(|_| writeln!(file, "{}", std::process::id()))
        .and_then(|()| file.flush())
        .map_err(cannot)?;
    Ok(Some(DatabaseLock { _file: file }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_file_is_refused_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("latchkey.db");
        let held = acquire(&db).unwrap().expect("a file database is locked");
        let pid = std::process::id().to_string();
        let lock_file = dir.path().join("latchkey.db.lock");
        assert_eq!(std::fs::read_to_string(&lock_file).unwrap().trim(), pid);
        // A second open file description: flock refuses it even in this process.
        let refused = acquire(&db).unwrap_err().to_string();
        assert!(refused.contains(&db.display().to_string()), "{refused}");
        assert!(refused.contains(&format!("PID {pid}")), "{refused}");
        drop(held);
        assert!(acquire(&db).unwrap().is_some(), "released on drop");
    }

    #[test]
    fn in_memory_databases_take_no_lock() {
        assert_eq!(lock_path(Path::new("file:sqlx-in-memory-3")), None);
        assert_eq!(lock_path(Path::new(":memory:")), None);
        assert_eq!(
            lock_path(Path::new("/var/lib/lk/latchkey.db")),
            Some(PathBuf::from("/var/lib/lk/latchkey.db.lock"))
        );
    }
}
