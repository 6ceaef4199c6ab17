//! Cost of one verification through the service (storage read + digest +
//! constant-time comparison) on a SQLite database: a generated secret that
//! matches, a wrong generated secret, and an unknown client. Run:
//! `cargo bench --bench verify`.
#![allow(clippy::expect_used, reason = "benchmark set-up fails loudly")]

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use latchkey::domain::ids::{ClientId, ClientKind};
use latchkey::domain::secret_value::SecretValue;
use latchkey::service::clients::{ClientPatch, NewClientRequest};
use latchkey::service::settings::Limits;
use latchkey::service::{Caller, Services, SystemClock};

fn verify(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}/bench.db", dir.path().display());
    let (services, tenant, client, value) = runtime.block_on(async {
        let store = latchkey::storage::open(&url).await.expect("open");
        let services = Services::new(store, Limits::default(), Arc::new(SystemClock));
        let caller = Caller::PlatformAdministrator;
        let tenant = services
            .tenants
            .create(&caller, "bench")
            .await
            .expect("tenant")
            .id;
        let mut value = None;
        for n in 0..10 {
            let req = NewClientRequest {
                id: Some(format!("client-{n}")),
                settings: ClientPatch {
                    name: Some(format!("client {n}")),
                    ..ClientPatch::default()
                },
                ..NewClientRequest::default()
            };
            let created = services
                .clients
                .create(&caller, &tenant, ClientKind::ClientCredentials, req)
                .await
                .expect("client");
            value.get_or_insert(created.value);
        }
        (
            services,
            tenant,
            ClientId::parse("client-0").expect("id"),
            value.expect("value"),
        )
    });
    let wrong = SecretValue::generate().expect("value");
    let nobody = ClientId::parse("nobody").expect("id");

    let mut group = c.benchmark_group("verify");
    group.bench_function("generated secret, match", |b| {
        b.iter(|| runtime.block_on(services.verifier.verify(&tenant, &client, &value)))
    });
    group.bench_function("generated secret, wrong", |b| {
        b.iter(|| runtime.block_on(services.verifier.verify(&tenant, &client, &wrong)))
    });
    group.bench_function("unknown client", |b| {
        b.iter(|| runtime.block_on(services.verifier.verify(&tenant, &nobody, &wrong)))
    });
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
