//! The command line: `serve`, `init`, `user …`, `unit …`, `training …`, `link …`, `device …`, `central …`, `sync …`, `headset …`, `config …`, `healthcheck`, `doctor`, `info`, `print test`. Parses, dispatches, prints one clear line on failure.

mod args;
mod config_check;
mod discovery;
mod doctor;
mod headset;
mod healthcheck;
mod print;
mod render;
mod render_links;
mod sync;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

pub use args::{Cli, Command};
pub use headset::HeadsetCmd;

use crate::admin_socket::{self, CommandError};
use crate::config::{self, Config, Overrides, Sources};
use crate::service::admin::{AdminRequest, AdminResponse, execute};
use crate::{Listeners, RunOptions};

/// What the binary should exit with, and what it prints.
#[derive(Debug)]
pub struct Outcome {
    pub code: u8,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    fn ok(stdout: String) -> Outcome {
        Outcome {
            code: 0,
            stdout,
            stderr: String::new(),
        }
    }

    fn fail(code: u8, message: impl std::fmt::Display) -> Outcome {
        Outcome {
            code,
            stdout: String::new(),
            stderr: format!("sitegate: {message}\n"),
        }
    }
}

impl From<CommandError> for Outcome {
    fn from(e: CommandError) -> Self {
        Outcome::fail(e.exit_code, e.message)
    }
}

/// Load configuration for a command, with the flags it has.
pub fn load_config(file: Option<PathBuf>, overrides: Overrides) -> Result<Config, Outcome> {
    Config::load(&Sources::from_process(file, overrides)).map_err(|e| Outcome::fail(2, e))
}

/// Run every command but `serve` (which the binary runs itself, after setting up logging).
pub async fn run_command(cli: Cli) -> Outcome {
    match cli.command {
        Command::Serve(_) => Outcome::fail(2, "serve is started by the binary"),
        Command::Headset(cmd) => headset::run(cmd).await,
        Command::Config(args::ConfigCmd::Example) => Outcome::ok(config::example()),
        Command::Config(args::ConfigCmd::Check { file }) => config_check::run(&file),
        Command::Healthcheck(h) => {
            let config = match load_config(
                cli.config,
                Overrides {
                    state_dir: cli.state_dir,
                    ..Default::default()
                },
            ) {
                Ok(c) => c,
                Err(o) => return o,
            };
            healthcheck::run(&config, h.url.as_deref()).await
        }
        Command::Doctor(d) => doctor::run(cli.config, cli.state_dir, d.json).await,
        Command::Info => match load_config(
            cli.config,
            Overrides {
                state_dir: cli.state_dir,
                ..Default::default()
            },
        ) {
            Ok(c) => discovery::info(&c),
            Err(o) => o,
        },
        Command::Print(args::PrintCmd::Test { printer, profile }) => {
            let config = match load_config(
                cli.config,
                Overrides {
                    state_dir: cli.state_dir,
                    ..Default::default()
                },
            ) {
                Ok(c) => c,
                Err(o) => return o,
            };
            print::test(&config, &printer, profile.as_deref()).await
        }
        Command::Sync(sync::SyncCmd::Openapi) => {
            Outcome::ok(crate::sync::central_api::document_json() + "\n")
        }
        Command::Central(cmd) => match sync::central_request(cmd) {
            Ok(request) => run_admin(cli.config, cli.state_dir, request, false, false).await,
            Err(o) => o,
        },
        Command::Sync(cmd) => {
            let json = matches!(cmd, sync::SyncCmd::Status { json: true });
            let list = matches!(cmd, sync::SyncCmd::DeadLetters(sync::DeadLetterCmd::List));
            match sync::sync_request(&cmd) {
                Some(request) => run_admin(cli.config, cli.state_dir, request, json, list).await,
                None => Outcome::fail(2, "not a data command"),
            }
        }
        other => {
            let request = match args::to_request(other) {
                Ok(r) => r,
                Err(o) => return o,
            };
            let config = match load_config(
                cli.config,
                Overrides {
                    state_dir: cli.state_dir,
                    ..Default::default()
                },
            ) {
                Ok(c) => c,
                Err(o) => return o,
            };
            match admin(&config, request).await {
                Ok(resp) => Outcome::ok(render::render(&resp)),
                Err(e) => e.into(),
            }
        }
    }
}

/// Run a `central` or `sync` command and print its answer.
async fn run_admin(
    file: Option<PathBuf>,
    state_dir: Option<PathBuf>,
    request: AdminRequest,
    json: bool,
    list: bool,
) -> Outcome {
    let config = match load_config(
        file,
        Overrides {
            state_dir,
            ..Default::default()
        },
    ) {
        Ok(c) => c,
        Err(o) => return o,
    };
    match admin(&config, request).await {
        Ok(resp) => Outcome::ok(sync::render(&resp, json, list).unwrap_or_else(|| render::render(&resp))),
        Err(e) => e.into(),
    }
}

/// Run a technician command: through the running gateway's socket, else on the store directly.
pub async fn admin(config: &Config, request: AdminRequest) -> Result<AdminResponse, CommandError> {
    let state_dir = config.state_dir();
    if let Some(answer) = admin_socket::send(&state_dir, &request).await? {
        return answer;
    }
    let fail = |message: String| CommandError {
        message,
        exit_code: 1,
    };
    let in_use = |e: crate::store::StoreError| match e {
        crate::store::StoreError::InUse(_) => CommandError {
            message: format!("{e}; no technician socket answered in {}", state_dir.display()),
            exit_code: 1,
        },
        other => fail(other.to_string()),
    };
    if !state_dir.join(crate::DB_FILE).exists() && !matches!(request, AdminRequest::Init { .. }) {
        return Err(CommandError {
            message: format!(
                "no sitegate database in {} (run `sitegate init` or `sitegate serve` first, or pass --state-dir)",
                state_dir.display()
            ),
            exit_code: 1,
        });
    }
    if matches!(request, AdminRequest::SyncNow) {
        return Err(fail(format!(
            "no gateway is running on {}: the sync runs inside `sitegate serve`",
            state_dir.display()
        )));
    }
    crate::make_state_dir(&state_dir).map_err(|e| CommandError {
        message: e.to_string(),
        exit_code: 1,
    })?;
    let store = crate::open_store(&state_dir).map_err(in_use)?;
    let keys = crate::keys::Keys::load_or_create(&config.key_file()).map_err(|e| fail(e.to_string()))?;
    let mut services = crate::service::Services::new(
        store,
        std::sync::Arc::new(crate::clock::SystemClock),
        std::sync::Arc::new(keys),
        crate::site_settings(config),
    )
    .with_public_url(crate::public_url(config, config.server.listen));
    services.sync = crate::service::sync::worker::SyncHandle::for_state_dir(state_dir.clone());
    execute(&services, request).await.map_err(CommandError::from)
}

/// `sitegate serve`: bind, then run until SIGTERM/SIGINT.
pub async fn serve(config: Config, demo: bool) -> Outcome {
    let listeners = match Listeners::bind(&config).await {
        Ok(l) => l,
        Err(e) => return Outcome::fail(e.exit_code(), e),
    };
    match crate::run(
        config,
        listeners,
        RunOptions { demo, clock: None },
        crate::shutdown_signal(),
    )
    .await
    {
        Ok(()) => Outcome::ok(String::new()),
        Err(e) => Outcome::fail(e.exit_code(), e),
    }
}
