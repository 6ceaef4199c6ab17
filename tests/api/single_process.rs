//! One process per SQLite database: a second `latchkey serve` on a file another
//! process serves refuses to start, naming the file and the holder's PID; once the
//! holder is gone (even by kill -9) the file can be served again.

use crate::harness::*;

#[tokio::test]
async fn a_second_process_on_a_sqlite_file_refuses_to_start() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("latchkey.db");
    let opts = ServerOptions {
        database_url: Some(format!("sqlite://{}", db.display())),
        ..ServerOptions::default()
    };
    let mut a = TestServer::start_with(Backend::Sqlite, opts.clone()).await;
    let pid = std::fs::read_to_string(dir.path().join("latchkey.db.lock"))
        .expect("the lock file beside the database");
    let pid = pid.trim().to_owned();
    assert!(
        pid.parse::<u32>().is_ok(),
        "the lock file holds a PID: {pid:?}"
    );

    let (status, output) = run_to_exit(Backend::Sqlite, opts.clone()).await;
    assert!(!status.success(), "B started on A's file: {output}");
    assert!(output.contains(&db.display().to_string()), "{output}");
    assert!(output.contains(&format!("PID {pid}")), "{output}");
    assert!(!output.contains("Latchkey listening on"), "{output}");

    // A dies without any clean-up: the operating system releases its lock.
    a.kill().await;
    let c = TestServer::start_with(Backend::Sqlite, opts).await;
    let (status, _) = (
        c.get("/readyz").send().await.expect("C answers").status(),
        (),
    );
    assert_eq!(status, 200);
}
