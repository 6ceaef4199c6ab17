//! Starts the compiled `latchkey` binary for one test and hands the test a typed client.
//!
//! Each [`TestServer`] is its own process on `127.0.0.1:0` with a random bootstrap token and a
//! fresh database (a SQLite file in a temporary directory, or a new `lk_<uuid>` database on the
//! cluster of `LATCHKEY_TEST_POSTGRES_URL`, never dropped: the test cluster is thrown away).
//! No fixed ports, no unbounded waits; the child is killed on drop; its stdout and stderr are
//! kept ([`TestServer::logs`]) and printed if the test panics. OS threads drain the pipes, so a
//! test blocking its runtime cannot stall the server. The child runs in its temporary directory
//! without inherited `LATCHKEY_*`/`RUST_LOG`, so a developer's shell or `latchkey.yml` is moot.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use reqwest::{Method, RequestBuilder};
use serde_json::Value;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tokio::process::{Child, Command};
use tokio::time::{Instant, sleep, timeout};

/// What the server prints to stdout once it has bound its port, followed by its URL.
const LISTENING: &str = "Latchkey listening on ";
const START_DEADLINE: Duration = Duration::from_secs(30);
const READY_DEADLINE: Duration = Duration::from_secs(30);
const EXIT_DEADLINE: Duration = Duration::from_secs(15);
const DRAIN_DEADLINE: Duration = Duration::from_secs(5); // pipes at end-of-file after exit
const POLL: Duration = Duration::from_millis(25);

/// The storage a server runs on. API tests run on both (see [`both_backends!`]).
/// The master key every test server gets (64 hex characters = 32 bytes).
pub const TEST_MASTER_KEY: &str =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// How to start a server beyond the defaults.
#[derive(Default, Clone)]
pub struct ServerOptions {
    /// Extra environment; overrides the defaults (`RUST_LOG=debug`, `NO_COLOR=1`,
    /// `LATCHKEY_MASTER_KEY=`[`TEST_MASTER_KEY`]).
    pub env: Vec<(String, String)>,
    /// Written to `latchkey.yml` in the temporary directory and passed with `--config`.
    pub config_yaml: Option<String>,
    /// Appended after `serve --listen 127.0.0.1:0 --database URL [--config FILE]`; with
    /// its own `--listen`, that one replaces `127.0.0.1:0`.
    pub extra_args: Vec<String>,
    /// Reuse an existing database (a second node on the same PostgreSQL database).
    pub database_url: Option<String>,
}

/// One running `latchkey serve` process.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`, as printed by the server.
    pub base_url: String,
    /// The bootstrap token: `Authorization: Bearer <token>` is a platform administrator.
    pub token: String,
    /// A client without credentials (30 s timeout, no proxy).
    pub http: reqwest::Client,
    /// The server's database; pass it in [`ServerOptions::database_url`] to share it.
    pub database_url: String,
    pub backend: Backend,
    process: Process,
}

/// A child process, what it wrote so far, and the temporary directory it runs in.
struct Process {
    child: Child,
    output: Arc<Mutex<Output>>,
    // Declared after `child`: the directory goes once the child has been killed.
    #[expect(dead_code, reason = "held for its Drop, which deletes the directory")]
    dir: tempfile::TempDir,
}

/// What the pipe threads collected: stdout and stderr line by line in arrival order, the URL
/// of the first `Latchkey listening on …` line on stdout, and how many pipes are still open.
#[derive(Default)]
struct Output {
    text: String,
    listening: Option<String>,
    open: usize,
}

impl Drop for Process {
    fn drop(&mut self) {
        // The server's side of a failed test, printed under the panic message.
        if std::thread::panicking() {
            let text = self.text();
            eprintln!("----- latchkey output -----\n{text}----- end of latchkey output -----");
        }
    }
}

