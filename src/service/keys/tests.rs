//! Tests of [`super`] against a temporary SQLite database and key files.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use serde_json::json;

use super::*;
use crate::clock::SystemClock;
use crate::domain::jws::verify;

async fn load(store: &Arc<dyn Storage>, master: &MasterKey) -> Result<KeyRing, KeyRingError> {
    KeyRing::load(
        store.clone(),
        Arc::new(master.clone()),
        KeySchedule::default(),
        Arc::new(SystemClock),
    )
    .await
}

async fn store(dir: &tempfile::TempDir) -> Arc<dyn Storage> {
    crate::storage::open(&format!("sqlite://{}/k.db", dir.path().display()))
        .await
        .unwrap()
}

#[tokio::test]
async fn load_creates_a_key_once_and_later_loads_return_it() {
    let dir = tempfile::tempdir().unwrap();
    let (store, master) = (store(&dir).await, MasterKey::generate().unwrap());
    let first = load(&store, &master).await.unwrap().snapshot();
    let second = load(&store, &master).await.unwrap().snapshot();
    assert_eq!(first.current().kid(), second.current().kid());
    assert_eq!(first.current().public_jwk(), second.current().public_jwk());
    assert_eq!(store.signing_keys().await.unwrap().len(), 1);
    assert_eq!(
        first.jwks(),
        &json!({ "keys": [first.current().public_jwk()] })
    );
    let record = store.signing_keys().await.unwrap().remove(0);
    assert_eq!(record.algorithm, "ES256");
    assert_eq!(record.kid, first.current().kid());
    assert_eq!((record.generation, record.revoked_at), (1, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_starting_on_an_empty_database_sign_with_the_same_key() {
    let dir = tempfile::tempdir().unwrap();
    // Two loads racing on one database: one SQLite file belongs to one process, so the
    // "nodes" share its store here (nodes on PostgreSQL: tests/api/nodes.rs).
    let a = store(&dir).await;
    let b = a.clone();
    let master = MasterKey::generate().unwrap();
    let load = |store: Arc<dyn Storage>, master: MasterKey| {
        tokio::spawn(async move { load(&store, &master).await.map(|r| r.snapshot()) })
    };
    let (ring_a, ring_b) = (load(a.clone(), master.clone()), load(b, master));
    let (ring_a, ring_b) = (
        ring_a.await.unwrap().unwrap(),
        ring_b.await.unwrap().unwrap(),
    );
    assert_eq!(ring_a.current().kid(), ring_b.current().kid());
    assert_eq!(a.signing_keys().await.unwrap().len(), 1);
    let claims = json!({ "sub": "client-1" });
    let token = ring_a.current().sign(&claims).unwrap();
    assert_eq!(verify(&token, ring_b.verifying_keys()).unwrap(), claims);
    let token = ring_b.current().sign(&claims).unwrap();
    assert_eq!(verify(&token, ring_a.verifying_keys()).unwrap(), claims);
}

#[tokio::test]
async fn a_wrong_master_key_is_reported_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    load(&store, &MasterKey::generate().unwrap()).await.unwrap();
    let err = load(&store, &MasterKey::generate().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, KeyRingError::WrongMasterKey), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the master key does not open the stored signing key: LATCHKEY_MASTER_KEY differs from the one that created it"
    );
}

/// The 32-byte private scalar inside a PKCS#8 v1 P-256 document
/// (`ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING (32), .. }`).
fn private_scalar(pkcs8: &[u8]) -> &[u8] {
    let at = pkcs8
        .windows(5)
        .position(|w| w == [0x02, 0x01, 0x01, 0x04, 0x20])
        .unwrap();
    &pkcs8[at + 5..at + 37]
}

#[tokio::test]
async fn the_database_never_holds_the_private_key_in_the_clear() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let ring = load(&store, &MasterKey::generate().unwrap())
        .await
        .unwrap()
        .snapshot();
    let pkcs8 = ring.current().pkcs8_for_tests();
    let scalar = private_scalar(pkcs8);
    let mut checked = 0;
    for entry in fs::read_dir(dir.path()).unwrap() {
        let bytes = fs::read(entry.unwrap().path()).unwrap();
        checked += bytes.len();
        assert!(!bytes.windows(pkcs8.len()).any(|w| w == pkcs8));
        assert!(!bytes.windows(scalar.len()).any(|w| w == scalar));
    }
    // The public key did reach the files, so the search looked in the right place.
    let x = ring.current().public_jwk()["x"]
        .as_str()
        .unwrap()
        .to_owned();
    let found = fs::read_dir(dir.path()).unwrap().any(|entry| {
        let bytes = fs::read(entry.unwrap().path()).unwrap();
        bytes.windows(x.len()).any(|w| w == x.as_bytes())
    });
    assert!(found && checked > 0);
}

#[test]
fn the_key_file_is_created_private_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.key");
    let created = load_or_create_key_file(&path).unwrap();
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(text, format!("{}\n", created.to_text().as_str()));
    let read = load_or_create_key_file(&path).unwrap();
    assert_eq!(read.to_text(), created.to_text());
    // Only the key file is left behind.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_key_file_others_may_read_is_refused_and_a_group_readable_one_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.key");
    let key = load_or_create_key_file(&path).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let err = load_or_create_key_file(&path).unwrap_err();
    assert!(err.to_string().contains("mode 644"), "{err}");
    assert!(!err.to_string().contains(key.to_text().as_str()));
    fs::set_permissions(&path, fs::Permissions::from_mode(0o440)).unwrap();
    assert_eq!(
        load_or_create_key_file(&path).unwrap().to_text(),
        key.to_text()
    );
}

#[test]
fn a_key_file_with_a_bad_key_names_the_file_not_the_content() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.key");
    fs::write(&path, "not-a-key-at-all\n").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    let err = load_or_create_key_file(&path).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("master key file {}:", path.display())),
        "{err}"
    );
    assert!(!err.contains("not-a-key-at-all"), "{err}");
}

#[test]
fn processes_creating_the_key_file_at_once_end_with_one_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.key");
    let keys: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    load_or_create_key_file(&path)
                        .unwrap()
                        .to_text()
                        .to_string()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(keys.iter().all(|k| k == &keys[0]));
}
