//! Strict mode on two nodes (PostgreSQL): every kind of change acknowledged by one node
//! is enforced by the other for every request that arrives after the acknowledgement.
//! The other node is kept busy with the affected credential while the change is made,
//! so its reads are in flight (and batched) when the change lands: a request must
//! never be answered by a read that started before it arrived.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::RequestBuilder;
use serde_json::json;

use crate::harness::*;
use crate::lifecycle::{call, secrets_path};
use crate::nodes::node_options;
use crate::oauth::{Cred, access_token, cc_client, token_request};

const CC: &str = "ClientCredentialClients";
/// Concurrent requests kept running against the other node.
const LOADERS: usize = 16;
/// Requests that must have started after the acknowledgement before the load stops.
const AFTER: usize = 64;

/// Two nodes on one database; the old values presented after a change fail many times,
/// so the failure limits are raised out of the way (they are tested elsewhere).
async fn two_nodes() -> (TestServer, TestServer) {
    let unthrottled = |mut opts: ServerOptions| {
        for key in ["FAILEDATTEMPTSPERCLIENT", "FAILEDATTEMPTSPERADDRESS"] {
            opts.env
                .push((format!("LATCHKEY_TOKENS__{key}"), "100000".to_owned()));
        }
        opts
    };
    let one =
        TestServer::start_with(Backend::Postgres, unthrottled(node_options(None, None))).await;
    let opts = node_options(Some(&one.token), Some(one.database_url.clone()));
    let two = TestServer::start_with(Backend::Postgres, unthrottled(opts)).await;
    (one, two)
}

/// Keeps `LOADERS` requests made by `request` running; records when each one
/// started and the status it got.
struct Load {
    stop: Arc<AtomicBool>,
    done: Arc<AtomicUsize>,
    tasks: Vec<tokio::task::JoinHandle<Vec<(Instant, u16)>>>,
}

impl Load {
    fn start(request: impl Fn() -> RequestBuilder + Send + Sync + 'static) -> Self {
        let request = Arc::new(request);
        let (stop, done) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicUsize::new(0)),
        );
        let tasks = (0..LOADERS)
            .map(|_| {
                let (request, stop, done) = (request.clone(), stop.clone(), done.clone());
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    while !stop.load(Ordering::SeqCst) {
                        let started = Instant::now();
                        let status = request().send().await.expect("an answer").status().as_u16();
                        seen.push((started, status));
                        done.fetch_add(1, Ordering::SeqCst);
                    }
                    seen
                })
            })
            .collect();
        Self { stop, done, tasks }
    }

    /// Waits (bounded) until `n` more requests have completed.
    async fn until_more(&self, n: usize) {
        let target = self.done.load(Ordering::SeqCst) + n;
        for _ in 0..1_000 {
            if self.done.load(Ordering::SeqCst) >= target {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the load made no progress");
    }

    async fn finish(self) -> Vec<(Instant, u16)> {
        self.stop.store(true, Ordering::SeqCst);
        let mut all = Vec::new();
        for task in self.tasks {
            all.extend(task.await.expect("a load task"));
        }
        all
    }
}

/// Loads the other node with `request` (answered `before` until the change), makes the
/// change through `change`, and checks that every request started after it returned
/// was answered `after`.
async fn enforced_at_once<F: Future<Output = ()>>(
    what: &str,
    request: impl Fn() -> RequestBuilder + Send + Sync + 'static,
    (before, after): (u16, u16),
    change: F,
) {
    let load = Load::start(request);
    load.until_more(LOADERS).await;
    change.await;
    let acknowledged = Instant::now();
    load.until_more(AFTER + LOADERS).await;
    let seen = load.finish().await;
    let (early, late): (Vec<_>, Vec<_>) = seen.iter().partition(|(t, _)| *t < acknowledged);
    assert!(
        early.iter().any(|(_, s)| *s == before),
        "{what}: answered {before} under load before the change"
    );
    assert!(late.len() >= AFTER, "{what}: {} requests after", late.len());
    let wrong: Vec<_> = late.iter().filter(|(_, s)| *s != after).collect();
    assert!(
        wrong.is_empty(),
        "{what}: {} of {} requests that arrived after the acknowledgement were answered {:?}",
        wrong.len(),
        late.len(),
        wrong.first().map(|(_, s)| s)
    );
}

/// A token request of `cred` to `node`, as a repeatable closure.
fn token_requests(
    node: &TestServer,
    cred: &Cred,
) -> impl Fn() -> RequestBuilder + Send + Sync + 'static {
    let request = token_request(node, cred, &[]);
    move || request.try_clone().expect("a plain form request")
}

