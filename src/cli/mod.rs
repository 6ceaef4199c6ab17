//! The `latchkey` operator commands, a front end like `http/` and `console/`:
//! the remote ones (`tenants`, `clients`, `secrets`, `inventory`, `audit`) call
//! a running server's management API over HTTP with a token from the
//! environment and touch nothing else; the local ones ([`local`]: `migrate`,
//! `users reset-password`, `backup`, `restore`) work on the configured
//! database through the services.
//!
//! Output: a readable table by default, the API's JSON with `--output json`.
//! A new secret value is the only thing on stdout (details on stderr), so
//! `$(latchkey secrets add …)` captures exactly the value; it is never printed
//! anywhere else. Failures print one line on stderr and exit with the code of
//! their kind ([`exit`]).
//!
//! Modules: `args` (the flags), `api` (the HTTP client), `exit` (exit codes),
//! `table` (printing), `tenants`, `clients`, `secrets`, `reports` (inventory
//! and audit), `local`.

use std::process::ExitCode;

mod api;
mod args;
mod clients;
mod exit;
pub mod local;
mod reports;
mod secrets;
mod table;
mod tenants;

pub use args::{Connection, Output, RemoteCommand};
pub use exit::{EXIT_CODES_HELP, Failure, Kind};

use api::Api;

/// Runs one remote command; prints its answer and returns the exit code.
pub async fn run(command: RemoteCommand) -> ExitCode {
    let result = match command {
        RemoteCommand::Tenants {
            connection,
            command,
        } => {
            with_api(&connection, |api| {
                tenants::run(api, connection.output, command)
            })
            .await
        }
        RemoteCommand::Clients {
            connection,
            command,
        } => {
            with_api(&connection, |api| {
                clients::run(api, connection.output, command)
            })
            .await
        }
        RemoteCommand::Secrets {
            connection,
            command,
        } => {
            with_api(&connection, |api| {
                secrets::run(api, connection.output, command)
            })
            .await
        }
        RemoteCommand::Inventory { connection, args } => {
            with_api(&connection, |api| {
                reports::inventory(api, connection.output, args)
            })
            .await
        }
        RemoteCommand::Audit { connection, args } => {
            with_api(&connection, |api| {
                reports::audit(api, connection.output, args)
            })
            .await
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

async fn with_api<F, Fut>(connection: &Connection, command: F) -> Result<(), Failure>
where
    F: FnOnce(Api) -> Fut,
    Fut: std::future::Future<Output = Result<(), Failure>>,
{
    let api = Api::new(connection)?;
    command(api).await
}

/// One path segment (a tenant or client id), percent-encoded.
fn segment(text: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(text, SEGMENT).to_string()
}

/// The answer to add, renew or create: the new value alone on stdout (and what
/// it belongs to on stderr), or the whole JSON with `--output json`.
fn print_new_value(output: Output, body: &serde_json::Value, what: &str) -> Result<(), Failure> {
    let Some(value) = body.get("Secret").and_then(serde_json::Value::as_str) else {
        return Err(Failure::other(
            "the server's answer carries no secret value",
        ));
    };
    match output {
        Output::Json => println!("{}", table::pretty(body)),
        Output::Table => {
            let id = table::cell(body.get("Id"));
            let expiration = match body.get("Expiration").and_then(serde_json::Value::as_str) {
                Some(_) => format!("expires {}", table::cell(body.get("Expiration"))),
                None => "never expires".to_owned(),
            };
            let grace = match body.get("GraceUntil").and_then(serde_json::Value::as_str) {
                Some(_) => format!(
                    "; the old value works until {}",
                    table::cell(body.get("GraceUntil"))
                ),
                None => String::new(),
            };
            eprintln!(
                "{what}: secret {id}, {expiration}{grace}. Its value is printed once, on stdout: store it now."
            );
            println!("{value}");
        }
    }
    Ok(())
}
