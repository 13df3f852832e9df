//! `sitegate central join|leave` and `sitegate sync status|now|dead-letters|openapi`: their arguments, the checks of what was typed, and how their answers print.

use std::fmt::Write;
use std::path::PathBuf;

use clap::Subcommand;
use time::OffsetDateTime;

use super::Outcome;
use crate::service::admin::{AdminRequest, AdminResponse};
use crate::service::sync::join::JoinInput;
use crate::service::sync::status::SyncStatus;
use crate::sync::credential::Trust;

#[derive(Debug, Subcommand)]
pub enum CentralCmd {
    /// Join the central system's site with the one-time site token it issued (prints the site).
    Join {
        /// The central system's address, e.g. https://central.example.com.
        #[arg(long, value_name = "URL")]
        url: String,
        /// File holding the one-time site token (a trailing newline is ignored). Never give the
        /// token itself on the command line: it would stay in the shell's history.
        #[arg(long, value_name = "FILE")]
        token_file: PathBuf,
        /// Trust the central system's TLS through this PEM CA (or its own certificate) instead
        /// of the system roots.
        #[arg(long, value_name = "PEM", conflicts_with = "fingerprint")]
        ca_file: Option<PathBuf>,
        /// Trust only the central certificate with this SHA-256 (base64url or colon hex).
        #[arg(long, value_name = "FP")]
        fingerprint: Option<String>,
    },
    /// Leave the site: the central system is told (unused link slots go back) and the
    /// credential is removed. Local data and unsent events stay.
    Leave,
}

#[derive(Debug, Subcommand)]
pub enum SyncCmd {
    /// The sync in plain words, one fact a line: joined or not, online, what waits, what went wrong.
    Status {
        /// Print the whole status as JSON instead.
        #[arg(long)]
        json: bool,
    },
    /// Start a sync cycle now on the running gateway.
    Now,
    /// Events the central system rejected: list them, send one again, or discard one.
    #[command(subcommand)]
    DeadLetters(DeadLetterCmd),
    /// Print the OpenAPI document of the central side of the sync protocol (v1).
    Openapi,
}

#[derive(Debug, Subcommand)]
pub enum DeadLetterCmd {
    /// List the dead letters, oldest first, with the central system's reason.
    List,
    /// Send a dead letter again (it goes back in the outbox under its own number).
    Retry {
        /// The event's sequence number (see `sitegate sync dead-letters list`).
        seq: u64,
    },
    /// Discard a dead letter for good (kept in the audit log with the reason).
    Discard {
        /// The event's sequence number (see `sitegate sync dead-letters list`).
        seq: u64,
        /// Why it is discarded, 1 to 500 characters.
        #[arg(long, value_name = "TEXT")]
        reason: String,
    },
}

/// The request of a `central` command, from what was typed; bad input is one line and exit 2.
pub fn central_request(cmd: CentralCmd) -> Result<AdminRequest, Outcome> {
    match cmd {
        CentralCmd::Leave => Ok(AdminRequest::CentralLeave),
        CentralCmd::Join {
            url,
            token_file,
            ca_file,
            fingerprint,
        } => {
            let url = url.trim().to_string();
            let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
            if !scheme_ok || reqwest::Url::parse(&url).is_err() {
                return Err(Outcome::fail(
                    2,
                    format!("--url {url:?} is not a URL (expected e.g. https://central.example.com)"),
                ));
            }
            let token = std::fs::read_to_string(&token_file)
                .map_err(|e| Outcome::fail(2, format!("--token-file {}: {e}", token_file.display())))?;
            let token = token.trim().to_string();
            if token.is_empty() || token.len() > 512 {
                return Err(Outcome::fail(
                    2,
                    format!(
                        "--token-file {}: the site token must be 1 to 512 characters",
                        token_file.display()
                    ),
                ));
            }
            let ca_pem = match ca_file {
                Some(path) => {
                    let pem = std::fs::read_to_string(&path)
                        .map_err(|e| Outcome::fail(2, format!("--ca-file {}: {e}", path.display())))?;
                    if !pem.contains("-----BEGIN CERTIFICATE-----") {
                        return Err(Outcome::fail(
                            2,
                            format!("--ca-file {}: holds no PEM certificate", path.display()),
                        ));
                    }
                    Some(pem)
                }
                None => None,
            };
            if let Some(fp) = &fingerprint {
                crate::sync::client::parse_fingerprint(fp)
                    .map_err(|e| Outcome::fail(2, format!("--fingerprint: {e}")))?;
            }
            Ok(AdminRequest::CentralJoin {
                input: JoinInput {
                    url,
                    site_token: token,
                    trust: Trust { ca_pem, fingerprint },
                },
            })
        }
    }
}

