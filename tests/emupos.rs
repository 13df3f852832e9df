//! Against emupos, a simulated Epson printer nobody on this project wrote: the sample badge prints, the QR on its receipt scans and verifies, and its paper-out and cover-open faults come back as exit 1 with the reason. Skipped (with a note) when emupos is not installed; scripts/install-test-deps installs it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

#[path = "common/skip.rs"]
mod skip;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use sitegate::domain::badge;
use sitegate::keys::Keys;
use sitegate::printer::bitmap::GrayImage;

fn emupos() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("EMUPOS") {
        return Some(p.into());
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let pyenv = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .unwrap_or(home.join(".pyenv"));
    let mut found: Vec<PathBuf> = std::fs::read_dir(pyenv.join("versions"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin/emupos"))
        .filter(|p| p.exists())
        .collect();
    found.sort();
    found.pop()
}

const NOT_INSTALLED: &str =
    "emupos is not installed: it needs Python 3.13 or later (pyenv); scripts/install-test-deps installs it";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Emu {
    child: Child,
    bin: PathBuf,
    api: String,
}

impl Drop for Emu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Emu {
    fn fault(&self, verb: &str, fault: &str) {
        let st = Command::new(&self.bin)
            .args(["--api", &self.api, "fault", verb, "front", fault])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success(), "emupos fault {verb} {fault}");
    }
}

fn print_test(state: &Path, port: u16) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sitegate"))
        .args(["print", "test", "--state-dir"])
        .arg(state)
        .args([
            "--printer",
            &format!("tcp://127.0.0.1:{port}"),
            "--profile",
            "epson-tm-t20iii",
        ])
        .env_remove("SITEGATE_CONFIG")
        // emupos is Python on a shared machine: give its status answer time.
        .env("SITEGATE_PRINTING__STATUS_TIMEOUT_MS", "8000")
        .output()
        .unwrap()
}

fn wait_for_png(dir: &Path, n: usize) -> Vec<PathBuf> {
    let start = Instant::now();
    loop {
        let mut pngs: Vec<PathBuf> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "png"))
            .collect();
        if pngs.len() >= n {
            pngs.sort();
            return pngs;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "emupos wrote no receipt"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_sample_badge_prints_on_emupos_its_qr_verifies_and_faults_come_back_as_reasons() {
    let Some(bin) = emupos() else {
        skip::skipped("tests/emupos.rs", NOT_INSTALLED);
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (port, api_port) = (free_port(), free_port());
    let receipts = dir.path().join("receipts");
    let yaml = dir.path().join("emupos.yaml");
    std::fs::write(
        &yaml,
        format!(
            "schema: 1\napi: {{ host: 127.0.0.1, port: {api_port} }}\ndevices:\n  - id: front\n    type: printer\n    profile: epson-tm-t20iii\n    connections:\n      - tcp: {{ port: {port} }}\n    job_idle_timeout_ms: 1000\n    receipts_dir: {}\n",
            receipts.display()
        ),
    )
    .unwrap();
    let child = Command::new(&bin)
        .args(["run"])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let emu = Emu {
        child,
        bin,
        api: format!("http://127.0.0.1:{api_port}"),
    };
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(30), "emupos did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    while std::net::TcpStream::connect(("127.0.0.1", api_port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "emupos API did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let state = dir.path().join("state");
    let keys = Keys::load_or_create(&state.join("keys/sitegate.key")).unwrap();
    let out = print_test(&state, port);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("printer status: ready"), "{stdout}");
    let png = std::fs::read(&wait_for_png(&receipts, 1)[0]).unwrap();
    let img = GrayImage::from_png(&png).unwrap();
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(img.width as usize, img.height as usize, |x, y| {
            img.luma[y * img.width as usize + x]
        });
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR on the printed receipt");
    let text = grids[0].decode().unwrap().1;
    let scanned = badge::parse_payload(&text).expect("a sitegate badge");
    assert_eq!(
        scanned.mac,
        badge::mac_symbols(&keys.badge_mac(&scanned.number.mac_input())),
        "signed with the state directory's badge key"
    );

    for (fault, reason) in [("paper-out", "out of paper"), ("cover-open", "cover is open")] {
        emu.fault("set", fault);
        let out = print_test(&state, port);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(reason), "{fault}: {err}");
        emu.fault("clear", fault);
    }
}

/// On a machine without emupos the printer test passes without printing anything: scripts/test's
/// closing summary must say it was skipped. Runs the test above as that machine would (no pyenv
/// Python with emupos), then the summary.
#[test]
fn a_machine_without_emupos_sees_the_printer_test_skipped_in_the_summary() {
    let no_pyenv = tempfile::tempdir().unwrap();
    let notes = tempfile::tempdir().unwrap();
    let run = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_sample_badge_prints_on_emupos_its_qr_verifies_and_faults_come_back_as_reasons",
        ])
        .env_remove("EMUPOS")
        .env("PYENV_ROOT", no_pyenv.path())
        .env("SKIPPED_CHECKS_DIR", notes.path())
        .output()
        .unwrap();
    assert!(run.status.success(), "{run:?}");
    let summary = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/report-skipped"))
        .arg(notes.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&summary.stdout);
    assert!(summary.status.success(), "{summary:?}");
    assert!(
        text.contains(&format!("skipped: tests/emupos.rs: {NOT_INSTALLED}")),
        "{text}"
    );
    assert!(!text.contains("all checks passed"), "{text}");
}
