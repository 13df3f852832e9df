//! `sitegate doctor` as a technician runs it (the real binary) against a running gateway and
//! without one: a healthy gateway passes every check; a key file other users can read, a printer
//! that hangs up, a missing configuration each give a failing line, and the exit code is the
//! number of failed checks; `--json` parses.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use common::Gateway;
use common::printer::TestPrinter;
use serde_json::Value;
use sitegate::RunOptions;
use sitegate::config::{Config, Overrides, Sources};

const BIN: &str = env!("CARGO_BIN_EXE_sitegate");

/// A fresh instance name per run: peers keep what a killed advertiser announced.
fn unique(prefix: &str) -> String {
    #[allow(clippy::disallowed_methods)] // only to make a name unique
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix} {}-{nanos:09}", std::process::id())
}

/// A site on disk: the configuration file the doctor reads, the gateway started from it.
struct Site {
    dir: tempfile::TempDir,
    file: PathBuf,
}

impl Site {
    fn new(toml: &str) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sitegate.toml");
        let state = dir.path().join("state");
        std::fs::write(
            &file,
            format!("state_dir = {:?}\n{toml}", state.display().to_string()),
        )
        .unwrap();
        Site { dir, file }
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn config(&self) -> Config {
        Config::load(&Sources {
            file: Some(self.file.clone()),
            env: Vec::new(),
            overrides: Overrides::default(),
        })
        .unwrap()
    }

    /// Start the gateway in this process from the same file (its listeners on port 0).
    async fn start(&self) -> Gateway {
        let config = self.config();
        let dir = tempfile::tempdir().unwrap();
        Gateway::start_in(dir, move |c| *c = config, RunOptions::default()).await
    }
}

/// What one doctor run said.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("--json is JSON: {e}\n{}", self.stdout))
    }
}

/// `sitegate [--config FILE] --state-dir DIR doctor ARGS`, in a clean environment.
async fn doctor(config: Option<&Path>, state: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars_os() {
        if let Some(k) = key.to_str()
            && (k.starts_with("SITEGATE_") || k == "STATE_DIRECTORY" || k == "JOURNAL_STREAM")
        {
            cmd.env_remove(k);
        }
    }
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    cmd.arg("--state-dir").arg(state).arg("doctor").args(args);
    cmd.env("SITEGATE_LOG", "warn").stdin(Stdio::null());
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.stderr.is_empty(),
        "nothing on stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
    }
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name:?} in {report:#}"))
}

