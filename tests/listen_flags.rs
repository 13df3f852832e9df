//! The listeners as a technician meets them, with the real binary: `sitegate healthcheck` asks the
//! gateway that runs (wherever `serve --listen` put it), and a busy port's one-line error names
//! the flag and config key that change it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_sitegate");

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A box whose config puts HTTPS on `config_port` (mDNS off).
struct Site {
    tmp: tempfile::TempDir,
    config: PathBuf,
    state: PathBuf,
}

impl Site {
    fn new(config_port: u16) -> Site {
        let tmp = tempfile::tempdir().unwrap();
        let config = tmp.path().join("sitegate.toml");
        std::fs::write(
            &config,
            format!("[server]\nlisten = \"127.0.0.1:{config_port}\"\n[discovery]\nenabled = false\n"),
        )
        .unwrap();
        let state = tmp.path().join("state");
        Site { tmp, config, state }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.env_remove("SITEGATE_CONFIG")
            .env_remove("STATE_DIRECTORY")
            .env("SITEGATE_LOG", "warn")
            .arg("--config")
            .arg(&self.config)
            .arg("--state-dir")
            .arg(&self.state)
            .args(args)
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// Exit `code` and exactly one line on stderr holding every needle.
fn assert_one_line(out: &Output, code: i32, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err:?}");
    for n in needles {
        assert!(err.contains(n), "{n:?} missing from {err:?}");
    }
}

struct Server(Child, PathBuf);

impl Server {
    fn start(site: &Site, args: &[&str]) -> Server {
        let log = site.tmp.path().join("serve.log");
        let mut cmd = site.cmd(&[&["serve"], args].concat());
        cmd.env("SITEGATE_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        let mut server = Server(cmd.spawn().unwrap(), log);
        let start = Instant::now();
        while !server.log().contains("sitegate ready") {
            if let Some(status) = server.0.try_wait().unwrap() {
                panic!("serve exited with {status}:\n{}", server.log());
            }
            assert!(start.elapsed() < Duration::from_secs(30), "{}", server.log());
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.1).unwrap_or_default()
    }

    fn stop(mut self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let status = self.0.wait().unwrap();
        assert!(status.success(), "{status}\n{}", self.log());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn socket(state: &Path) -> PathBuf {
    state.join("sitegate.sock")
}

#[test]
fn healthcheck_asks_the_running_gateway_where_it_listens_and_says_when_none_runs() {
    let site = Site::new(free_port());
    // Nothing ever ran here.
    let out = site.run(&["healthcheck"]);
    assert_one_line(&out, 1, &["not ready", "no gateway is running"]);

    // Served elsewhere than the configured port: the healthcheck still finds it.
    let (https, kiosk) = (free_port(), free_port());
    let server = Server::start(
        &site,
        &[
            "--listen",
            &format!("127.0.0.1:{https}"),
            "--kiosk-listen",
            &format!("127.0.0.1:{kiosk}"),
        ],
    );
    let out = site.run(&["healthcheck"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ready\n");
    // --url still asks exactly where it says.
    let out = site.run(&["healthcheck", "--url", &format!("https://127.0.0.1:{https}")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    server.stop();
    assert!(!socket(&site.state).exists());
    let out = site.run(&["healthcheck"]);
    assert_one_line(&out, 1, &["not ready", "no gateway is running", "sitegate.sock"]);
}

#[test]
fn a_busy_port_names_the_flag_and_the_config_key_that_change_it() {
    let site = Site::new(free_port());
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = format!("127.0.0.1:{}", held.local_addr().unwrap().port());
    let free = || format!("127.0.0.1:{}", free_port());

    let out = site.run(&["serve", "--listen", &busy, "--kiosk-listen", &free()]);
    assert_one_line(
        &out,
        2,
        &["cannot listen on", &busy, "in use", "--listen", "server.listen"],
    );
    let out = site.run(&["serve", "--listen", &free(), "--kiosk-listen", &busy]);
    assert_one_line(
        &out,
        2,
        &[
            "cannot listen on",
            &busy,
            "in use",
            "--kiosk-listen",
            "server.kiosk_listen",
        ],
    );
    drop(held);
}
