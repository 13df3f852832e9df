//! `sitegate headset …`: the reference headset client on the command line (pair, login, report, logout).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use uuid::Uuid;

use super::Outcome;
use crate::headset_client::{ClientError, HeadsetClient, LoginWith};

#[derive(Debug, Args)]
pub struct ClientDir {
    /// Where the headset keeps its state (device token, pinned certificate, session).
    #[arg(long, default_value = "./sitegate-headset", value_name = "DIR")]
    pub client_dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum HeadsetCmd {
    /// Find gateways on the local network (mDNS) and print what each announces.
    Discover {
        /// Seconds to listen for answers (1 to 600).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=600))]
        timeout: u64,
    },
    /// Ask the gateway to pair, show the comparison code, wait for staff to approve.
    Pair {
        #[command(flatten)]
        dir: ClientDir,
        /// The gateway, e.g. https://192.168.1.20:8443
        #[arg(long)]
        url: String,
        /// The name staff see in the pairing request.
        #[arg(long, default_value = "Reference headset")]
        name: String,
        /// The headset model it reports.
        #[arg(long, default_value = "sitegate-cli")]
        model: String,
        /// The firmware version it reports.
        #[arg(long, default_value = env!("CARGO_PKG_VERSION"))]
        firmware: String,
        /// Refuse any other certificate (the fingerprint from mDNS, a QR or the staff screen).
        #[arg(long)]
        fingerprint: Option<String>,
        /// Seconds to wait for approval.
        #[arg(long, default_value_t = 300)]
        wait: u64,
    },
    /// Log a user in: --user with --pin or --totp, or --otp alone.
    Login {
        #[command(flatten)]
        dir: ClientDir,
        /// The user's ID (with --pin or --totp).
        #[arg(long, value_name = "ID")]
        user: Option<String>,
        /// The user's VR PIN.
        #[arg(long)]
        pin: Option<String>,
        /// The code from the user's authenticator app.
        #[arg(long, value_name = "CODE")]
        totp: Option<String>,
        /// A one-time password from staff (alone, without --user).
        #[arg(long, value_name = "CODE")]
        otp: Option<String>,
    },
    /// Report a progress event for the logged-in user.
    Report {
        #[command(flatten)]
        dir: ClientDir,
        /// The training module's UUID.
        #[arg(long)]
        module: Uuid,
        /// started, completed or aborted
        #[arg(long)]
        event: String,
        /// Score, 0 to 100 (with completed).
        #[arg(long)]
        score: Option<u8>,
        /// Whether the user passed: true or false (with completed).
        #[arg(long)]
        passed: Option<bool>,
        /// Reuse to retry the same event (stored once).
        #[arg(long)]
        event_id: Option<Uuid>,
    },
    /// End the logged-in user's session.
    Logout {
        #[command(flatten)]
        dir: ClientDir,
    },
}

fn fail(e: ClientError) -> Outcome {
    let code = e.code.map(|c| format!(" ({c})")).unwrap_or_default();
    Outcome::fail(1, format!("{}{code}", e.message))
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default() + "\n"
}

/// Run a headset command.
pub async fn run(cmd: HeadsetCmd) -> Outcome {
    match cmd {
        HeadsetCmd::Discover { timeout } => {
            super::discovery::discover(std::time::Duration::from_secs(timeout)).await
        }
        HeadsetCmd::Pair {
            dir,
            url,
            name,
            model,
            firmware,
            fingerprint,
            wait,
        } => {
            let (mut client, started) =
                match HeadsetClient::pair(&dir.client_dir, &url, &name, &model, &firmware, fingerprint).await
                {
                    Ok(x) => x,
                    Err(e) => return fail(e),
                };
            if started.comparison_code != started.gateway_code {
                return Outcome::fail(
                    1,
                    format!(
                        "the gateway's comparison code {} differs from this headset's {}: someone may be in between; do not approve",
                        started.gateway_code, started.comparison_code
                    ),
                );
            }
            #[allow(clippy::print_stderr)] // shown while waiting, before the final answer
            {
                eprintln!(
                    "Comparison code: {}  (certificate {}). Approve device {} on the staff screen when it shows the same code.",
                    started.comparison_code, started.fingerprint, started.device_id
                );
            }
            match client.wait_for_approval(Duration::from_secs(wait)).await {
                Ok(()) => Outcome::ok(format!("paired as device {}\n", started.device_id)),
                Err(e) => fail(e),
            }
        }
        HeadsetCmd::Login {
            dir,
            user,
            pin,
            totp,
            otp,
        } => {
            let with = match (user, pin, totp, otp) {
                (Some(user_id), Some(pin), None, None) => LoginWith::Pin { user_id, pin },
                (Some(user_id), None, Some(code), None) => LoginWith::Totp { user_id, code },
                (None, None, None, Some(code)) => LoginWith::Otp { code },
                (None, Some(pin), None, None) => LoginWith::PinOnly { pin },
                _ => return Outcome::fail(2, "give --user with --pin or --totp, or --otp alone"),
            };
            let mut client = match HeadsetClient::load(&dir.client_dir) {
                Ok(c) => c,
                Err(e) => return fail(e),
            };
            match client.login(with).await {
                Ok(out) => {
                    let mut out = out;
                    if let Some(o) = out.as_object_mut() {
                        o.remove("token");
                    }
                    Outcome::ok(pretty(&out))
                }
                Err(e) => fail(e),
            }
        }
        HeadsetCmd::Report {
            dir,
            module,
            event,
            score,
            passed,
            event_id,
        } => match HeadsetClient::load(&dir.client_dir) {
            Ok(c) => match c.report(module, &event, score, passed, event_id).await {
                Ok(out) => Outcome::ok(pretty(&out)),
                Err(e) => fail(e),
            },
            Err(e) => fail(e),
        },
        HeadsetCmd::Logout { dir } => match HeadsetClient::load(&dir.client_dir) {
            Ok(mut c) => match c.logout().await {
                Ok(()) => Outcome::ok("logged out\n".into()),
                Err(e) => fail(e),
            },
            Err(e) => fail(e),
        },
    }
}
