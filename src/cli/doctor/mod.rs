//! `sitegate doctor`: every check a technician needs on site, one plain line each (or `--json`),
//! exit code = the number of failed checks. Facts about the gateway come from the running process
//! over its socket (its listeners, tasks, mDNS, printers' last answers, the sync), else from its
//! files; the checks are in `local.rs` (files, clock, disk, backup) and `probes.rs` (network).

mod local;
mod probes;

use std::fmt::Write;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::Outcome;
use crate::admin_socket;
use crate::config::{Config, Overrides, Sources};
use crate::service::admin::{AdminRequest, AdminResponse};
use crate::service::doctor::DoctorFacts;

/// The exit code never goes past this, whatever the count (126 and up mean other things to a shell).
pub const MAX_EXIT: usize = 100;
/// How long the running gateway may take to answer over its socket.
const SOCKET_WAIT: Duration = Duration::from_secs(10);

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    /// Works, but will not for long or needs a look.
    Warn,
    /// Broken: counts toward the exit code.
    Fail,
    /// Not checked here (no systemd, the gateway not running, turned off).
    Skip,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: String,
    pub status: Status,
    pub detail: String,
}

impl Check {
    fn new(name: impl Into<String>, status: Status, detail: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            status,
            detail: detail.into(),
        }
    }
    pub(super) fn ok(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check::new(name, Status::Ok, detail)
    }
    pub(super) fn warn(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check::new(name, Status::Warn, detail)
    }
    pub(super) fn fail(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check::new(name, Status::Fail, detail)
    }
    pub(super) fn skip(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check::new(name, Status::Skip, detail)
    }
}

/// The whole report, as `--json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub state_dir: PathBuf,
    /// The facts came from the running gateway.
    pub gateway_running: bool,
    pub checks: Vec<Check>,
    pub failed: usize,
    pub warnings: usize,
}

/// Where the facts came from.
enum Facts {
    Live(Box<DoctorFacts>),
    /// No gateway runs; read from the store.
    Stored(Box<DoctorFacts>),
    /// No gateway runs and there is no database yet.
    NoDatabase,
    /// Something answered, but not with facts.
    Broken(String),
}

impl Facts {
    fn get(&self) -> Option<&DoctorFacts> {
        match self {
            Facts::Live(f) | Facts::Stored(f) => Some(f),
            Facts::NoDatabase | Facts::Broken(_) => None,
        }
    }
}

/// `sitegate doctor [--json]`.
pub async fn run(file: Option<PathBuf>, state_dir: Option<PathBuf>, json: bool) -> Outcome {
    let mut checks = Vec::new();
    let overrides = || Overrides {
        state_dir: state_dir.clone(),
        ..Default::default()
    };
    let (config, config_check) = local::config(file, overrides);
    checks.push(config_check);
    let facts = gather(&config).await;
    checks.push(probes::gateway(&config, &facts).await);
    checks.extend(local::files(&config, facts.get()));
    checks.push(local::clock(facts.get()));
    checks.push(local::disk(&config));
    checks.extend(probes::printers(&config, facts.get()).await);
    checks.extend(probes::mdns(&config, &facts).await);
    checks.push(probes::kiosk(&config, facts.get()).await);
    checks.push(probes::kiosk_unit().await);
    checks.push(probes::central(facts.get()).await);
    checks.push(local::backup(facts.get()));
    let report = Report {
        state_dir: config.state_dir(),
        gateway_running: matches!(facts, Facts::Live(_)),
        failed: checks.iter().filter(|c| c.status == Status::Fail).count(),
        warnings: checks.iter().filter(|c| c.status == Status::Warn).count(),
        checks,
    };
    let stdout = if json {
        let mut s = serde_json::to_string_pretty(&report).unwrap_or_default();
        s.push('\n');
        s
    } else {
        render(&report)
    };
    Outcome {
        code: u8::try_from(report.failed.min(MAX_EXIT)).unwrap_or(u8::MAX),
        stdout,
        stderr: String::new(),
    }
}

/// The configuration to check everything else with, when the file itself is broken: the
/// defaults, the environment and the flags.
fn fallback(overrides: Overrides) -> Config {
    Config::load(&Sources::from_process(None, overrides.clone())).unwrap_or_else(|_| Config {
        state_dir: overrides.state_dir,
        ..Config::default()
    })
}

