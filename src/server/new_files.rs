//! The files a failed start must not leave behind: those it creates beside a new
//! SQLite database, noted before the start and removed after its runtime (and so
//! every connection) is gone.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::config::{MasterKeySource, Settings};
use crate::storage;

/// The files a start creates beside a SQLite database: for a database that does
/// not exist yet the database and its `-wal`, `-shm` and `.lock` files, and a
/// master key file that does not exist yet. Noted before the start, so that a start
/// that fails removes them again and leaves the directory as it found it; files
/// that existed before are never touched.
pub struct NewFiles {
    files: Vec<PathBuf>,
    /// The database's lock file: held by another process, it made the files.
    lock: Option<PathBuf>,
    /// The database's `-wal` file, which SQLite deletes when its last connection
    /// closes (on threads of their own, after the runtime is gone).
    wal: Option<PathBuf>,
}

impl NewFiles {
    /// The files of `settings`' SQLite database that do not exist yet; none for
    /// PostgreSQL.
    pub fn of(settings: &Settings) -> Self {
        let Some(db) = storage::sqlite_file(&settings.database_url) else {
            return Self {
                files: Vec::new(),
                lock: None,
                wal: None,
            };
        };
        let beside = |suffix: &str| {
            let mut name = db.clone().into_os_string();
            name.push(suffix);
            PathBuf::from(name)
        };
        let mut files = Vec::new();
        if !db.exists() {
            files.extend(["", "-wal", "-shm", ".lock"].map(beside));
            // A new key file goes only with a new database: an existing database
            // (say, from `latchkey migrate`) may already hold signing keys sealed
            // with the key this start creates, and must never lose it.
            if let MasterKeySource::File(key) = &settings.master_key {
                files.push(key.clone());
            }
        }
        files.retain(|f| !f.exists());
        Self {
            files,
            lock: Some(beside(".lock")),
            wal: Some(beside("-wal")),
        }
    }

    /// Removes the noted files, once the failed start's runtime is gone and its
    /// connections have closed (waiting at most 2 s for SQLite to delete the `-wal`
    /// file, as it does when the last one closes); not when another process holds
    /// the database's lock (it made them, racing this start).
    pub fn remove(self) {
        let held_elsewhere = self
            .lock
            .and_then(|lock| std::fs::File::open(lock).ok())
            .map(|file| (file.try_lock().is_err(), file));
        let _lock = match held_elsewhere {
            Some((true, _)) => return,
            Some((false, file)) => Some(file),
            None => None,
        };
        if let Some(wal) = &self.wal {
            let deadline = Instant::now() + Duration::from_secs(2);
            while wal.exists() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        for file in &self.files {
            match std::fs::remove_file(file) {
                Ok(()) => tracing::info!(
                    path = %file.display(),
                    "removed {}, made by this failed start",
                    file.display()
                ),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => tracing::warn!(
                    path = %file.display(),
                    error = %e,
                    "cannot remove {}, made by this failed start: {e}",
                    file.display()
                ),
            }
        }
    }
}
