//! The leak intake for secret scanners: `POST /api/v1/LeakReports` in GitHub's
//! secret scanning partner program format, signed by a scanner key (a P-256 key
//! pair made here); the tenant's leak policy (revoke, alert); the trusted keys
//! from `leaks.scannerKeys` and from the platform administrator's route.

use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::harness::*;
use crate::lifecycle::{call, exchange, secrets_path};
use crate::oauth::{Cred, cc_client};
use crate::receiver::WebhookReceiver;
use crate::webhooks::{notify_yaml, subscribe};

const CC: &str = "ClientCredentialClients";
/// The DER prefix of a P-256 SubjectPublicKeyInfo, before the 65-byte point.
const SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

struct Scanner {
    id: String,
    pair: EcdsaKeyPair,
}

impl Scanner {
    fn new(id: &str) -> Self {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, doc.as_ref()).unwrap();
        Self {
            id: id.to_owned(),
            pair,
        }
    }

    fn pem(&self) -> String {
        let mut der = SPKI_PREFIX.to_vec();
        der.extend_from_slice(self.pair.public_key().as_ref());
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            STANDARD.encode(der)
        )
    }

    fn document(&self) -> Value {
        json!({"public_keys": [{"key_identifier": self.id, "key": self.pem(), "is_current": true}]})
    }

    fn sign(&self, body: &str) -> String {
        let sig = self
            .pair
            .sign(&SystemRandom::new(), body.as_bytes())
            .unwrap();
        STANDARD.encode(sig.as_ref())
    }
}

/// A notifying server trusting `scanner` through the `leaks.scannerKeys` file.
async fn start_trusting(backend: Backend, scanner: &Scanner) -> (TestServer, tempfile::TempDir) {
    start_trusting_with(backend, scanner, None).await
}

async fn start_trusting_with(
    backend: Backend,
    scanner: &Scanner,
    smtp_port: Option<u16>,
) -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys.json");
    std::fs::write(&keys, scanner.document().to_string()).unwrap();
    let yaml = format!(
        "{}leaks:\n  scannerKeys: \"{}\"\n",
        notify_yaml(&["1s"], smtp_port),
        keys.display()
    );
    let server = crate::webhooks::start_notifying(backend, &yaml, None).await;
    (server, dir)
}

fn body_of(values: &[&str]) -> String {
    let tokens: Vec<Value> = values
        .iter()
        .map(|v| json!({"token": v, "type": "latchkey_client_secret", "url": "https://github.com/o/r/blob/abc/config.yml", "source": "content"}))
        .collect();
    Value::Array(tokens).to_string()
}

async fn send(
    server: &TestServer,
    body: &str,
    key_id: Option<&str>,
    sig: Option<&str>,
) -> (u16, Value) {
    let mut req = server
        .http
        .post(server.url("/api/v1/LeakReports"))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(id) = key_id {
        req = req.header("Github-Public-Key-Identifier", id);
    }
    if let Some(sig) = sig {
        req = req.header("Github-Public-Key-Signature", sig);
    }
    let (status, _, body) = exchange(req).await;
    (status, body)
}

async fn report(server: &TestServer, scanner: &Scanner, values: &[&str]) -> Value {
    let body = body_of(values);
    let (status, answer) = send(server, &body, Some(&scanner.id), Some(&scanner.sign(&body))).await;
    assert_eq!(status, 200, "{answer}");
    answer
}

fn labels(answer: &Value) -> Vec<String> {
    answer
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["label"].as_str().unwrap().to_owned())
        .collect()
}

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn secret_path(cred: &Cred) -> String {
    format!(
        "{}/{}",
        secrets_path(&cred.tenant, CC, &cred.id),
        cred.secret_id
    )
}

async fn leak_audits(server: &TestServer, tenant: &str) -> Vec<Value> {
    let audit = call(
        server.get(&format!("/api/v1/Tenants/{tenant}/AuditEvents?count=1000")),
        200,
    )
    .await;
    audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["Action"] == "secret.leak-report")
        .cloned()
        .collect()
}

