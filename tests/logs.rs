//! How the real binary logs: plain lines without colours when stderr is not a terminal, with
//! timestamps; for journald (stderr is the stream `$JOURNAL_STREAM` names) no timestamps and a
//! priority prefix; `--log-format json` one JSON object per line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_sitegate");

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Serve until ready, stop with SIGTERM, and return everything it logged. `journal` makes
/// `$JOURNAL_STREAM` name the log file (as systemd names the journal's stream).
fn serve_and_stop(dir: &Path, extra: &[&str], journal: Option<bool>) -> String {
    let log = dir.join(format!("log-{}.txt", free_port()));
    let file = std::fs::File::create(&log).unwrap();
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars_os() {
        if let Some(k) = key.to_str()
            && (k.starts_with("SITEGATE_")
                || k == "STATE_DIRECTORY"
                || k == "JOURNAL_STREAM"
                || k == "NO_COLOR")
        {
            cmd.env_remove(k);
        }
    }
    let meta = std::fs::metadata(&log).unwrap();
    match journal {
        Some(true) => cmd.env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino())),
        // Inherited from a parent whose journal stream this is not.
        Some(false) => cmd.env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino() + 1)),
        None => &mut cmd,
    };
    cmd.arg("--state-dir")
        .arg(dir.join("state"))
        .arg("serve")
        .arg("--listen")
        .arg(format!("127.0.0.1:{}", free_port()))
        .arg("--kiosk-listen")
        .arg(format!("127.0.0.1:{}", free_port()))
        .args(extra)
        .env("SITEGATE_DISCOVERY__ENABLED", "false")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(file));
    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    while !std::fs::read_to_string(&log).unwrap().contains("sitegate ready") {
        assert!(
            child.try_wait().unwrap().is_none(),
            "sitegate exited: {}",
            std::fs::read_to_string(&log).unwrap()
        );
        assert!(start.elapsed() < Duration::from_secs(60), "not ready in 60 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    let ok = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(ok.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "clean stop");
    std::fs::read_to_string(&log).unwrap()
}

#[test]
fn plain_lines_for_a_file_or_the_journal_and_json_when_asked() {
    let dir = tempfile::tempdir().unwrap();

    let text = serve_and_stop(dir.path(), &[], None);
    assert!(
        !text.contains('\u{1b}'),
        "no colours when stderr is not a terminal: {text}"
    );
    for line in text.lines() {
        assert!(line.starts_with("20"), "a timestamp first: {line}");
    }
    assert!(text.contains("sitegate stopped"), "{text}");

    let journal = serve_and_stop(dir.path(), &[], Some(true));
    assert!(!journal.contains('\u{1b}'), "{journal}");
    for line in journal.lines() {
        assert!(
            ["<3>", "<4>", "<6>", "<7>"].iter().any(|p| line.starts_with(p)),
            "a priority prefix for journald: {line}"
        );
        assert!(
            line.get(3..5).is_none_or(|s| s != "20"),
            "no timestamp: journald adds its own: {line}"
        );
    }
    assert!(
        journal
            .lines()
            .any(|l| l.starts_with("<6>") && l.contains("sitegate ready")),
        "{journal}"
    );

    let inherited = serve_and_stop(dir.path(), &[], Some(false));
    assert!(
        inherited.lines().all(|l| l.starts_with("20")),
        "a JOURNAL_STREAM that is not our stderr is not the journal: {inherited}"
    );

    let json = serve_and_stop(dir.path(), &["--log-format", "json"], None);
    let mut ready = false;
    for line in json.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("one JSON object per line ({e}): {line}"));
        assert!(v["timestamp"].is_string(), "{line}");
        assert!(v["level"].is_string(), "{line}");
        ready |= v["fields"]["message"] == "sitegate ready";
    }
    assert!(ready, "{json}");
}
