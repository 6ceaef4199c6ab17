//! A real SMTP server for tests: aiosmtpd 1.4.6 (Python, from PyPI) on 127.0.0.1 and a
//! port the kernel picks, started as a child process, that stores every message it
//! accepts and parses it with Python's own `email` package — a parser independent of
//! the crate that wrote the message.
//!
//! The interpreter comes from `LATCHKEY_TEST_SMTP_PYTHON` (scripts/test.sh sets it; by
//! hand: `LATCHKEY_TEST_SMTP_PYTHON="$(bash scripts/smtp-venv.sh)"`). Without it,
//! [`SmtpSink::start`] panics naming the variable: email tests never skip.
//!
//! The server is killed when the [`SmtpSink`] is dropped, and exits by itself when
//! the test process dies (it watches its standard input).
//!
//! Included with `#[path]` by the library's tests (`src/notify/email/tests.rs`) and by
//! `tests/api/main.rs`: it uses only crates both can see (tokio, serde, serde_json,
//! tempfile).

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

/// The variable naming the Python interpreter that has aiosmtpd.
pub const PYTHON_VARIABLE: &str = "LATCHKEY_TEST_SMTP_PYTHON";

/// How long the server may take to start listening.
const START_DEADLINE: Duration = Duration::from_secs(20);

/// The server: binds port 0, prints the port, then stores each message as
/// `NNNNNN.json` (written to a temporary name, then renamed, so a reader never
/// sees half a file).
const SERVER: &str = r#"
import asyncio, json, logging, os, sys, threading, warnings
from email import policy
from email.parser import BytesParser
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

out = sys.argv[1]
login = sys.argv[2] if len(sys.argv) > 3 else None
password = sys.argv[3] if len(sys.argv) > 3 else None

# AUTH without TLS is what the tests want; keep aiosmtpd's warnings about it quiet.
warnings.simplefilter("ignore")
logging.getLogger("mail.log").setLevel(logging.ERROR)

def watch_parent():
    sys.stdin.buffer.read()  # EOF: the test process is gone
    os._exit(0)

threading.Thread(target=watch_parent, daemon=True).start()

class Sink:
    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        # A slow server: answers DATA only after this many seconds (0 by default).
        await asyncio.sleep(float(os.environ.get("SINK_DATA_DELAY", "0")))
        self.count += 1
        raw = envelope.original_content or envelope.content
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        def body(kind):
            part = msg.get_body(preferencelist=(kind,))
            return None if part is None else part.get_content()
        auth = session.auth_data
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "from": str(msg.get("From", "")),
            "to": str(msg.get("To", "")),
            "subject": str(msg.get("Subject", "")),
            "content_type": msg.get_content_type(),
            "headers": [[k, str(v)] for k, v in msg.items()],
            "text": body("plain"),
            "html": body("html"),
            "raw": raw.decode("utf-8", "replace"),
            "auth_login": auth.login.decode() if isinstance(auth, LoginPassword) else None,
        }
        name = f"{self.count:06}"
        tmp = os.path.join(out, "." + name + ".tmp")
        with open(tmp, "w") as f:
            json.dump(record, f)
        os.rename(tmp, os.path.join(out, name + ".json"))
        return "250 Message accepted for delivery"

def authenticate(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword)
          and auth_data.login.decode() == login
          and auth_data.password.decode() == password)
    # handled=False: aiosmtpd answers 535 itself on failure (True would leave the client waiting)
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

async def main():
    handler = Sink()
    def factory():
        if login is None:
            return SMTP(handler, hostname="sink.test")
        return SMTP(handler, hostname="sink.test", authenticator=authenticate,
                    auth_required=True, auth_require_tls=False)
    server = await asyncio.get_running_loop().create_server(factory, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()

asyncio.run(main())
"#;

/// One message as the server received and parsed it.
#[derive(Debug, Clone, Deserialize)]
pub struct ReceivedMail {
    /// Envelope sender (`MAIL FROM`).
    pub mail_from: String,
    /// Envelope recipients (`RCPT TO`).
    pub rcpt_tos: Vec<String>,
    /// Decoded `From`, `To` and `Subject` headers.
    pub from: String,
    pub to: String,
    pub subject: String,
    /// Top-level MIME type, e.g. `multipart/alternative`.
    pub content_type: String,
    /// Every header, decoded, in order.
    pub headers: Vec<(String, String)>,
    /// The decoded `text/plain` and `text/html` bodies, when present.
    pub text: Option<String>,
    pub html: Option<String>,
    /// The message as sent (transfer encodings not undone).
    pub raw: String,
    /// The login the client authenticated with, if any.
    pub auth_login: Option<String>,
}

impl ReceivedMail {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A running aiosmtpd; killed on drop.
pub struct SmtpSink {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl SmtpSink {
    /// Starts a server that accepts every message without authentication.
    pub async fn start() -> Self {
        Self::spawn(None).await
    }

    /// Starts a server that takes `delay` to accept each message (answer `DATA`),
    /// and stores it only then.
    pub async fn start_slow(delay: Duration) -> Self {
        Self::spawn_with(None, delay).await
    }

    /// Starts a server that requires `AUTH` (PLAIN or LOGIN, allowed without TLS)
    /// with exactly this login and password.
    pub async fn start_with_login(login: &str, password: &str) -> Self {
        Self::spawn(Some((login, password))).await
    }

    async fn spawn(login: Option<(&str, &str)>) -> Self {
        Self::spawn_with(login, Duration::ZERO).await
    }

    async fn spawn_with(login: Option<(&str, &str)>, delay: Duration) -> Self {
        let python = std::env::var(PYTHON_VARIABLE).unwrap_or_else(|_| {
            panic!(
                "{PYTHON_VARIABLE} is not set: it names a Python with aiosmtpd 1.4.6 for the \
                 SMTP tests. scripts/test.sh sets it; by hand run \
                 {PYTHON_VARIABLE}=\"$(bash scripts/smtp-venv.sh)\" cargo nextest run …"
            )
        });
        let dir = tempfile::tempdir().expect("a temporary directory for received mail");
        let mut command = Command::new(&python);
        command.arg("-c").arg(SERVER).arg(dir.path());
        command.env("SINK_DATA_DELAY", delay.as_secs_f64().to_string());
        if let Some((login, password)) = login {
            command.arg(login).arg(password);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {python} (from {PYTHON_VARIABLE}): {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match tokio::time::timeout(START_DEADLINE, rx).await {
            Ok(Ok(line)) => line,
            Ok(Err(_)) | Err(_) => {
                let _ = child.kill();
                let status = child.wait();
                panic!("aiosmtpd did not start within {START_DEADLINE:?} ({status:?})");
            }
        };
        let Ok(port) = line.trim().parse::<u16>() else {
            let _ = child.kill();
            let status = child.wait();
            panic!(
                "aiosmtpd did not print its port (got {line:?}, exit {status:?}); is aiosmtpd \
                 installed for {python}?"
            );
        };
        Self { child, port, dir }
    }

    pub fn host(&self) -> &str {
        "127.0.0.1"
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every message accepted so far, in order of arrival.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        read_messages(self.dir.path())
    }

    /// Waits until at least `n` messages arrived, polling; panics after `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            if Instant::now() >= deadline {
                let subjects: Vec<&str> = messages.iter().map(|m| m.subject.as_str()).collect();
                panic!(
                    "expected {n} messages within {timeout:?}, got {}: {subjects:?}",
                    messages.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn read_messages(dir: &Path) -> Vec<ReceivedMail> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .expect("the received-mail directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("a received message");
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: not a message record: {e}", p.display()))
        })
        .collect()
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
