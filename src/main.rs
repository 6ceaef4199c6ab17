//! `latchkey`: parse the command line, set up logging, run the command: the
//! server (`serve`), an operator command against a running server's API
//! ([`latchkey::cli`]), a local command on the configured database (its URL
//! resolved here as `serve` resolves it), or a completion script.

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use latchkey::cli::local;
use latchkey::config::{
    self, Cli, Command, DatabaseArgs, KeysCommand, MasterKeySource, ServeArgs, Settings,
    UsersCommand,
};

fn main() -> ExitCode {
    // One TLS crypto provider for the whole process: with two linked, rustls cannot pick
    // a process-wide default and panics on first use.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = Cli::parse();
    // The server logs at info; the operator commands only say what went wrong.
    let default_level = match cli.command {
        Command::Serve(_) => "info",
        _ => "warn",
    };
    latchkey::logging::init(cli.log_format, default_level);
    if let Command::Completions { shell } = cli.command {
        clap_complete::generate(
            shell,
            &mut Cli::command(),
            "latchkey",
            &mut std::io::stdout(),
        );
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("latchkey: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Command::Serve(args) => {
            let settings = match Settings::load(&args) {
                Ok(settings) => settings,
                Err(e) => {
                    eprintln!("latchkey: {e}");
                    return ExitCode::from(2);
                }
            };
            let new_files = latchkey::server::NewFiles::of(&settings);
            match runtime.block_on(latchkey::server::serve(settings)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    // Its tasks hold the database open until the runtime is gone.
                    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
                    new_files.remove();
                    eprintln!("latchkey: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Remote(command) => runtime.block_on(latchkey::cli::run(command)),
        Command::Migrate(database) => with_database(&database, |url| {
            runtime.block_on(local::migrate(&url, &latchkey::server::redact_url(&url)))
        }),
        Command::Keys {
            command: KeysCommand::Rotate { now, database },
        } => {
            let args = ServeArgs {
                listen: None,
                database: database.database.clone(),
                config: database.config.clone(),
                public_url: None,
            };
            let settings = match Settings::load(&args) {
                Ok(settings) => settings,
                Err(e) => {
                    eprintln!("latchkey: {e}");
                    return ExitCode::from(2);
                }
            };
            let master = match &settings.master_key {
                MasterKeySource::Environment(text) => latchkey::domain::jws::MasterKey::parse(text)
                    .map_err(|e| format!("LATCHKEY_MASTER_KEY: {e}")),
                MasterKeySource::File(path) if !path.exists() => Err(format!(
                    "no master key file at {} (and LATCHKEY_MASTER_KEY is not set)",
                    path.display()
                )),
                MasterKeySource::File(path) => {
                    latchkey::service::keys::load_or_create_key_file(path)
                        .map_err(|e| e.to_string())
                }
            };
            match master {
                Ok(master) => runtime.block_on(local::rotate_keys(
                    &settings.database_url,
                    &master,
                    settings.tokens.key_schedule,
                    now,
                )),
                Err(e) => {
                    eprintln!("latchkey: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Users {
            command: UsersCommand::ResetPassword { name, database },
        } => with_database(&database, |url| {
            runtime.block_on(local::reset_password(&url, &name))
        }),
        Command::Backup { file, database } => with_database(&database, |url| {
            let key = config::key_file_of(&url);
            runtime.block_on(local::backup(&url, &file, key.as_deref()))
        }),
        Command::Restore { file, database } => with_database(&database, |url| {
            runtime.block_on(local::restore(
                &url,
                &latchkey::server::redact_url(&url),
                &file,
            ))
        }),
        Command::Completions { .. } => ExitCode::SUCCESS,
    }
}

/// Resolves the database of a local command, then runs it; a bad configuration exits 2.
fn with_database(args: &DatabaseArgs, run: impl FnOnce(String) -> ExitCode) -> ExitCode {
    match config::database_url(args) {
        Ok(url) => run(url),
        Err(e) => {
            eprintln!("latchkey: {e}");
            ExitCode::from(2)
        }
    }
}
