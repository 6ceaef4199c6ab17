//! The benchmark ceiling: a minimal axum server answering `POST /token` with a
//! fixed, token-sized JSON body and nothing else. `bench/token.sh` measures it
//! beside Latchkey's token endpoint, so the ratio shows what Latchkey's own work
//! costs over the bare transport. Usage: `ceiling 127.0.0.1:PORT`.
#![allow(clippy::expect_used, reason = "a benchmark fixture fails loudly")]

use axum::Router;
use axum::http::header;
use axum::routing::post;

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let body: &'static str = Box::leak(
        format!(
            r#"{{"access_token":"{}","token_type":"Bearer","expires_in":3600,"scope":"tenant-member"}}"#,
            "x".repeat(620)
        )
        .into_boxed_str(),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let app = Router::new().route(
            "/token",
            post(move || async move { ([(header::CONTENT_TYPE, "application/json")], body) }),
        );
        let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
        println!(
            "ceiling listening on http://{}",
            listener.local_addr().expect("addr")
        );
        axum::serve(listener, app).await.expect("serve");
    });
}
