//! The SQLite database holds secret hashes and sealed signing keys: a fresh
//! database file and its `-wal` / `-shm` files are created 0600, like the master
//! key file, whatever the process umask. SQLite only.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use crate::harness::*;

#[tokio::test]
async fn a_fresh_sqlite_database_and_its_wal_are_created_0600() {
    let server = TestServer::start(Backend::Sqlite).await;
    // A write, so the WAL certainly exists.
    server.create_tenant().await;
    let url = &server.database_url;
    let db = url.strip_prefix("sqlite://").expect("a sqlite:// URL");
    let db = PathBuf::from(db.split('?').next().unwrap_or(db));
    let mut checked = 0;
    for (suffix, required) in [("", true), ("-wal", true), ("-shm", false), (".lock", true)] {
        let mut path = db.clone().into_os_string();
        path.push(suffix);
        let path = PathBuf::from(path);
        match std::fs::metadata(&path) {
            Ok(meta) => {
                let mode = meta.permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{} has mode {mode:03o}", path.display());
                checked += 1;
            }
            Err(e) => assert!(!required, "{}: {e}", path.display()),
        }
    }
    assert!(checked >= 3);
}
