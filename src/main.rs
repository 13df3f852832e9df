//! The sitegate binary: parse the command line, set up logging, run the library, exit with its code.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use sitegate::cli::{self, Cli, Command};
use sitegate::config::{LogFormat, Overrides};

fn finish(outcome: cli::Outcome) -> ExitCode {
    let _ = std::io::stdout().write_all(outcome.stdout.as_bytes());
    let _ = std::io::stderr().write_all(outcome.stderr.as_bytes());
    ExitCode::from(outcome.code)
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => {
            // --help and --version
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let text = e.to_string();
            // clap's message runs until the blank line before "Usage:"; make it one line.
            let message: Vec<&str> = text
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect();
            let line = message.join(" ");
            let line = line.trim_start_matches("error: ");
            let _ = writeln!(std::io::stderr(), "sitegate: {line} (see sitegate --help)");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            return finish(cli::Outcome {
                code: 1,
                stdout: String::new(),
                stderr: format!("sitegate: cannot start: {e}\n"),
            });
        }
    };
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => {
                let overrides = Overrides {
                    state_dir: cli.state_dir,
                    listen: args.listen,
                    kiosk_listen: args.kiosk_listen,
                    log_format: args.log_format,
                };
                let config = match cli::load_config(cli.config, overrides) {
                    Ok(c) => c,
                    Err(o) => return finish(o),
                };
                sitegate::logging::init(&config.log.filter, config.log.format);
                finish(cli::serve(config, args.demo).await)
            }
            _ => {
                sitegate::logging::init("warn", LogFormat::Text);
                finish(cli::run_command(cli).await)
            }
        }
    })
}
