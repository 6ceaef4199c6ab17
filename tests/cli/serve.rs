//! `latchkey serve --help`: what the server runs and the settings that exist only
//! as environment variables.

#[tokio::test]
async fn serve_help_describes_the_server_and_the_environment_only_variables() {
    let dir = tempfile::tempdir().unwrap();
    for flag in ["--help", "-h"] {
        let run = crate::latchkey_in(dir.path(), &[], &["serve", flag], "").await;
        let help = run.ok();
        // -h is the summary: the long description is --help's.
        let parts: &[&str] = if flag == "--help" {
            &[
                "/api/v1",
                "/identity/{tenantId}",
                "/console",
                "/healthz",
                "/metrics",
                "notifications.email",
                "rotates token-signing keys",
            ]
        } else {
            &[]
        };
        for part in parts {
            assert!(help.contains(part), "{flag}: {part} missing:\n{help}");
        }
        for variable in [
            "LATCHKEY_BOOTSTRAP_TOKEN",
            "LATCHKEY_ADMIN_PASSWORD",
            "LATCHKEY_MASTER_KEY",
            "LATCHKEY_LOG ",
            "LATCHKEY_NOTIFICATIONS__EMAIL__PASSWORD",
            "LATCHKEY_<SECTION>__<KEY>",
        ] {
            assert!(
                help.contains(variable),
                "{flag}: {variable} missing:\n{help}"
            );
        }
        assert!(help.contains("Environment only"), "{help}");
        assert!(
            help.contains("localhost means 127.0.0.1") && help.contains(":PORT"),
            "{help}"
        );
    }
}
