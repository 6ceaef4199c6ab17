//! `latchkey`: parse the command line, set up logging, run the command.

use std::process::ExitCode;

use clap::Parser;
use latchkey::config::{Cli, Command, Settings};

fn main() -> ExitCode {
    // One TLS crypto provider for the whole process: with two linked, rustls cannot pick
    // a process-wide default and panics on first use.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = Cli::parse();
    latchkey::logging::init(cli.log_format);
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