async fn gather(config: &Config) -> Facts {
    let state_dir = config.state_dir();
    match tokio::time::timeout(SOCKET_WAIT, admin_socket::send(&state_dir, &AdminRequest::Doctor)).await {
        Err(_) => Facts::Broken(format!(
            "the gateway's socket {} gave no answer within {} s",
            admin_socket::socket_path(&state_dir).display(),
            SOCKET_WAIT.as_secs()
        )),
        Ok(Ok(Some(Ok(AdminResponse::Doctor(f))))) => Facts::Live(f),
        Ok(Ok(Some(Ok(_)))) => Facts::Broken("the gateway answered something else".into()),
        Ok(Ok(Some(Err(e)))) | Ok(Err(e)) => Facts::Broken(e.message),
        Ok(Ok(None)) => stored(config).await,
    }
}

/// The facts from the store, with no gateway running. Creates nothing: no database, no key.
async fn stored(config: &Config) -> Facts {
    let state_dir = config.state_dir();
    if !state_dir.join(crate::DB_FILE).exists() {
        return Facts::NoDatabase;
    }
    let dir = state_dir.clone();
    let store = match tokio::task::spawn_blocking(move || crate::open_store(&dir)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Facts::Broken(format!("cannot open the database: {e}")),
        Err(_) => return Facts::Broken("cannot open the database".into()),
    };
    let services = crate::service::Services::new(
        store,
        std::sync::Arc::new(crate::clock::SystemClock),
        // The facts need no key, and the doctor must not make one.
        std::sync::Arc::new(crate::keys::Keys::throwaway()),
        crate::site_settings(config),
    );
    match services.doctor_facts().await {
        Ok(f) => Facts::Stored(Box::new(f)),
        Err(e) => Facts::Broken(format!("cannot read the database: {e}")),
    }
}

fn render(report: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "sitegate doctor: {}", report.state_dir.display());
    let width = report
        .checks
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0);
    for c in &report.checks {
        let _ = writeln!(s, "{:<4}  {:<width$}  {}", c.status.word(), c.name, c.detail);
    }
    let n = report.checks.len();
    let summary = match (report.failed, report.warnings) {
        (0, 0) => format!("all {n} checks passed"),
        (0, w) => format!("{n} checks, none failed, {w} warning{}", plural(w)),
        (f, w) => format!(
            "{f} of {n} checks failed, {w} warning{} (exit code {})",
            plural(w),
            f.min(MAX_EXIT)
        ),
    };
    let _ = writeln!(s, "{summary}");
    s
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A size for people: `812 KiB`, `3.4 GiB`.
pub(super) fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{n} bytes"),
        _ if v >= 100.0 => format!("{v:.0} {}", UNITS[unit]),
        _ => format!("{v:.1} {}", UNITS[unit]),
    }
}

/// A duration for people: `45 s`, `12 min`, `3 h`, `2 days`.
pub(super) fn ago(secs: i64) -> String {
    let s = secs.unsigned_abs();
    match s {
        0..120 => format!("{s} s"),
        120..7200 => format!("{} min", s / 60),
        7200..172_800 => format!("{} h", s / 3600),
        _ => format!("{} days", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_ages_read_as_words() {
        assert_eq!(bytes(512), "512 bytes");
        assert_eq!(bytes(3 * 1024 * 1024 / 2), "1.5 MiB");
        assert_eq!(ago(30), "30 s");
        assert_eq!(ago(-600), "10 min");
        assert_eq!(ago(3 * 86_400), "3 days");
    }

    #[test]
    fn the_report_has_one_line_per_check_and_a_summary() {
        let report = Report {
            state_dir: "/var/lib/sitegate".into(),
            gateway_running: true,
            checks: vec![Check::ok("config", "fine"), Check::fail("key file", "mode 644")],
            failed: 1,
            warnings: 0,
        };
        let text = render(&report);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[2].starts_with("FAIL  key file  mode 644"), "{text}");
        assert!(lines[3].contains("1 of 2 checks failed"), "{text}");
    }
}