/// The request of a `sync` command (`openapi` needs none: `None`).
pub fn sync_request(cmd: &SyncCmd) -> Option<AdminRequest> {
    Some(match cmd {
        SyncCmd::Status { .. } | SyncCmd::DeadLetters(DeadLetterCmd::List) => AdminRequest::SyncStatus,
        SyncCmd::Now => AdminRequest::SyncNow,
        SyncCmd::DeadLetters(DeadLetterCmd::Retry { seq }) => AdminRequest::DeadLetterRetry { seq: *seq },
        SyncCmd::DeadLetters(DeadLetterCmd::Discard { seq, reason }) => AdminRequest::DeadLetterDiscard {
            seq: *seq,
            reason: reason.clone(),
        },
        SyncCmd::Openapi => return None,
    })
}

fn date(t: Option<OffsetDateTime>) -> String {
    t.and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| "never".into())
}

fn age(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

/// The status, one fact a line.
pub fn status_text(s: &SyncStatus) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "State: {}", s.state);
    let _ = writeln!(o, "{}", s.summary);
    let _ = writeln!(o, "Gateway ID: {}", s.gateway_id);
    if let Some(url) = &s.central_url {
        let _ = writeln!(
            o,
            "Central system: {url} (site {:?})",
            s.site_name.clone().unwrap_or_default()
        );
    }
    match s.oldest_pending_age_secs {
        Some(a) if s.pending_events > 0 => {
            let _ = writeln!(
                o,
                "Events waiting: {} (the oldest for {})",
                s.pending_events,
                age(a)
            );
        }
        _ => {
            let _ = writeln!(o, "Events waiting: {}", s.pending_events);
        }
    }
    let _ = writeln!(o, "Last pull: {}", date(s.last_pull_ok));
    let _ = writeln!(o, "Last push: {}", date(s.last_push_ok));
    if let Some(e) = &s.last_error {
        let _ = writeln!(o, "Last error ({}): {e}", date(s.last_error_at));
    }
    if let Some(t) = s.next_retry_at {
        let _ = writeln!(o, "Next try: {}", date(Some(t)));
    }
    if s.joined {
        let _ = writeln!(o, "Events accepted since joining: {}", s.events_accepted);
    }
    if let Some(off) = s.clock_offset_secs {
        let _ = writeln!(
            o,
            "Clock offset from the central system: {off:+} s{}",
            if s.clock_warning {
                " (over 2 minutes: check this box's clock and NTP)"
            } else {
                ""
            }
        );
    }
    for l in &s.leases {
        let _ = writeln!(
            o,
            "Leased link slots: {} — {} granted, {} used, {} free",
            l.link_name.clone().unwrap_or_else(|| l.link_id.to_string()),
            l.granted,
            l.used,
            l.free
        );
    }
    let _ = writeln!(o, "Quarantined records: {}", s.quarantined.len());
    for q in &s.quarantined {
        let _ = writeln!(o, "  {} {} v{}: {}", q.kind, q.id, q.version, q.reason);
    }
    let _ = writeln!(o, "Dead letters: {}", s.dead_letters_total);
    if !s.dead_letters.is_empty() {
        let _ = writeln!(o, "  (see `sitegate sync dead-letters list`)");
    }
    o
}

/// The dead letters, one a line.
pub fn dead_letters_text(s: &SyncStatus) -> String {
    if s.dead_letters.is_empty() {
        return "No dead letters.\n".into();
    }
    let mut o = String::new();
    for d in &s.dead_letters {
        let _ = writeln!(
            o,
            "{:<8} {:<22} {}  {}",
            d.seq,
            d.kind,
            date(Some(d.occurred_at)),
            d.reason
        );
    }
    let shown = s.dead_letters.len();
    let total = s.dead_letters_total;
    let _ = writeln!(
        o,
        "({total} dead letters{}; `retry SEQ` sends one again, `discard SEQ --reason TEXT` drops it)",
        if u64::try_from(shown).unwrap_or(u64::MAX) < total {
            format!(", the oldest {shown} shown")
        } else {
            String::new()
        }
    );
    o
}

/// How a central or sync answer prints; `None` for the other answers.
pub fn render(resp: &AdminResponse, json: bool, list: bool) -> Option<String> {
    Some(match resp {
        AdminResponse::Joined(j) => format!(
            "Joined site {:?} ({}) at {}. The gateway syncs with it from now on.\n",
            j.site_name, j.site_id, j.url
        ),
        AdminResponse::Left(l) => match &l.note {
            None => "Left the site; the central system was told. Local data and unsent events stay.\n".into(),
            Some(note) => format!("Left the site; {note}.\n"),
        },
        AdminResponse::SyncStatus(s) if json => {
            let mut text = serde_json::to_string_pretty(s).unwrap_or_default();
            text.push('\n');
            text
        }
        AdminResponse::SyncStatus(s) if list => dead_letters_text(s),
        AdminResponse::SyncStatus(s) => status_text(s),
        AdminResponse::SyncWoken { state, summary } => {
            format!("Sync woken (state: {state}). {summary}\n")
        }
        AdminResponse::DeadLetterRetried { seq } => {
            format!("Dead letter {seq} is back in the outbox and will be sent again.\n")
        }
        AdminResponse::DeadLetterDiscarded { seq } => {
            format!("Dead letter {seq} discarded (the reason is in the audit log).\n")
        }
        _ => return None,
    })
}
