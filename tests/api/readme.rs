//! The README's walk-through runs as printed: the shell blocks of "A secret's
//! whole life, with curl" and "Tokens: using a secret" are run in order by bash
//! against a fresh server (only the address is changed), and every `# → {…}`
//! line is compared with the response of the `curl` before it: each field it
//! names is there, and each value it spells out (not `…`) is that value. So the
//! README cannot drift from the API again. Needs `bash`, `curl` and `jq`
//! (scripts/test.sh installs jq).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::harness::*;

/// The sections whose first `sh` block is the walk-through, in order.
const SECTIONS: [&str; 2] = [
    "## A secret's whole life, with curl",
    "## Tokens: using a secret",
];

/// The address the README uses, replaced by the test server's.
const README_ADDRESS: &str = "http://127.0.0.1:8080";

/// The first fenced `sh` block after `heading`.
fn block_after(readme: &str, heading: &str) -> String {
    let start = readme
        .find(heading)
        .unwrap_or_else(|| panic!("README has no section {heading:?}"));
    let rest = &readme[start..];
    let open = rest.find("```sh\n").expect("an sh block") + "```sh\n".len();
    let close = rest[open..].find("```").expect("the block's end");
    rest[open..open + close].to_owned()
}

/// The number of `curl` invocations in `line` (a command at the start of the
/// line or inside `$(…)`).
fn curls_in(line: &str) -> usize {
    let code = line.split(" #").next().unwrap_or(line);
    let starts = usize::from(code.trim_start().starts_with("curl "));
    starts + code.matches("$(curl ").count()
}

/// `(invocation number, expected line)` for each `# →` line: the invocation is
/// the last `curl` before it (numbered from 1).
fn expectations(script: &str) -> Vec<(usize, String)> {
    let mut seen = 0;
    let mut out = Vec::new();
    for line in script.lines() {
        let trimmed = line.trim_start();
        if let Some(expected) = trimmed.strip_prefix("# →") {
            out.push((seen, expected.trim().to_owned()));
        } else if !trimmed.starts_with('#') {
            seen += curls_in(line);
        }
    }
    out
}

/// The `"Name":value` pairs an expected line spells out; `None` for a value
/// shown as `…` (any value) or as a nested object or list.
fn expected_fields(expected: &str) -> Vec<(String, Option<Value>)> {
    let mut fields = Vec::new();
    let mut rest = expected;
    while let Some(open) = rest.find('"') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('"') else { break };
        let name = &after[..close];
        let tail = &after[close + 1..];
        if let Some(value) = tail.strip_prefix(':') {
            let end = value
                .char_indices()
                .scan((0i32, false), |(depth, quoted), (i, c)| {
                    match c {
                        '"' => *quoted = !*quoted,
                        '{' | '[' if !*quoted => *depth += 1,
                        '}' | ']' if !*quoted => *depth -= 1,
                        _ => {}
                    }
                    Some((i, c, *depth, *quoted))
                })
                .find(|(_, c, depth, quoted)| {
                    !*quoted && (*depth < 0 || (*c == ',' && *depth == 0))
                })
                .map_or(value.len(), |(i, ..)| i);
            let raw = value[..end].trim();
            let literal = (!raw.contains('…') && !raw.starts_with('{') && !raw.starts_with('['))
                .then(|| serde_json::from_str::<Value>(raw).ok())
                .flatten();
            fields.push((name.to_owned(), literal));
            rest = &value[end..];
        } else {
            rest = tail;
        }
    }
    fields
}

#[tokio::test]
async fn the_readme_walk_through_runs_as_printed() {
    let server = TestServer::start(Backend::Sqlite).await;
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let script: String = SECTIONS
        .iter()
        .map(|heading| block_after(&readme, heading))
        .collect::<Vec<_>>()
        .join("\n");
    let script = script.replace(README_ADDRESS, &server.base_url);
    let log = tempfile::tempdir().expect("a temporary directory");
    // Each curl's output is also kept, numbered, for the `# →` comparisons.
    let prelude = format!(
        "set -euo pipefail\nLOG='{}'\necho 0 > \"$LOG/count\"\n\
         curl() {{ local n; n=$(( $(cat \"$LOG/count\") + 1 )); echo \"$n\" > \"$LOG/count\"; \
         command curl --max-time 20 \"$@\" | tee \"$LOG/$n\"; }}\n",
        log.path().display()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("{prelude}{script}"))
        .env("LATCHKEY_BOOTSTRAP_TOKEN", &server.token)
        .output()
        .expect("run bash");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the walk-through failed: {stderr}");
    let ran: usize = std::fs::read_to_string(log.path().join("count"))
        .expect("the count")
        .trim()
        .parse()
        .expect("a number");
    let expected = expectations(&script);
    assert!(!expected.is_empty(), "the README shows responses");
    for (n, line) in expected {
        assert!(
            n >= 1 && n <= ran,
            "`# → {line}` follows no curl that ran ({n} of {ran})"
        );
        let body = std::fs::read_to_string(log.path().join(n.to_string())).expect("a response");
        let got: Value = serde_json::from_str(body.trim())
            .unwrap_or_else(|e| panic!("curl {n} did not answer JSON ({e}): {body}"));
        for (field, value) in expected_fields(&line) {
            let actual = got.get(&field).unwrap_or_else(|| {
                panic!(
                    "curl {n}: the README shows {field:?} in `{line}`, the response has none: {got}"
                )
            });
            if let Some(value) = value {
                assert_eq!(actual, &value, "curl {n}: {field} in `{line}`: {got}");
            }
        }
    }
}

#[test]
fn expected_lines_are_read_field_by_field() {
    let fields =
        expected_fields(r#"{"Secret":"lkcs_…","Id":1,"Client":{"Id":"x"},"Expires":true}"#);
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Secret", "Id", "Client", "Expires"]);
    assert_eq!(fields[0].1, None, "… is any value");
    assert_eq!(fields[1].1, Some(serde_json::json!(1)));
    assert_eq!(fields[2].1, None, "nested objects are not compared");
    assert_eq!(fields[3].1, Some(serde_json::json!(true)));
    assert_eq!(curls_in("SECRET=$(curl -s x | jq -r .Secret)"), 1);
    assert_eq!(curls_in("curl -s -X DELETE x     # 204"), 1);
}