fn bad_checksum(value: &str) -> String {
    let mut bad = value.to_owned();
    bad.replace_range(10..11, if &bad[10..11] == "A" { "B" } else { "A" });
    bad
}

async fn a_signed_report_revokes_the_leaked_secret_once(backend: Backend) {
    let scanner = Scanner::new("scanner-key-1");
    let (server, _keys) = start_trusting(backend, &scanner).await;
    let tenant = server.create_tenant().await;
    let receiver = WebhookReceiver::start(None).await;
    subscribe(&server, &tenant, &receiver, &["secret.leaked"]).await;
    let leaked = cc_client(&server, &tenant, &[]).await;
    let body = body_of(&[&leaked.secret]);

    // Unsigned, signed by nobody we trust, over another body, or tampered: 401, nothing changes.
    let stranger = Scanner::new("scanner-key-1");
    let other_body = body_of(&["lkcs_something_else"]);
    let tampered = body.replace("config.yml", "config.yaml");
    for (what, body, id, sig) in [
        ("unsigned", body.clone(), None, None),
        ("no signature", body.clone(), Some(scanner.id.clone()), None),
        (
            "unknown key id",
            body.clone(),
            Some("other".to_owned()),
            Some(scanner.sign(&body)),
        ),
        (
            "another key",
            body.clone(),
            Some(scanner.id.clone()),
            Some(stranger.sign(&body)),
        ),
        (
            "another body",
            body.clone(),
            Some(scanner.id.clone()),
            Some(scanner.sign(&other_body)),
        ),
        (
            "tampered",
            tampered,
            Some(scanner.id.clone()),
            Some(scanner.sign(&body)),
        ),
        (
            "not base64",
            body.clone(),
            Some(scanner.id.clone()),
            Some("%%%".to_owned()),
        ),
    ] {
        let (status, answer) = send(&server, &body, id.as_deref(), sig.as_deref()).await;
        assert_eq!(status, 401, "{what}: {answer}");
        assert!(!answer.to_string().contains(&leaked.secret));
    }
    call(server.get(&secret_path(&leaked)), 200).await;
    assert!(leak_audits(&server, &tenant).await.is_empty());

    // A bad checksum is a false positive; the real value is revoked.
    let typo = bad_checksum(&leaked.secret);
    let answer = report(&server, &scanner, &[&typo, &leaked.secret]).await;
    assert_eq!(
        labels(&answer),
        ["false_positive", "true_positive"],
        "{answer}"
    );
    assert_eq!(answer[1]["token_hash"], sha256_hex(&leaked.secret));
    assert_eq!(answer[1]["token_type"], "latchkey_client_secret");
    assert!(!answer.to_string().contains(&leaked.secret));
    call(server.get(&secret_path(&leaked)), 404).await;

    // The event, end to end, and the audit entry (actor: the scanner key).
    let delivered = receiver.wait_for(1, Duration::from_secs(30)).await;
    let event = delivered[0].json();
    assert_eq!(event["type"], "secret.leaked", "{event}");
    assert_eq!(event["data"]["clientId"], leaked.id.as_str());
    assert_eq!(event["data"]["secretId"], leaked.secret_id);
    assert_eq!(event["data"]["leak"]["action"], "revoked");
    assert_eq!(
        event["data"]["leak"]["url"],
        "https://github.com/o/r/blob/abc/config.yml"
    );
    assert!(event["data"]["hint"].as_str().is_some());
    assert!(!String::from_utf8_lossy(&delivered[0].body).contains(&leaked.secret[10..30]));
    let audits = leak_audits(&server, &tenant).await;
    assert_eq!(audits.len(), 1, "{audits:?}");
    assert_eq!(audits[0]["ActorType"], "scanner");
    assert_eq!(audits[0]["Actor"], scanner.id.as_str());
    assert_eq!(audits[0]["SecretId"], leaked.secret_id);

    // Reported again: a revoked value answers like an unknown one, and nothing more happens.
    let again = report(&server, &scanner, &[&leaked.secret]).await;
    let unknown = cc_client(&server, &server.create_tenant().await, &[]).await;
    call(server.delete(&secret_path(&unknown)), 204).await;
    let never = report(&server, &scanner, &[&unknown.secret]).await;
    assert_eq!(labels(&again), labels(&never));
    assert_eq!(leak_audits(&server, &tenant).await.len(), 1);
    assert!(!server.logs().contains(&leaked.secret));
}

