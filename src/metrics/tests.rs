use super::*;

#[test]
fn token_outcomes_have_distinct_counters() {
    let indexes: std::collections::BTreeSet<usize> =
        TokenOutcome::all().map(TokenOutcome::index).collect();
    assert_eq!(indexes.len(), TOKEN_OUTCOMES);
    assert_eq!(indexes.iter().max(), Some(&(TOKEN_OUTCOMES - 1)));
}

#[test]
fn histogram_buckets_are_cumulative_with_sum_and_count() {
    let h = Histogram::new([0.01, 0.1]);
    h.observe(Duration::from_millis(5));
    h.observe(Duration::from_millis(50));
    h.observe(Duration::from_millis(50));
    h.observe(Duration::from_secs(1));
    let (buckets, count, sum) = h.snapshot();
    assert_eq!(buckets, [(0.01, 1), (0.1, 3)]);
    assert_eq!(count, 4);
    assert!((sum - 1.105).abs() < 1e-9, "{sum}");
}

#[test]
fn exposition_counts_outcomes_and_escapes_labels() {
    let r = Registry::new();
    r.token_request(TokenOutcome::Issued, Duration::from_millis(2));
    r.token_request(
        TokenOutcome::Refused(RefusalReason::Expired),
        Duration::from_millis(3),
    );
    r.management_request(Some("/api/v1/Tenants/{tenantId}"), "GET", 200);
    r.management_request(Some("/api/v1/Tenants/{tenantId}"), "GET", 200);
    r.management_request(None, "BREW", 404);
    r.set_refreshed(Refreshed {
        at: 100,
        tenants: vec![(
            "a\"b".into(),
            SecretCounts {
                active: 2,
                ..SecretCounts::default()
            },
        )],
        other: None,
        deliveries_pending: 3,
        oldest_pending_at: Some(40),
        signing_key_created_at: Some(10),
    });
    let text = r.render(100);
    let has = |line: &str| text.lines().any(|l| l == line);
    assert!(
        has(r#"latchkey_token_requests_total{outcome="issued"} 1"#),
        "{text}"
    );
    assert!(has(
        r#"latchkey_token_requests_total{outcome="refused",reason="expired"} 1"#
    ));
    assert!(has(
        r#"latchkey_token_requests_total{outcome="refused",reason="revoked"} 0"#
    ));
    assert!(has(
        r#"latchkey_token_request_duration_seconds_bucket{le="0.0025"} 1"#
    ));
    assert!(has(
        r#"latchkey_token_request_duration_seconds_bucket{le="+Inf"} 2"#
    ));
    assert!(has(r#"latchkey_token_request_duration_seconds_count 2"#));
    assert!(has(
        r#"latchkey_management_requests_total{route="/api/v1/Tenants/{tenantId}",method="GET",status="200"} 2"#
    ));
    assert!(has(
        r#"latchkey_management_requests_total{route="unmatched",method="other",status="404"} 1"#
    ));
    assert!(has(r#"latchkey_secrets{tenant="a\"b",status="active"} 2"#));
    assert!(has("latchkey_delivery_queue_depth 3"));
    assert!(has("latchkey_delivery_oldest_pending_age_seconds 60"));
    assert!(has("latchkey_signing_key_age_seconds 90"));
}

#[test]
fn nothing_is_recorded_on_the_token_path_when_disabled() {
    let r = Registry::new();
    r.set_enabled(false);
    r.token_request(TokenOutcome::Issued, Duration::from_millis(1));
    assert_eq!(r.token_requests[0].get(), 0);
}

#[test]
fn the_argon2_queue_gauge_falls_when_a_wait_ends_or_is_cancelled() {
    let r = Registry::new();
    let first = r.argon2_enqueued();
    let second = r.argon2_enqueued();
    assert_eq!(r.argon2_queued.get(), 2);
    first.admitted();
    drop(second);
    assert_eq!(r.argon2_queued.get(), 0);
    assert_eq!(r.argon2_wait.snapshot().1, 1);
}