fn cred_with(cred: &Cred, answer: &serde_json::Value) -> Cred {
    Cred {
        secret: answer["Secret"].as_str().expect("a value").to_owned(),
        ..cred.clone()
    }
}

#[tokio::test]
async fn each_kind_of_change_on_one_node_holds_on_the_other_under_load() {
    let (one, two) = two_nodes().await;
    let tenant = one.create_tenant().await;
    let clients = format!("/api/v1/Tenants/{tenant}/{CC}");
    let secret_of =
        |cred: &Cred| format!("{}/{}", secrets_path(&tenant, CC, &cred.id), cred.secret_id);

    let c = cc_client(&one, &tenant, &[]).await;
    let revoke = one.delete(&secret_of(&c));
    enforced_at_once("revoke", token_requests(&two, &c), (200, 401), async {
        call(revoke, 204).await;
    })
    .await;

    let c = cc_client(&one, &tenant, &[]).await;
    let renew = one
        .post(&format!("{}/Renew", secret_of(&c)))
        .json(&json!({}));
    enforced_at_once("renew", token_requests(&two, &c), (200, 401), async {
        call(renew, 200).await;
    })
    .await;

    let c = cc_client(&one, &tenant, &[]).await;
    let value = json!({"Value": "a supplied value, long enough: 0123456789"});
    let put = one.put(&secret_of(&c)).json(&value);
    enforced_at_once("a new value", token_requests(&two, &c), (200, 401), async {
        call(put, 200).await;
    })
    .await;

    let c = cc_client(&one, &tenant, &[]).await;
    let grace = json!({"GracePeriodSeconds": 600});
    let renewed = call(
        one.post(&format!("{}/Renew", secret_of(&c))).json(&grace),
        200,
    )
    .await;
    access_token(&two, &cred_with(&c, &renewed)).await;
    let end = one.post(&format!("{}/EndGrace", secret_of(&c)));
    enforced_at_once(
        "end of grace",
        token_requests(&two, &c),
        (200, 401),
        async {
            call(end, 200).await;
        },
    )
    .await;

    let c = cc_client(&one, &tenant, &[]).await;
    let disable = one
        .put(&format!("{clients}/{}", c.id))
        .json(&json!({"Enabled": false}));
    enforced_at_once("disable", token_requests(&two, &c), (200, 401), async {
        call(disable, 200).await;
    })
    .await;

    let c = cc_client(&one, &tenant, &[]).await;
    let delete = one.delete(&format!("{clients}/{}", c.id));
    enforced_at_once("delete", token_requests(&two, &c), (200, 401), async {
        call(delete, 204).await;
    })
    .await;

    // A role taken away: the token minted before is narrowed on the other node.
    let c = cc_client(&one, &tenant, &["tenant-member"]).await;
    let token = access_token(&two, &c).await;
    let list = two.http.get(two.url(&clients)).bearer_auth(&token);
    let demote = one
        .put(&format!("{clients}/{}", c.id))
        .json(&json!({"RoleIds": []}));
    enforced_at_once(
        "role change",
        move || list.try_clone().expect("a plain request"),
        (200, 403),
        async {
            call(demote, 200).await;
        },
    )
    .await;
}