/// A panicking pipe thread must not hide the output from the test.
fn lock(output: &Mutex<Output>) -> MutexGuard<'_, Output> {
    output.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Process {
    fn text(&self) -> String {
        lock(&self.output).text.clone()
    }

    /// The exit status if the process ends within `limit`, with its output complete.
    async fn exit_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let status = timeout(limit, self.child.wait()).await.ok()?;
        let deadline = Instant::now() + DRAIN_DEADLINE;
        while lock(&self.output).open > 0 && Instant::now() < deadline {
            sleep(POLL).await;
        }
        Some(status.expect("wait for the latchkey process"))
    }
}

/// Declares `TestServer::get` and its siblings: `path` with `Authorization: Bearer <token>`.
macro_rules! authorized_requests {
    ($($name:ident $method:ident),*) => {$(
        #[doc = concat!("`", stringify!($method), " path` with the bootstrap token.")]
        pub fn $name(&self, path: &str) -> RequestBuilder {
            self.http.request(Method::$method, self.url(path)).bearer_auth(&self.token)
        }
    )*};
}

impl TestServer {
    /// Starts a server with the default options.
    pub async fn start(backend: Backend) -> TestServer {
        Self::start_with(backend, ServerOptions::default()).await
    }

    /// Starts a server; returns once it printed its address and then `/readyz` answered 200.
    pub async fn start_with(backend: Backend, opts: ServerOptions) -> TestServer {
        let mut server = spawn(backend, &opts).await;
        let deadline = Instant::now() + START_DEADLINE;
        server.base_url = loop {
            if let Some(url) = lock(&server.process.output).listening.clone() {
                break url;
            }
            if let Some(status) = server.process.exit_within(Duration::ZERO).await {
                panic!("latchkey exited with {status} before listening (its output follows)");
            }
            assert!(
                Instant::now() < deadline,
                "latchkey printed no `{LISTENING}http://…` line on stdout within \
                 {START_DEADLINE:?} (its output follows)"
            );
            sleep(POLL).await;
        };
        let deadline = Instant::now() + READY_DEADLINE;
        loop {
            let last = match server.http.get(server.url("/readyz")).send().await {
                Ok(res) if res.status() == 200 => return server,
                Ok(res) => format!("status {}", res.status()),
                Err(e) => format!("error {e}"),
            };
            assert!(
                Instant::now() < deadline,
                "GET /readyz did not answer 200 within {READY_DEADLINE:?} (last: {last})"
            );
            sleep(POLL).await;
        }
    }

    /// `base_url` + `path` (`path` starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    authorized_requests!(get GET, head HEAD, post POST, put PUT, delete DELETE);

