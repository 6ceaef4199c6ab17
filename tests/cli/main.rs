//! The `latchkey` command line, run as the built binary: the remote commands
//! against a real server (started by the API tests' harness) with
//! `LATCHKEY_URL`/`LATCHKEY_TOKEN`, their output and exit codes, and the local
//! commands (`migrate`, `users reset-password`, `backup`, `restore`) on SQLite
//! files beside a server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code, unused_macros, unused_imports)]
#[path = "../api/harness.rs"]
mod harness;

mod local;
mod remote;
mod serve;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use harness::TestServer;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// What one run of the command line did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts exit code 0; returns stdout.
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "expected success: {self:?}");
        &self.stdout
    }

    /// stdout parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.ok()).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }
}

/// Runs `latchkey ARGS` in `dir` with only `env` among the `LATCHKEY_*` variables,
/// feeding `stdin`; waits at most a minute.
pub async fn latchkey_in(dir: &Path, env: &[(&str, &str)], args: &[&str], stdin: &str) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    command.args(args).current_dir(dir);
    for (key, _) in std::env::vars_os() {
        let name = key.to_string_lossy().to_ascii_uppercase();
        if name.starts_with("LATCHKEY_") || name == "RUST_LOG" {
            command.env_remove(&key);
        }
    }
    command.env("NO_PROXY", "127.0.0.1,localhost");
    command.envs(env.iter().copied());
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().expect("start latchkey");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("latchkey ended within a minute")
        .expect("wait for latchkey");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs a remote command against `server` with its bootstrap token.
pub async fn cli(server: &TestServer, args: &[&str]) -> Run {
    cli_with_stdin(server, args, "").await
}

pub async fn cli_with_stdin(server: &TestServer, args: &[&str], stdin: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("LATCHKEY_URL", server.base_url.as_str()),
        ("LATCHKEY_TOKEN", server.token.as_str()),
    ];
    latchkey_in(dir.path(), &env, args, stdin).await
}
