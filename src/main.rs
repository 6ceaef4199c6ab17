//! `latchkey`: parse the command line, set up logging, run the command.

use std::process::ExitCode;

use clap::Parser;
use latchkey::config::{Cli, Command, Settings};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    // One TLS crypto provider for the whole process: with two linked, rustls cannot pick
    // a process-wide default and panics on first use.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_env("LATCHKEY_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Serve(args) => {
            let settings = match Settings::load(&args) {
                Ok(settings) => settings,
                Err(e) => {
                    eprintln!("latchkey: {e}");
                    return ExitCode::from(2);
                }
            };
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(runtime) => runtime,
                Err(e) => {
                    eprintln!("latchkey: cannot start the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(latchkey::server::serve(settings)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("latchkey: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