async fn alert_policy_keeps_the_secret_and_concurrent_reports_act_once(backend: Backend) {
    let scanner = Scanner::new("k-alert");
    let (server, _keys) = start_trusting(backend, &scanner).await;
    let tenant = server.create_tenant().await;
    let policy_path = format!("/api/v1/Tenants/{tenant}/LeakPolicy");
    assert_eq!(
        call(server.get(&policy_path), 200).await,
        json!({"Action": "revoke"})
    );
    let set = call(
        server.put(&policy_path).json(&json!({"Action": "alert"})),
        200,
    )
    .await;
    assert_eq!(set, json!({"Action": "alert"}));
    let receiver = WebhookReceiver::start(None).await;
    let hook = subscribe(&server, &tenant, &receiver, &["secret.leaked"]).await;
    let leaked = cc_client(&server, &tenant, &[]).await;

    // 32 identical reports at once: every one answered true_positive, one acts.
    let body = body_of(&[&leaked.secret]);
    let sig = scanner.sign(&body);
    let sends = (0..32).map(|_| send(&server, &body, Some(&scanner.id), Some(&sig)));
    for (status, answer) in futures_util::future::join_all(sends).await {
        assert_eq!(status, 200, "{answer}");
        assert_eq!(labels(&answer), ["true_positive"]);
    }
    call(server.get(&secret_path(&leaked)), 200).await;
    let audits = leak_audits(&server, &tenant).await;
    assert_eq!(audits.len(), 1, "{audits:?}");
    let delivered = receiver.wait_for(1, Duration::from_secs(30)).await;
    assert_eq!(delivered[0].json()["data"]["leak"]["action"], "alerted");
    let (log, total) = crate::webhooks::deliveries(&server, &tenant, &hook).await;
    assert_eq!(total, 1, "one event, one delivery: {log:?}");

    // Later reports of the live value: still true_positive, still nothing more.
    report(&server, &scanner, &[&leaked.secret]).await;
    assert_eq!(leak_audits(&server, &tenant).await.len(), 1);
    call(server.get(&secret_path(&leaked)), 200).await;

    // The inventory's `leaked` status: reported under `alert` and not rotated since.
    let clean = cc_client(&server, &tenant, &[]).await;
    let leaked_list = format!("/api/v1/Tenants/{tenant}/Secrets?status=leaked");
    let listed = call(server.get(&leaked_list), 200).await;
    let ids: Vec<&str> = listed
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|s| s["ClientId"].as_str())
        .collect();
    assert_eq!(
        ids,
        [leaked.id.as_str()],
        "only the leaked one, not {}",
        clean.id
    );
    call(
        server
            .post(&format!("{}/Renew", secret_path(&leaked)))
            .json(&json!({})),
        200,
    )
    .await;
    let listed = call(server.get(&leaked_list), 200).await;
    assert_eq!(listed, json!([]), "rotated: no longer leaked");
}