fn failed(report: &Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| format!("{}: {}", c["name"], c["detail"]))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_gateway_passes_every_check() {
    let printer = TestPrinter::start().await;
    let name = unique("Doctor site");
    let site = Site::new(&format!(
        "[site]\nname = {name:?}\n\n[discovery]\nenabled = true\ninterfaces = [\"lo\"]\n\n\
         [[printing.printers]]\nname = \"gate\"\nurl = \"{}\"\nprofile = \"epson-tm-t20iii\"\n",
        printer.url()
    ));
    // A backup recorded, as the backup does (META `last_backup`), before the gateway holds the file.
    let store = sitegate::open_store(&{
        std::fs::create_dir_all(site.state()).unwrap();
        std::fs::set_permissions(site.state(), std::fs::Permissions::from_mode(0o700)).unwrap();
        site.state()
    })
    .unwrap();
    #[allow(clippy::disallowed_methods)] // the doctor compares with the real clock
    let at = time::OffsetDateTime::from(SystemTime::now()) - time::Duration::hours(3);
    let record = serde_json::json!({
        "at": at.format(&time::format_description::well_known::Rfc3339).unwrap(),
        "path": "/var/backups/sitegate/test",
    })
    .to_string();
    store
        .write_blocking(|tx| -> Result<(), sitegate::store::StoreError> {
            tx.open_table(sitegate::store::tables::META)?
                .insert(sitegate::service::doctor::LAST_BACKUP_KEY, record.as_str())?;
            Ok(())
        })
        .unwrap();
    drop(store);
    let gw = site.start().await;

    let run = doctor(Some(&site.file), &site.state(), &["--json"]).await;
    let report = run.json();
    assert_eq!(failed(&report), Vec::<String>::new(), "{report:#}");
    assert_eq!(run.code, 0, "{report:#}");
    assert_eq!(report["gateway_running"], true);
    let no_systemd = !Path::new("/run/systemd/system").is_dir();
    for c in report["checks"].as_array().unwrap() {
        let skipped_unit = no_systemd && c["name"] == "kiosk browser";
        let want = if skipped_unit { "skip" } else { "ok" };
        assert_eq!(c["status"], want, "{c}");
    }
    if no_systemd {
        assert_eq!(
            check(&report, "kiosk browser")["detail"],
            "not checked: no systemd"
        );
    }
    assert!(
        check(&report, "gateway")["detail"]
            .as_str()
            .unwrap()
            .contains("ready")
    );
    let p = check(&report, "printer gate")["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        p.contains("ready, paper in, cover closed") && p.contains("epson-tm-t20iii"),
        "{p}"
    );
    let m = check(&report, "mdns lo")["detail"].as_str().unwrap().to_owned();
    assert!(m.contains("answered") && m.contains(&name), "{m}");
    let b = check(&report, "backup")["detail"].as_str().unwrap().to_owned();
    assert!(
        b.contains("3 h old") && b.contains("/var/backups/sitegate/test"),
        "{b}"
    );
    assert!(
        check(&report, "kiosk")["detail"]
            .as_str()
            .unwrap()
            .contains(&gw.kiosk.to_string())
    );

    // The same in words: one line per check and a summary.
    let text = doctor(Some(&site.file), &site.state(), &[]).await;
    assert_eq!(text.code, 0, "{}", text.stdout);
    let lines: Vec<&str> = text.stdout.lines().collect();
    let n = report["checks"].as_array().unwrap().len();
    assert_eq!(lines.len(), n + 2, "{}", text.stdout);
    assert!(
        lines[1..=n]
            .iter()
            .all(|l| l.starts_with("ok") || l.starts_with("skip")),
        "{}",
        text.stdout
    );
    assert_eq!(lines[n + 1], format!("all {n} checks passed"));
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_printer_that_hangs_up_and_an_open_key_file_each_fail_and_count_in_the_exit_code() {
    // A "printer" that takes every connection and closes it at once.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    #[allow(clippy::disallowed_methods)]
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            drop(stream);
        }
    });
    let site = Site::new(&format!(
        "[site]\nname = \"Broken site\"\n\n[discovery]\nenabled = false\n\n\
         [[printing.printers]]\nname = \"gate\"\nurl = \"tcp://{addr}\"\nprofile = \"epson-tm-t20iii\"\n"
    ));
    let gw = site.start().await;

    let run = doctor(Some(&site.file), &site.state(), &["--json"]).await;
    let report = run.json();
    let p = check(&report, "printer gate");
    assert_eq!(p["status"], "fail", "{report:#}");
    assert_eq!(failed(&report).len(), 1, "{report:#}");
    assert_eq!(run.code, 1);
    assert_eq!(report["failed"], 1);
    assert_eq!(check(&report, "mdns")["status"], "skip");
    // No backup is recorded yet: a warning, not a failure.
    let b = check(&report, "backup");
    assert_eq!(
        (b["status"].as_str(), b["detail"].as_str()),
        (Some("warn"), Some("no backup recorded"))
    );

    // The key file made readable by others.
    let key = site.config().key_file();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = doctor(Some(&site.file), &site.state(), &["--json"]).await;
    let report = run.json();
    let k = check(&report, "key file");
    assert_eq!(k["status"], "fail", "{report:#}");
    assert!(k["detail"].as_str().unwrap().contains("chmod 600"), "{k}");
    assert_eq!(failed(&report).len(), 2, "{report:#}");
    assert_eq!(run.code, 2, "one per failed check");

    let text = doctor(Some(&site.file), &site.state(), &[]).await;
    assert_eq!(text.code, 2);
    let fails: Vec<&str> = text.stdout.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert_eq!(fails.len(), 2, "{}", text.stdout);
    assert!(
        fails.iter().any(|l| l.contains("key file") && l.contains("644")),
        "{}",
        text.stdout
    );
    assert!(
        fails
            .iter()
            .any(|l| l.contains("printer gate") && l.contains(&addr.to_string())),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.lines().last().unwrap().contains("2 of"),
        "{}",
        text.stdout
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_config_fails_and_the_rest_is_read_from_the_files_of_a_stopped_gateway() {
    let site = Site::new("[site]\nname = \"Stopped site\"\n\n[discovery]\nenabled = false\n");
    let gw = site.start().await;
    gw.stop().await;
    let missing = site.dir.path().join("no-such.toml");
    let run = doctor(Some(&missing), &site.state(), &["--json"]).await;
    let report = run.json();
    let c = check(&report, "config");
    assert_eq!(c["status"], "fail", "{report:#}");
    assert!(c["detail"].as_str().unwrap().contains("no-such.toml"), "{c}");
    let g = check(&report, "gateway");
    assert_eq!(g["status"], "fail");
    assert!(g["detail"].as_str().unwrap().starts_with("not running"), "{g}");
    assert_eq!(report["gateway_running"], false);
    // What the files say is still checked.
    assert_eq!(check(&report, "key file")["status"], "ok", "{report:#}");
    assert_eq!(check(&report, "certificate")["status"], "ok", "{report:#}");
    assert_eq!(check(&report, "state directory")["status"], "ok", "{report:#}");
    assert_eq!(check(&report, "mdns")["status"], "skip", "{report:#}");
    let fails = failed(&report);
    assert!(fails.len() >= 2, "{fails:?}");
    assert_eq!(run.code as usize, fails.len(), "{fails:?}");
    assert_eq!(report["failed"].as_u64().unwrap() as usize, fails.len());
}