    /// Creates a tenant named `t-<random>` and returns its `Id`.
    pub async fn create_tenant(&self) -> String {
        let name = format!("t-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let body = serde_json::json!({ "Name": name });
        let body = expect_created(self.post("/api/v1/Tenants").json(&body)).await;
        match body["Id"].as_str() {
            Some(id) => id.to_owned(),
            None => panic!("the tenant has no string Id: {body}"),
        }
    }

    /// Creates a client of `kind` (`ClientCredentialClients` or `HybridClients`) in `tenant`;
    /// returns the whole 201 body (the first secret and `Client`).
    pub async fn create_client(&self, tenant: &str, kind: &str, body: Value) -> Value {
        let path = format!("/api/v1/Tenants/{tenant}/{kind}");
        expect_created(self.post(&path).json(&body)).await
    }

    /// Everything the process wrote to stdout and stderr so far.
    pub fn logs(&self) -> String {
        self.process.text()
    }

    /// What the server stored: for SQLite the bytes of the database file and its `-wal` and
    /// `-shm` files; for PostgreSQL every row of every table in schema `public`, as text.
    pub async fn stored_bytes(&self) -> Vec<u8> {
        if self.backend == Backend::Postgres {
            return postgres_dump(&self.database_url).await.into_bytes();
        }
        let db = sqlite_path(&self.database_url);
        let mut bytes = Vec::new();
        for suffix in ["", "-wal", "-shm"] {
            let mut path = db.clone().into_os_string();
            path.push(suffix);
            bytes.extend(std::fs::read(&path).unwrap_or_default());
        }
        assert!(!bytes.is_empty(), "no SQLite file at {}", db.display());
        bytes
    }

    /// Sends SIGKILL (no shutdown, nothing flushed) and waits for the process to end. The
    /// server's temporary directory, and a SQLite database in it, stays until the server is
    /// dropped: start another one on [`Self::database_url`] to see what survived the crash.
    pub async fn kill(&mut self) -> ExitStatus {
        self.process.child.kill().await.expect("SIGKILL latchkey");
        match self.process.exit_within(EXIT_DEADLINE).await {
            Some(status) => status,
            None => panic!("latchkey still ran {EXIT_DEADLINE:?} after SIGKILL (output follows)"),
        }
    }

    /// Sends SIGTERM and returns at once (the server shuts down on its own time).
    pub async fn send_sigterm(&self) {
        if let Some(pid) = self.process.child.id() {
            // The shell's builtin `kill`: `/bin/kill` (procps) is absent from slim images.
            let kill = format!("kill -TERM {pid}");
            let sent = Command::new("sh").args(["-c", &kill]).status().await;
            assert!(sent.expect("run sh").success(), "`{kill}` failed");
        }
    }

    /// True while the process runs.
    pub async fn is_running(&mut self) -> bool {
        self.process.exit_within(Duration::ZERO).await.is_none()
    }

    /// Sends SIGTERM and waits (at most 15 s) for the process to exit.
    pub async fn terminate(mut self) -> ExitStatus {
        self.send_sigterm().await;
        match self.process.exit_within(EXIT_DEADLINE).await {
            Some(status) => status,
            None => panic!("latchkey still ran {EXIT_DEADLINE:?} after SIGTERM (output follows)"),
        }
    }
}

/// Sends `request`, asserts 201 Created and returns the JSON body.
async fn expect_created(request: RequestBuilder) -> Value {
    let res = request.send().await.expect("send the request");
    let status = res.status();
    let text = res.text().await.expect("read the response body");
    assert_eq!(status, 201, "expected 201 Created, body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Runs a server that should stop by itself (a start-up failure such as a bad config);
/// returns its exit status and output. Panics if it still runs after 15 s.
pub async fn run_to_exit(backend: Backend, opts: ServerOptions) -> (ExitStatus, String) {
    let mut server = spawn(backend, &opts).await;
    match server.process.exit_within(EXIT_DEADLINE).await {
        Some(status) => (status, server.logs()),
        None => panic!("latchkey still ran after {EXIT_DEADLINE:?} (its output follows)"),
    }
}

/// Creates the temporary directory and database, then starts the binary with piped output.
/// The `base_url` of the server returned is empty until the server printed it.
async fn spawn(backend: Backend, opts: &ServerOptions) -> TestServer {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let sqlite_file = dir.path().join("latchkey.db");
    let database_url = match (&opts.database_url, backend) {
        (Some(url), _) => url.clone(),
        (None, Backend::Sqlite) => format!("sqlite://{}", sqlite_file.display()),
        (None, Backend::Postgres) => create_postgres_database().await,
    };
    let token = format!("lk-test-{}", uuid::Uuid::new_v4().simple());

    let mut command = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    command.arg("serve");
    // A test may choose its own address (`extra_args: ["--listen", …]`).
    if !opts.extra_args.iter().any(|a| a == "--listen") {
        command.args(["--listen", "127.0.0.1:0"]);
    }
    command.arg("--database").arg(&database_url);
    if let Some(yaml) = &opts.config_yaml {
        let path = dir.path().join("latchkey.yml");
        std::fs::write(&path, yaml).expect("write the config file");
        command.arg("--config").arg(&path);
    }
    command.args(&opts.extra_args);
    for (key, _) in std::env::vars_os() {
        let name = key.to_string_lossy().to_ascii_uppercase();
        if name.starts_with("LATCHKEY_") || name == "RUST_LOG" {
            command.env_remove(&key);
        }
    }
    command.env("LATCHKEY_BOOTSTRAP_TOKEN", &token);
    command.env("RUST_LOG", "debug").env("NO_COLOR", "1");
    // One master key for every test server, so nodes sharing a database can open
    // each other's signing key (PostgreSQL requires it; SQLite would use a key file).
    command.env("LATCHKEY_MASTER_KEY", TEST_MASTER_KEY);
    command.envs(opts.env.iter().map(|(k, v)| (k, v)));
    command.current_dir(dir.path()).kill_on_drop(true);
    command.stdin(Stdio::null()).stdout(Stdio::piped());
    command.stderr(Stdio::piped());

    let mut child = command.spawn().expect("start the latchkey binary");
    let output = Arc::default();
    let stdout = child.stdout.take().map(|pipe| pipe.into_owned_fd());
    let stderr = child.stderr.take().map(|pipe| pipe.into_owned_fd());
    for (pipe, is_stdout) in [(stdout, true), (stderr, false)] {
        let fd = pipe.expect("piped output").expect("the pipe as a file");
        collect(File::from(fd), is_stdout, &output);
    }
    // The server closes a connection idle for `server.headerReadTimeout` (10 s by
    // default); dropping pooled ones sooner means none is reused as it closes.
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_idle_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30));
    TestServer {
        base_url: String::new(),
        token,
        http: http.build().expect("build the HTTP client"),
        database_url,
        backend,
        process: Process { child, output, dir },
    }
}

/// Reads one pipe line by line on an OS thread into the shared output.
fn collect(pipe: File, is_stdout: bool, output: &Arc<Mutex<Output>>) {
    let output = output.clone();
    lock(&output).open += 1;
    std::thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut line = Vec::new();
        while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
            let text = String::from_utf8_lossy(&line);
            let mut out = lock(&output);
            if is_stdout && out.listening.is_none() {
                let url = text.trim().strip_prefix(LISTENING);
                out.listening = url.map(|url| url.trim_end_matches('/').to_owned());
            }
            out.text.push_str(text.trim_end_matches('\n'));
            out.text.push('\n');
            line.clear();
        }
        lock(&output).open -= 1;
    });
}