/// Under the default `revoke` policy, 32 identical reports at once (and a Renew
/// racing them) revoke the secret once: one audit entry, one event, and the
/// client's secret count is decremented once (`applications.secretsMax` still holds).
async fn concurrent_reports_revoke_once(backend: Backend) {
    let scanner = Scanner::new("k-race");
    let (server, _keys) = start_trusting(backend, &scanner).await;
    let tenant = server.create_tenant().await;
    let receiver = WebhookReceiver::start(None).await;
    let hook = subscribe(&server, &tenant, &receiver, &["secret.leaked"]).await;
    let leaked = cc_client(&server, &tenant, &[]).await;
    let body = body_of(&[&leaked.secret]);
    let sig = scanner.sign(&body);
    let sends = (0..32).map(|_| send(&server, &body, Some(&scanner.id), Some(&sig)));
    let renew = server
        .post(&format!("{}/Renew", secret_path(&leaked)))
        .json(&json!({}))
        .send();
    let (answers, renewed) = tokio::join!(futures_util::future::join_all(sends), renew);
    let renewed = renewed.expect("the Renew is answered").status().as_u16();
    assert!(renewed == 200 || renewed == 404, "Renew: {renewed}");
    for (status, answer) in answers {
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(leak_audits(&server, &tenant).await.len(), 1, "acted once");
    receiver.wait_for(1, Duration::from_secs(30)).await;
    let (_, total) = crate::webhooks::deliveries(&server, &tenant, &hook).await;
    assert_eq!(total, 1, "one event");
    call(server.get(&secret_path(&leaked)), 404).await;
    // Ten secrets fit again (the default limit), the eleventh does not.
    let list = crate::lifecycle::secrets_path(&tenant, CC, &leaked.id);
    for _ in 0..10 {
        call(server.post(&list).json(&json!({})), 201).await;
    }
    let (status, _, answer) = crate::lifecycle::exchange(server.post(&list).json(&json!({}))).await;
    assert_eq!(status, 400, "the limit holds: {answer}");
}

async fn platform_administrators_replace_the_scanner_keys(backend: Backend) {
    let old = Scanner::new("old");
    let (server, _keys) = start_trusting(backend, &old).await;
    let tenant = server.create_tenant().await;
    let leaked = cc_client(&server, &tenant, &[]).await;
    let keys_path = "/api/v1/LeakReports/ScannerKeys";
    assert_eq!(
        call(server.get(keys_path), 200).await["public_keys"][0]["key_identifier"],
        "old"
    );

    // A tenant administrator may not; a platform administrator may.
    let admin = cc_client(&server, &tenant, &["tenant-administrator"]).await;
    let token = crate::oauth::access_token(&server, &admin).await;
    let new = Scanner::new("new");
    let req = server
        .http
        .put(server.url(keys_path))
        .bearer_auth(&token)
        .json(&new.document());
    assert_eq!(exchange(req).await.0, 403);
    let bad = json!({"public_keys": [{"key_identifier": "x", "key": "not a key"}]});
    let (status, _, refused) = exchange(server.put(keys_path).json(&bad)).await;
    assert_eq!(
        (status, refused["Field"].clone()),
        (400, json!("public_keys"))
    );
    call(server.put(keys_path).json(&new.document()), 200).await;

    let body = body_of(&[&leaked.secret]);
    let (status, _) = send(&server, &body, Some("old"), Some(&old.sign(&body))).await;
    assert_eq!(status, 401, "the replaced key is no longer trusted");
    call(server.get(&secret_path(&leaked)), 200).await;
    assert_eq!(
        labels(&report(&server, &new, &[&leaked.secret]).await),
        ["true_positive"]
    );
    call(server.get(&secret_path(&leaked)), 404).await;
}

async fn a_leak_is_emailed_to_the_tenants_recipients(backend: Backend) {
    let smtp = crate::smtp::SmtpSink::start().await;
    let scanner = Scanner::new("k-mail");
    let (server, _keys) = start_trusting_with(backend, &scanner, Some(smtp.port())).await;
    let tenant = server.create_tenant().await;
    let recipients = format!("/api/v1/Tenants/{tenant}/NotificationRecipients");
    call(
        server
            .put(&recipients)
            .json(&json!({"Recipients": ["ops@example.com"]})),
        200,
    )
    .await;
    let leaked = cc_client(&server, &tenant, &[]).await;
    report(&server, &scanner, &[&leaked.secret]).await;
    let mails = smtp.wait_for(1, Duration::from_secs(30)).await;
    assert!(
        mails[0].subject.contains("has been revoked"),
        "{}",
        mails[0].subject
    );
    let text = mails[0].text.clone().unwrap_or_default();
    assert!(
        text.contains(&leaked.id) && text.contains("config.yml"),
        "{text}"
    );
    assert!(!mails[0].raw.contains(&leaked.secret[10..30]));
}

both_backends!(
    concurrent_reports_revoke_once,
    a_leak_is_emailed_to_the_tenants_recipients,
    a_signed_report_revokes_the_leaked_secret_once,
    alert_policy_keeps_the_secret_and_concurrent_reports_act_once,
    platform_administrators_replace_the_scanner_keys,
);
