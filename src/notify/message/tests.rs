use chrono::TimeZone;

use super::*;

fn notice(kind: NoticeKind) -> SecretNotice {
    SecretNotice {
        kind,
        tenant_id: "acme-prod".into(),
        tenant_name: "Acme Production".into(),
        client_id: "billing-sync".into(),
        client_kind: "ClientCredentialClients".into(),
        secret_id: 3,
        description: "Nightly billing job".into(),
        hint: "lkcs_Ab3x".into(),
        expiration: Utc.with_ymd_and_hms(2026, 11, 30, 10, 57, 8).unwrap(),
        console_url: Some("https://latchkey.example.com/console/clients/billing-sync".into()),
    }
}

const SEVEN_DAYS: Duration = Duration::from_secs(7 * 86_400);

#[test]
fn expiring_notice_names_every_fact_and_what_to_do() {
    let email = render(&notice(NoticeKind::Expiring { lead: SEVEN_DAYS }));
    assert_eq!(
        email.subject,
        "Latchkey: secret 3 of client billing-sync in tenant Acme Production expires within 7 days"
    );
    for part in [&email.text, &email.html] {
        for fact in [
            "Acme Production",
            "acme-prod",
            "billing-sync",
            "client credentials client",
            "Nightly billing job",
            "lkcs_Ab3x",
            "2026-11-30T10:57:08Z",
            "Monday 30 November 2026 at 10:57 UTC",
            "expires within 7 days",
            "Renew this secret, or add a new secret",
            "Roll the new value out",
            "Revoke the old secret",
            "https://latchkey.example.com/console/clients/billing-sync",
        ] {
            assert!(part.contains(fact), "missing {fact:?} in:\n{part}");
        }
        assert!(!part.contains("has expired"), "{part}");
    }
    assert!(
        email
            .text
            .contains("Secret:      3, \"Nightly billing job\"")
    );
    assert!(
        email
            .html
            .contains(r#"<a href="https://latchkey.example.com/console/clients/billing-sync">"#)
    );
}

#[test]
fn expired_notice_says_it_no_longer_authenticates() {
    let mut n = notice(NoticeKind::Expired);
    n.client_kind = "HybridClients".into();
    let email = render(&n);
    assert_eq!(
        email.subject,
        "Latchkey: secret 3 of client billing-sync in tenant Acme Production has expired"
    );
    for part in [&email.text, &email.html] {
        for fact in [
            "has expired",
            "no longer authenticates",
            "hybrid client",
            "Add a new secret to client",
            "Revoke the old secret",
        ] {
            assert!(part.contains(fact), "missing {fact:?} in:\n{part}");
        }
        assert!(!part.contains("expires within"), "{part}");
    }
}

#[test]
fn html_part_escapes_every_user_supplied_string() {
    let mut n = notice(NoticeKind::Expired);
    n.description = "<script>alert('x')</script>".into();
    n.tenant_name = "Acme & \"Sons\" <b>".into();
    n.client_id = "<img src=x onerror=alert(1)>".into();
    n.hint = "lkcs_<i>".into();
    n.console_url = Some("https://console.example.com/?a=1&b=\"><script>".into());
    let email = render(&n);
    assert!(!email.html.contains("<script>"), "{}", email.html);
    assert!(!email.html.contains("<img"), "{}", email.html);
    assert!(!email.html.contains("<b>"), "{}", email.html);
    assert!(!email.html.contains("<i>"), "{}", email.html);
    assert!(email.html.contains("&#60;script&#62;") || email.html.contains("&lt;script&gt;"));
    // The plain-text part shows the description as written.
    assert!(email.text.contains("<script>alert('x')</script>"));
}

#[test]
fn console_link_only_for_http_urls() {
    let mut n = notice(NoticeKind::Expired);
    n.console_url = Some("javascript:alert(1)".into());
    let email = render(&n);
    assert!(!email.html.contains("javascript:"), "{}", email.html);
    assert!(!email.html.contains("<a "), "{}", email.html);
    n.console_url = None;
    let email = render(&n);
    assert!(!email.text.contains("console:"), "{}", email.text);
    assert!(!email.html.contains("<a "), "{}", email.html);
}

#[test]
fn subject_never_carries_line_breaks_from_user_data() {
    let mut n = notice(NoticeKind::Expiring {
        lead: Duration::from_secs(86_400),
    });
    n.tenant_name = "Acme\r\nBcc: victim@example.com".into();
    n.client_id = "a\nb\rc\td\u{0}e\u{85}f".into();
    n.description = "line one\r\nSubject: forged".into();
    let email = render(&n);
    assert!(
        !email.subject.chars().any(char::is_control),
        "{:?}",
        email.subject
    );
    assert_eq!(
        email.subject,
        "Latchkey: secret 3 of client a b c d e f in tenant Acme Bcc: victim@example.com \
         expires within 1 day"
    );
    // Nor do the bodies get forged lines.
    assert!(email.text.contains("\"line one Subject: forged\""));
    assert!(!email.text.contains("\nSubject: forged"));
}

#[test]
fn long_names_are_shortened_in_the_subject_only() {
    let mut n = notice(NoticeKind::Expired);
    n.tenant_name = "x".repeat(200);
    let email = render(&n);
    assert!(email.subject.chars().count() < 160, "{}", email.subject);
    assert!(email.subject.contains(&format!("{}…", "x".repeat(59))));
    assert!(email.text.contains(&"x".repeat(200)));
}

#[test]
fn empty_description_is_named_as_such() {
    let mut n = notice(NoticeKind::Expired);
    n.description = "  ".into();
    let email = render(&n);
    assert!(email.text.contains("(no description)"), "{}", email.text);
}

#[test]
fn lead_times_read_in_the_largest_whole_unit() {
    for (secs, text) in [
        (30 * 86_400, "30 days"),
        (86_400, "1 day"),
        (36 * 3_600, "36 hours"),
        (3_600, "1 hour"),
        (120, "2 minutes"),
        (90, "90 seconds"),
        (1, "1 second"),
    ] {
        assert_eq!(lead_text(Duration::from_secs(secs)), text, "{secs} s");
    }
}