async fn pg_connect(url: &str) -> PgConnection {
    let conn = PgConnection::connect(url).await;
    conn.unwrap_or_else(|e| panic!("connect to PostgreSQL at {url}: {e}"))
}

/// `CREATE DATABASE lk_<uuid>` on the cluster of `LATCHKEY_TEST_POSTGRES_URL`, as the storage
/// conformance tests do (one helper for both); returns the new database's URL.
pub async fn create_postgres_database() -> String {
    latchkey::storage::test_database::create_postgres_database()
        .await
        .url
}

/// The file behind a `sqlite://PATH[?options]` URL.
fn sqlite_path(url: &str) -> PathBuf {
    let path = url.strip_prefix("sqlite://").unwrap_or(url);
    PathBuf::from(path.split('?').next().unwrap_or(path))
}

/// Every row of every base table in schema `public`, one `table: (row as text)` per line.
async fn postgres_dump(database_url: &str) -> String {
    let mut conn = pg_connect(database_url).await;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name",
    )
    .fetch_all(&mut conn)
    .await
    .expect("list the tables");
    assert!(!tables.is_empty(), "no tables in {database_url}");
    let mut dump = String::new();
    for table in tables {
        let quoted = table.replace('"', "\"\"");
        let sql = format!("SELECT t::text FROM public.\"{quoted}\" t");
        let rows: Vec<String> = sqlx::query_scalar(AssertSqlSafe(sql))
            .fetch_all(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("read table {table}: {e}"));
        dump.extend(rows.iter().map(|row| format!("{table}: {row}\n")));
    }
    let _ = conn.close().await;
    dump
}

/// Declares a `sqlite` and a `postgres` test for each `async fn name(backend: Backend)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() { super::$name($crate::harness::Backend::Sqlite).await }
            #[tokio::test]
            async fn postgres() { super::$name($crate::harness::Backend::Postgres).await }
        }
    )*};
}
