//! The access tokens: compact JWS signed ES256 under a `kid` of the tenant's
//! JWKS (the signature is checked here with aws-lc-rs), every claim with its exact value,
//! and signing keys kept across a restart (SQLite: the key file beside the database,
//! created with mode 0600; PostgreSQL: the database, under the master key).

use serde_json::json;

use crate::harness::*;
use crate::lifecycle::call;
use crate::oauth::{
    CLAIMS, Cred, access_token, api_audience, audience, cc_client, claims, client_in, introspect,
    issuer, jwks, jwt_part, options, signed_by, sorted_keys, start, token_request, token_response,
    words,
};

async fn tokens_are_es256_jwts_with_every_claim(backend: Backend) {
    let server = start(backend).await;
    let tenant = server.create_tenant().await;
    let roles = ["tenant-member", "tenant-auditor"];
    let body = json!({"Id": "reporting", "RoleIds": roles, "AccessTokenLifetime": 900});
    let cred = client_in(&server, &tenant, "ClientCredentialClients", body).await;
    let added = call(
        server
            .post(&format!(
                "/api/v1/Tenants/{tenant}/ClientCredentialClients/reporting/Secrets"
            ))
            .json(&json!({})),
        201,
    )
    .await;
    let second = Cred {
        secret: added["Secret"].as_str().expect("a value").to_owned(),
        secret_id: added["Id"].as_i64().expect("an id"),
        ..cred.clone()
    };
    assert_eq!((cred.secret_id, second.secret_id), (1, 2));
    let keys = jwks(&server, &tenant).await;

    let before = chrono::Utc::now().timestamp();
    let mut jtis = Vec::new();
    for used in [&cred, &second] {
        let response = token_response(token_request(&server, used, &[])).await;
        let after = chrono::Utc::now().timestamp();
        assert_eq!(response["expires_in"], 900, "{response}");
        assert_eq!(
            words(&response["scope"]),
            words(&json!(roles)),
            "{response}"
        );
        let token = response["access_token"].as_str().expect("a string");
        let header = jwt_part(token, 0);
        assert_eq!(
            (&header["alg"], &header["typ"]),
            (&json!("ES256"), &json!("at+jwt")),
            "{header}"
        );
        let kid = header["kid"].as_str().expect("a kid");
        let key = keys.iter().find(|k| k["kid"] == kid);
        let key = key.unwrap_or_else(|| panic!("kid {kid} is not in the JWKS: {keys:?}"));
        assert!(
            signed_by(key, token),
            "the signature verifies under the JWKS key"
        );
        let mut forged = token.to_owned();
        forged.insert(token.find('.').expect("a dot") + 1, 'A');
        assert!(
            !signed_by(key, &forged),
            "a changed payload does not verify"
        );

        let c = claims(token);
        assert_eq!(sorted_keys(&c), CLAIMS, "{c}");
        assert_eq!(c["iss"], issuer(&server, &tenant), "{c}");
        assert_eq!(
            (&c["sub"], &c["client_id"]),
            (&json!("reporting"), &json!("reporting"))
        );
        assert_eq!(audience(&c), api_audience(&server));
        let iat = c["iat"].as_i64().expect("iat is a number");
        assert!(
            (before - 1..=after + 1).contains(&iat),
            "iat {iat} in {before}..={after}"
        );
        assert_eq!(c["exp"].as_i64(), Some(iat + 900), "{c}");
        assert_eq!(
            (&c["tid"], &c["secret_id"]),
            (&json!(tenant), &json!(used.secret_id))
        );
        assert_eq!(words(&c["roles"]), words(&json!(roles)), "{c}");
        assert_eq!(words(&c["scope"]), words(&json!(roles)), "{c}");
        jtis.push(
            c["jti"]
                .as_str()
                .filter(|j| !j.is_empty())
                .expect("a jti")
                .to_owned(),
        );
    }
    assert_ne!(jtis[0], jtis[1], "jti is unique");
}

/// A restart binds another port: the issuer (and so old tokens' `iss`) must not move.
fn fixed_public_url() -> Vec<String> {
    vec!["--public-url".to_owned(), "http://latchkey.test".to_owned()]
}

/// The key file beside the SQLite database is created with mode 0600 and reused: the same
/// `kid` signs after a restart, and a token minted before it is still valid.
#[tokio::test]
async fn sqlite_signing_keys_survive_a_restart() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("latchkey.db").display());
    // Without `LATCHKEY_MASTER_KEY` (empty is unset) SQLite keeps its key in a file.
    let opts = ServerOptions {
        env: vec![("LATCHKEY_MASTER_KEY".to_owned(), String::new())],
        database_url: Some(url.clone()),
        extra_args: fixed_public_url(),
        ..ServerOptions::default()
    };
    let server = TestServer::start_with(Backend::Sqlite, opts.clone()).await;
    let tenant = server.create_tenant().await;
    let cred = cc_client(&server, &tenant, &["tenant-member"]).await;
    let token = access_token(&server, &cred).await;
    let kid = jwt_part(&token, 0)["kid"].clone();
    let mode = std::fs::metadata(dir.path().join("latchkey.key"))
        .expect("the key file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "key file mode {mode:o}");
    assert_eq!(server.terminate().await.code(), Some(0));

    let server = TestServer::start_with(Backend::Sqlite, opts).await;
    let after = access_token(&server, &cred).await;
    assert_eq!(
        jwt_part(&after, 0)["kid"],
        kid,
        "the same key signs after a restart"
    );
    let keys = jwks(&server, &tenant).await;
    let key = keys
        .iter()
        .find(|k| k["kid"] == kid)
        .expect("the kid is still listed");
    assert!(signed_by(key, &token) && signed_by(key, &after));
    assert_eq!(introspect(&server, &cred, &token).await["active"], true);
}

/// On PostgreSQL the keys live in the database: a restart with the same master key signs
/// with the same `kid`.
#[tokio::test]
async fn postgres_signing_keys_survive_a_restart() {
    let mut opts = options(Backend::Postgres, None);
    opts.extra_args = fixed_public_url();
    let server = TestServer::start_with(Backend::Postgres, opts.clone()).await;
    let tenant = server.create_tenant().await;
    let cred = cc_client(&server, &tenant, &["tenant-member"]).await;
    let token = access_token(&server, &cred).await;
    opts.database_url = Some(server.database_url.clone());
    assert_eq!(server.terminate().await.code(), Some(0));
    let server = TestServer::start_with(Backend::Postgres, opts).await;
    let after = access_token(&server, &cred).await;
    assert_eq!(jwt_part(&after, 0)["kid"], jwt_part(&token, 0)["kid"]);
    assert_eq!(introspect(&server, &cred, &token).await["active"], true);
}

both_backends!(tokens_are_es256_jwts_with_every_claim);
