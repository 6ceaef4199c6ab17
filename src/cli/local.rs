//! The local commands, run on the host with the database of the configuration
//! (the composition root resolves its URL as `serve` does): `migrate`,
//! `users reset-password NAME`, `backup FILE`, `restore FILE`. They call
//! [`crate::service::maintenance`]; what they print goes to stderr, except a
//! new password, which is the only thing on stdout.

use std::path::Path;
use std::process::ExitCode;

use super::exit::{Failure, Kind};
use crate::service::accounts::AccountError;
use crate::service::maintenance;

fn finish(result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

/// `latchkey migrate`.
pub async fn migrate(url: &str, shown: &str) -> ExitCode {
    finish(
        maintenance::migrate(url)
            .await
            .map(|()| eprintln!("The database {shown} is migrated."))
            .map_err(|e| Failure::other(format!("cannot migrate {shown}: {e}"))),
    )
}

/// `latchkey users reset-password NAME`.
pub async fn reset_password(url: &str, name: &str) -> ExitCode {
    finish(match maintenance::reset_password(url, name).await {
        Ok(password) => {
            eprintln!(
                "New password of console user {name:?} (shown once; their sessions have ended):"
            );
            println!("{}", password.as_str());
            Ok(())
        }
        Err(AccountError::NotFound) => Err(Failure::new(
            Kind::NotFound,
            format!("no console user named {name:?}"),
        )),
        Err(e) => Err(Failure::other(format!("cannot reset the password: {e}"))),
    })
}

/// `latchkey backup FILE`.
pub async fn backup(url: &str, file: &Path, key_file: Option<&Path>) -> ExitCode {
    finish(
        maintenance::backup(url, file)
            .await
            .map(|()| {
                eprintln!("Backup written to {}.", file.display());
                if let Some(key) = key_file.filter(|k| k.exists()) {
                    eprintln!(
                        "The token-signing keys in it are sealed with the master key in {}: \
                         keep a copy of that file too (apart from the backup).",
                        key.display()
                    );
                }
            })
            .map_err(|e| Failure::other(format!("cannot back up: {e}"))),
    )
}

/// `latchkey restore FILE`.
pub async fn restore(url: &str, shown: &str, file: &Path) -> ExitCode {
    finish(
        maintenance::restore(url, file)
            .await
            .map(|()| {
                eprintln!(
                    "{shown} restored from {}; start the server to use it.",
                    file.display()
                )
            })
            .map_err(|e| Failure::other(format!("cannot restore: {e}"))),
    )
}
