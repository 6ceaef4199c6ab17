//! The local commands, run on the host with the database of the configuration
//! (the composition root resolves its URL as `serve` does): `migrate`,
//! `keys rotate [--now]`, `users reset-password NAME`, `backup FILE`, `restore FILE`. They call
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

/// `latchkey keys rotate [--now]`: prints the new key (kid, when it signs) on
/// stdout.
pub async fn rotate_keys(
    url: &str,
    master: &crate::domain::jws::MasterKey,
    schedule: crate::domain::signing_keys::KeySchedule,
    emergency: bool,
) -> ExitCode {
    use crate::service::keys::RotateError;
    finish(
        match maintenance::rotate_keys(url, master, schedule, emergency).await {
            Ok(Some(key)) => {
                if emergency {
                    eprintln!(
                        "Emergency rotation: the previous key is withdrawn; running servers drop it \
                     at their next key refresh (within 2 s)."
                    );
                }
                println!(
                    "{} generation {} signs from {}",
                    key.kid,
                    key.generation,
                    key.activates_at.to_rfc3339()
                );
                Ok(())
            }
            Ok(None) => Err(Failure::new(Kind::Conflict, "no key was added".to_owned())),
            Err(
                e
                @ (RotateError::Refused(_) | RotateError::Concurrent | RotateError::NotCurrent(_)),
            ) => Err(Failure::new(Kind::Conflict, e.to_string())),
            Err(e) => Err(Failure::other(format!(
                "cannot rotate the signing keys: {e}"
            ))),
        },
    )
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
