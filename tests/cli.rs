//! The command line as a technician uses it, run as the real binary: every bad input gets one clear
//! line and exit 2 and leaves stored data as it was; commands reach a running gateway through its
//! socket and the store directly when none runs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Seek};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_sitegate");

/// What one finished command printed and exited with.
#[derive(Debug)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn ok(self) -> Out {
        assert_eq!(self.code, 0, "expected success: {self:#?}");
        self
    }
}

/// The binary with an environment that holds no stray sitegate settings.
fn sitegate() -> Command {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars_os() {
        if let Some(k) = key.to_str()
            && (k.starts_with("SITEGATE_") || k == "STATE_DIRECTORY")
        {
            cmd.env_remove(k);
        }
    }
    cmd.env("SITEGATE_LOG", "warn").stdin(Stdio::null());
    cmd
}

fn wait_timeout(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Run a command to its end (30 s at most), capturing its output through files (no pipe can fill up).
fn run(mut cmd: Command) -> Out {
    let mut out_file = tempfile::tempfile().unwrap();
    let mut err_file = tempfile::tempfile().unwrap();
    cmd.stdout(Stdio::from(out_file.try_clone().unwrap()))
        .stderr(Stdio::from(err_file.try_clone().unwrap()));
    let mut child = cmd.spawn().expect("spawn sitegate");
    let status = match wait_timeout(&mut child, Duration::from_secs(30)) {
        Some(s) => s,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within 30 s");
        }
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    out_file.rewind().unwrap();
    out_file.read_to_string(&mut stdout).unwrap();
    err_file.rewind().unwrap();
    err_file.read_to_string(&mut stderr).unwrap();
    Out {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    }
}

/// Assert the contract for a refused input: exit `code`, nothing on stdout, and exactly one stderr
/// line that starts with `sitegate: ` and contains every needle.
fn assert_one_line(out: &Out, code: i32, needles: &[&str]) {
    assert_eq!(out.code, code, "exit code: {out:#?}");
    assert!(out.stdout.is_empty(), "nothing on stdout: {out:#?}");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one line on stderr: {out:#?}");
    assert!(
        lines[0].starts_with("sitegate: "),
        "line starts with `sitegate: `: {out:#?}"
    );
    for n in needles {
        assert!(lines[0].contains(n), "stderr should mention {n:?}: {out:#?}");
    }
}

/// A free TCP port on loopback: bound, read, released.
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A temporary box: a config file (no mDNS) and a state directory that does not exist yet.
struct Site {
    tmp: tempfile::TempDir,
    state: PathBuf,
    config: PathBuf,
}

impl Site {
    fn new() -> Site {
        let tmp = tempfile::tempdir().unwrap();
        let state = tmp.path().join("state");
        let config = tmp.path().join("sitegate.toml");
        std::fs::write(
            &config,
            "[site]\nname = \"CLI test site\"\n\n[discovery]\nenabled = false\n",
        )
        .unwrap();
        Site { tmp, state, config }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = sitegate();
        cmd.arg("--config")
            .arg(&self.config)
            .arg("--state-dir")
            .arg(&self.state)
            .args(args);
        cmd
    }

    fn cli(&self, args: &[&str]) -> Out {
        run(self.cmd(args))
    }

    fn file(&self, name: &str, content: &str) -> PathBuf {
        let p = self.tmp.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    /// Start `serve` on free ports and wait for its "sitegate ready" line; retries on a port race.
    fn serve(&self) -> Server {
        for attempt in 0..5 {
            let (https, kiosk) = (free_port(), free_port());
            let log = self.tmp.path().join(format!("serve-{https}.log"));
            let mut cmd = self.cmd(&[
                "serve",
                "--listen",
                &format!("127.0.0.1:{https}"),
                "--kiosk-listen",
                &format!("127.0.0.1:{kiosk}"),
            ]);
            cmd.env("SITEGATE_LOG", "info")
                .stdout(Stdio::null())
                .stderr(Stdio::from(std::fs::File::create(&log).unwrap()));
            let child = cmd.spawn().expect("spawn serve");
            let mut server = Server {
                child: Some(child),
                https,
                log,
            };
            match server.wait_ready() {
                Ok(()) => return server,
                Err(text) if text.contains("cannot listen") && attempt < 4 => continue,
                Err(text) => panic!("serve did not become ready:\n{text}"),
            }
        }
        unreachable!()
    }

    fn user_count(&self) -> usize {
        let out = self.cli(&["user", "list", "--limit", "500"]).ok();
        let last = out.stdout.lines().last().unwrap_or_default().to_string();
        last.trim_start_matches('(')
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap_or_else(|_| panic!("{out:#?}"))
    }
}

/// A running `sitegate serve` child.
struct Server {
    child: Option<Child>,
    https: u16,
    log: PathBuf,
}

impl Server {
    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                self.child = None;
                return Err(format!("serve exited with {status}:\n{}", self.log_text()));
            }
            if self.log_text().contains("sitegate ready") {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("no \"sitegate ready\" within 30 s:\n{}", self.log_text()))
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.https)
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// SIGTERM, and a clean exit within `limit`; else the exit status and the server's log.
    fn terminate_cleanly(self, limit: Duration) {
        let log = self.log.clone();
        let status = self.terminate(limit);
        assert!(
            status.success(),
            "serve exited with {status} after SIGTERM:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// SIGTERM, then the exit status (it must come within `limit`).
    fn terminate(mut self, limit: Duration) -> ExitStatus {
        let kill = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(kill.success(), "kill -TERM failed");
        let mut child = self.child.take().unwrap();
        match wait_timeout(&mut child, limit) {
            Some(status) => status,
            None => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "serve did not stop within {limit:?} of SIGTERM:\n{}",
                    self.log_text()
                );
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn dir_is_absent(p: &Path) -> bool {
    !p.exists()
}

#[test]
fn config_example_passes_its_own_check() {
    let site = Site::new();
    let out = run({
        let mut c = sitegate();
        c.args(["config", "example"]);
        c
    })
    .ok();
    assert!(
        out.stdout.contains("[server]") && out.stdout.contains("listen"),
        "{out:#?}"
    );
    let file = site.file("example.toml", &out.stdout);
    let check = run({
        let mut c = sitegate();
        c.arg("config").arg("check").arg(&file);
        c
    })
    .ok();
    assert!(check.stdout.contains("ok"), "{check:#?}");
    assert!(check.stderr.is_empty(), "{check:#?}");
}

#[test]
fn config_check_names_file_line_and_key() {
    let site = Site::new();
    let check = |path: &Path| {
        let mut c = sitegate();
        c.arg("config").arg("check").arg(path);
        run(c)
    };

    // A typo'd key: file, line 2, the key.
    let typo = site.file("typo.toml", "[server]\nlisen = \"0.0.0.0:8443\"\n");
    let typo_s = typo.display().to_string();
    assert_one_line(&check(&typo), 2, &[&format!("{typo_s}:2"), "lisen"]);

    // A value of the wrong type, a few lines further down.
    let wrong = site.file("wrong.toml", "[site]\nname = \"x\"\n\n[server]\nlisten = 8443\n");
    let wrong_s = wrong.display().to_string();
    assert_one_line(&check(&wrong), 2, &[&format!("{wrong_s}:5"), "listen"]);

    // A top-level typo.
    let top = site.file("top.toml", "stat_dir = \"/tmp/x\"\n");
    let top_s = top.display().to_string();
    assert_one_line(&check(&top), 2, &[&format!("{top_s}:1"), "stat_dir"]);

    // A missing file is named.
    let missing = site.tmp.path().join("nowhere").join("sitegate.toml");
    assert_one_line(&check(&missing), 2, &[&missing.display().to_string()]);

    // Invalid TOML: file and line.
    let broken = site.file("broken.toml", "[site]\nname = \"x\"\n[server\n");
    let broken_s = broken.display().to_string();
    assert_one_line(&check(&broken), 2, &[&format!("{broken_s}:3")]);

    // serve with the bad file refuses the same way and creates no state directory.
    let mut c = sitegate();
    c.arg("--config").arg(&typo).arg("--state-dir").arg(&site.state);
    c.args(["serve", "--listen", &format!("127.0.0.1:{}", free_port())]);
    assert_one_line(&run(c), 2, &[&format!("{typo_s}:2"), "lisen"]);
    assert!(
        dir_is_absent(&site.state),
        "a refused start must not create the state directory"
    );
}

#[test]
fn serve_refuses_a_kiosk_listener_off_loopback() {
    let site = Site::new();
    let out = site.cli(&[
        "serve",
        "--listen",
        &format!("127.0.0.1:{}", free_port()),
        "--kiosk-listen",
        &format!("0.0.0.0:{}", free_port()),
    ]);
    assert_one_line(&out, 2, &["loopback", "--kiosk-listen"]);
    assert!(
        dir_is_absent(&site.state),
        "a refused start must not create the state directory"
    );

    // The same refusal from the configuration file names file, line and key.
    let cfg = site.file(
        "kiosk.toml",
        "[discovery]\nenabled = false\n\n[server]\nkiosk_listen = \"192.0.2.1:8080\"\n",
    );
    let mut c = sitegate();
    c.arg("--config").arg(&cfg).arg("--state-dir").arg(&site.state);
    c.args(["serve", "--listen", &format!("127.0.0.1:{}", free_port())]);
    let out = run(c);
    assert_one_line(
        &out,
        2,
        &["loopback", &format!("{}:5", cfg.display()), "kiosk_listen"],
    );
    assert!(dir_is_absent(&site.state));
}

#[test]
fn serve_refuses_missing_tls_files_and_keeps_the_data() {
    let site = Site::new();
    site.cli(&["init", "--given-name", "Ada", "--family-name", "Admin"])
        .ok();
    site.cli(&["user", "add", "--given-name", "Zoë", "--family-name", "Łukasik"])
        .ok();
    let before = site.cli(&["user", "list"]).ok().stdout;

    let missing = site.tmp.path().join("no-such-dir").join("cert.pem");
    let missing_key = site.tmp.path().join("no-such-dir").join("key.pem");
    let cfg = site.file(
        "tls.toml",
        &format!(
            "[discovery]\nenabled = false\n\n[server]\ntls_cert_file = {:?}\ntls_key_file = {:?}\n",
            missing.display().to_string(),
            missing_key.display().to_string()
        ),
    );
    let mut c = sitegate();
    c.arg("--config").arg(&cfg).arg("--state-dir").arg(&site.state);
    c.args([
        "serve",
        "--listen",
        &format!("127.0.0.1:{}", free_port()),
        "--kiosk-listen",
        &format!("127.0.0.1:{}", free_port()),
    ]);
    let out = run(c);
    assert_one_line(&out, 2, &[&missing.display().to_string()]);

    // Only one of the two files: the config is refused before anything starts.
    let half = site.file(
        "half.toml",
        &format!(
            "[discovery]\nenabled = false\n\n[server]\ntls_cert_file = {:?}\n",
            missing.display().to_string()
        ),
    );
    let mut c = sitegate();
    c.arg("--config").arg(&half).arg("--state-dir").arg(&site.state);
    c.args(["serve", "--listen", &format!("127.0.0.1:{}", free_port())]);
    assert_one_line(&run(c), 2, &["tls_key_file"]);

    assert_eq!(site.cli(&["user", "list"]).ok().stdout, before, "users unchanged");
}

/// A start refused for a missing TLS file should leave a fresh state directory as it found it.
#[test]

fn a_start_refused_for_tls_files_creates_no_state() {
    let site = Site::new();
    let missing = site.tmp.path().join("no-such-dir").join("cert.pem");
    let missing_key = site.tmp.path().join("no-such-dir").join("key.pem");
    let cfg = site.file(
        "tls.toml",
        &format!(
            "[discovery]\nenabled = false\n\n[server]\ntls_cert_file = {:?}\ntls_key_file = {:?}\n",
            missing.display().to_string(),
            missing_key.display().to_string()
        ),
    );
    let mut c = sitegate();
    c.arg("--config").arg(&cfg).arg("--state-dir").arg(&site.state);
    c.args([
        "serve",
        "--listen",
        &format!("127.0.0.1:{}", free_port()),
        "--kiosk-listen",
        &format!("127.0.0.1:{}", free_port()),
    ]);
    assert_one_line(&run(c), 2, &[&missing.display().to_string()]);
    assert!(
        !site.state.join("sitegate.redb").exists(),
        "no database made by a refused start"
    );
    assert!(
        !site.state.join("keys").exists(),
        "no key made by a refused start"
    );
}

#[test]
fn a_killed_gateway_leaves_a_socket_that_misleads_nobody() {
    let site = Site::new();
    let mut server = site.serve();
    let first = site
        .cli(&["user", "add", "--given-name", "Chidi", "--family-name", "Okonkwo"])
        .ok();
    let mut child = server.child.take().unwrap();
    child.kill().unwrap(); // SIGKILL: no clean-up
    child.wait().unwrap();
    drop(server);
    assert!(
        site.state.join("sitegate.sock").exists(),
        "a killed gateway cannot remove its socket"
    );

    // The stale socket answers nothing: the commands open the store directly.
    let list = site.cli(&["user", "list"]).ok();
    assert!(list.stdout.contains("Chidi Okonkwo"), "{list:#?}");
    assert!(
        list.stdout
            .contains(first.stdout.split_whitespace().next().unwrap())
    );
    site.cli(&["user", "add", "--given-name", "Aiko", "--family-name", "Tanaka"])
        .ok();

    // A new gateway replaces the stale socket and serves both users through it.
    let server = site.serve();
    site.cli(&["healthcheck", "--url", &server.url()]).ok();
    let list = site.cli(&["user", "list"]).ok();
    assert!(
        list.stdout.contains("Chidi Okonkwo") && list.stdout.contains("Aiko Tanaka"),
        "{list:#?}"
    );
    assert!(
        server.log_text().contains("technician command"),
        "{}",
        server.log_text()
    );
    server.terminate_cleanly(Duration::from_secs(20));
    assert!(!site.state.join("sitegate.sock").exists());
}

#[test]
fn serve_refuses_a_port_already_in_use() {
    let site = Site::new();
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let out = site.cli(&[
        "serve",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--kiosk-listen",
        &format!("127.0.0.1:{}", free_port()),
    ]);
    assert_one_line(&out, 2, &["cannot listen on", &format!("127.0.0.1:{port}")]);
    assert!(out.stderr.to_lowercase().contains("in use"), "{out:#?}");

    // The kiosk port likewise.
    let out = site.cli(&[
        "serve",
        "--listen",
        &format!("127.0.0.1:{}", free_port()),
        "--kiosk-listen",
        &format!("127.0.0.1:{port}"),
    ]);
    assert_one_line(&out, 2, &["cannot listen on", &format!("127.0.0.1:{port}")]);
    assert!(
        dir_is_absent(&site.state),
        "a refused start must not create the state directory"
    );
    drop(held);
}

#[test]
fn a_second_gateway_on_the_same_state_dir_is_refused() {
    let site = Site::new();
    let first = site.serve();
    site.cli(&["healthcheck", "--url", &first.url()]).ok();
    site.cli(&["user", "add", "--given-name", "Ana", "--family-name", "Silva"])
        .ok();
    let before = site.cli(&["user", "list"]).ok().stdout;

    let second = site.cli(&[
        "serve",
        "--listen",
        &format!("127.0.0.1:{}", free_port()),
        "--kiosk-listen",
        &format!("127.0.0.1:{}", free_port()),
    ]);
    assert_one_line(&second, 2, &["already in use by another sitegate"]);

    // The first keeps serving, and technicians still reach it through its socket.
    site.cli(&["healthcheck", "--url", &first.url()]).ok();
    assert!(site.state.join("sitegate.sock").exists());
    assert_eq!(site.cli(&["user", "list"]).ok().stdout, before);
    let status = first.terminate(Duration::from_secs(10));
    assert!(status.success(), "{status}");
}

#[test]
fn technician_commands_use_the_socket_while_serving_and_the_store_after() {
    let site = Site::new();
    let server = site.serve();
    let sock = site.state.join("sitegate.sock");
    assert!(sock.exists(), "serve makes its technician socket");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the socket is the owner's only");
    }

    let add = site
        .cli(&[
            "user",
            "add",
            "--given-name",
            "José",
            "--family-name",
            "Núñez Peña",
            "--email",
            "jose@example.com",
        ])
        .ok();
    let id = add.stdout.split_whitespace().next().unwrap().to_string();
    assert_eq!(id.len(), 11, "an ID like ABCDE-FGHJK: {add:#?}");
    assert!(add.stdout.contains("José Núñez Peña"), "{add:#?}");
    // The command ran inside the gateway (the store is locked by it, so it could not run elsewhere).
    assert!(
        server.log_text().contains("technician command"),
        "{}",
        server.log_text()
    );

    let list = site.cli(&["user", "list"]).ok();
    assert!(
        list.stdout.contains(&id) && list.stdout.contains("José Núñez Peña"),
        "{list:#?}"
    );
    assert_eq!(site.user_count(), 1);

    let show = site.cli(&["user", "show", &id]).ok();
    assert!(show.stdout.contains("José Núñez Peña"), "{show:#?}");
    assert!(show.stdout.contains("jose@example.com"), "{show:#?}");
    // Typed forgivingly: lower case, no hyphen.
    let typed = id.replace('-', "").to_lowercase();
    assert!(
        site.cli(&["user", "show", &typed])
            .ok()
            .stdout
            .contains("José Núñez Peña")
    );

    let bad_input_checks = |site: &Site| {
        assert_one_line(
            &site.cli(&["user", "show", "ABCDE-FGHJK"]),
            2,
            &["ABCDE-FGHJK", "check character"],
        );
        assert_one_line(
            &site.cli(&["user", "deactivate", "ABCDE-FGHJK"]),
            2,
            &["check character"],
        );
        assert_one_line(&site.cli(&["user", "show", "00000-00000"]), 2, &["not found"]);
        assert_one_line(
            &site.cli(&["user", "deactivate", "00000-00000"]),
            2,
            &["not found"],
        );
        let dup = site.cli(&[
            "user",
            "add",
            "--given-name",
            "Josefa",
            "--family-name",
            "Other",
            "--email",
            "jose@example.com",
        ]);
        assert_one_line(&dup, 2, &["email"]);
        // Email comparison ignores case.
        let dup = site.cli(&[
            "user",
            "add",
            "--given-name",
            "J",
            "--family-name",
            "O",
            "--email",
            "JOSE@Example.com",
        ]);
        assert_one_line(&dup, 2, &["email"]);
        assert_one_line(
            &site.cli(&["user", "add", "--given-name", "", "--family-name", "Empty"]),
            2,
            &["given_name"],
        );
        assert_one_line(
            &site.cli(&[
                "user",
                "add",
                "--given-name",
                "A",
                "--family-name",
                "B",
                "--email",
                "not-an-email",
            ]),
            2,
            &["email"],
        );
        assert_one_line(
            &site.cli(&[
                "user",
                "add",
                "--given-name",
                "A",
                "--family-name",
                "B",
                "--group",
                "Nope",
            ]),
            2,
            &["Nope"],
        );
        assert_eq!(site.user_count(), 1, "refused commands store nothing");
    };
    bad_input_checks(&site);
    let listed_while_serving = site.cli(&["user", "list"]).ok().stdout;
    let shown_while_serving = site.cli(&["user", "show", &id]).ok().stdout;

    let status = server.terminate(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "SIGTERM is a clean stop");
    assert!(!sock.exists(), "the socket is removed on a clean stop");

    // Without a gateway the same commands open the store and see the same data.
    assert_eq!(site.cli(&["user", "list"]).ok().stdout, listed_while_serving);
    assert_eq!(site.cli(&["user", "show", &id]).ok().stdout, shown_while_serving);
    bad_input_checks(&site);
    let deactivated = site.cli(&["user", "deactivate", &id]).ok();
    assert!(deactivated.stdout.contains("deactivated"), "{deactivated:#?}");
    assert_one_line(
        &site.cli(&["user", "deactivate", &id]),
        2,
        &["already deactivated"],
    );
    let second = site
        .cli(&[
            "user",
            "add",
            "--given-name",
            "Ольга",
            "--family-name",
            "Іваненко",
        ])
        .ok();
    assert!(second.stdout.contains("Ольга Іваненко"), "{second:#?}");
    assert_eq!(site.user_count(), 2);

    // And a restarted gateway serves what was written directly.
    let server = site.serve();
    assert_eq!(site.user_count(), 2);
    assert!(site.cli(&["user", "list"]).ok().stdout.contains("Ольга Іваненко"));
    let show = site.cli(&["user", "show", &id]).ok();
    assert!(show.stdout.contains("deactivated"), "{show:#?}");
    assert_one_line(
        &site.cli(&["user", "deactivate", &id]),
        2,
        &["already deactivated"],
    );
    let status = server.terminate(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0));
}

#[test]
fn init_units_and_training_from_the_command_line() {
    let site = Site::new();
    let init = site
        .cli(&["init", "--given-name", "Ada", "--family-name", "Admin"])
        .ok();
    let code_line = init
        .stdout
        .lines()
        .find(|l| l.starts_with("One-time bootstrap code: "))
        .unwrap_or_else(|| panic!("{init:#?}"));
    let code = code_line.trim_start_matches("One-time bootstrap code: ").trim();
    assert_eq!(code.len(), 11, "{code}");
    assert_eq!(code.as_bytes()[5], b'-', "{code}");

    site.cli(&["unit", "add", "--kind", "group", "Crew"]).ok();
    site.cli(&[
        "training",
        "add",
        "--title",
        "Fire safety",
        "--duration-minutes",
        "15",
        "--valid-for-days",
        "180",
    ])
    .ok();
    site.cli(&[
        "training",
        "assign",
        "--module",
        "Fire safety",
        "--group",
        "Crew",
        "--due",
        "2099-12-31",
    ])
    .ok();
    let list = site.cli(&["training", "list"]).ok();
    assert!(
        list.stdout.contains("Fire safety (15 min, valid 180 days)"),
        "{list:#?}"
    );
    assert!(
        list.stdout.contains("Fire safety -> group Crew due 2099-12-31"),
        "{list:#?}"
    );
    let units = site.cli(&["unit", "list"]).ok();
    assert!(units.stdout.contains("Crew"), "{units:#?}");

    // A user who joins the group sees the training.
    let add = site
        .cli(&[
            "user",
            "add",
            "--given-name",
            "Søren",
            "--family-name",
            "Kierkegaard",
            "--group",
            "Crew",
        ])
        .ok();
    let id = add.stdout.split_whitespace().next().unwrap().to_string();
    let show = site.cli(&["user", "show", &id]).ok();
    assert!(show.stdout.contains("Fire safety"), "{show:#?}");
    assert!(show.stdout.contains("group Crew"), "{show:#?}");

    // Refusals: one line, exit 2, nothing changed.
    assert_one_line(
        &site.cli(&["unit", "add", "--kind", "group", "Crew"]),
        2,
        &["Crew"],
    );
    assert_one_line(
        &site.cli(&[
            "training",
            "assign",
            "--module",
            "Water safety",
            "--group",
            "Crew",
        ]),
        2,
        &["Water safety"],
    );
    assert_one_line(
        &site.cli(&[
            "training",
            "assign",
            "--module",
            "Fire safety",
            "--group",
            "Nobody",
        ]),
        2,
        &["Nobody"],
    );
    assert_one_line(
        &site.cli(&[
            "training",
            "assign",
            "--module",
            "Fire safety",
            "--user",
            "ABCDE-FGHJK",
        ]),
        2,
        &["check"],
    );
    assert_one_line(
        &site.cli(&["training", "assign", "--module", "Fire safety"]),
        2,
        &["--group"],
    );
    assert_one_line(
        &site.cli(&["training", "add", "--title", "", "--duration-minutes", "15"]),
        2,
        &["title"],
    );
    assert_eq!(
        site.cli(&["training", "list"]).ok().stdout,
        list.stdout,
        "catalogue unchanged"
    );
    assert_eq!(
        site.cli(&["unit", "list"]).ok().stdout,
        units.stdout,
        "units unchanged"
    );
    assert_eq!(site.user_count(), 2);
}

/// `init` is the first command on a new box: the state directory it makes must be as private as
/// the one `serve` makes (0700), since the database holds personal data and PIN tags.
#[test]

fn init_on_a_fresh_box_makes_a_private_state_dir() {
    use std::os::unix::fs::PermissionsExt;
    let site = Site::new();
    site.cli(&["init", "--given-name", "Ada", "--family-name", "Admin"])
        .ok();
    let mode = std::fs::metadata(&site.state).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode & 0o077, 0, "state directory made by init is {mode:o}");
    // serve does not tighten an existing directory either.
    let server = site.serve();
    let mode = std::fs::metadata(&site.state).unwrap().permissions().mode() & 0o777;
    server.terminate_cleanly(Duration::from_secs(20));
    assert_eq!(mode & 0o077, 0, "state directory while serving is {mode:o}");
}

#[test]
fn serve_makes_a_private_state_dir() {
    use std::os::unix::fs::PermissionsExt;
    let site = Site::new();
    let server = site.serve();
    let mode = std::fs::metadata(&site.state).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "state directory made by serve");
    let key = site.state.join("keys").join("sitegate.key");
    let key_mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(key_mode & 0o077, 0, "{} is {key_mode:o}", key.display());
    server.terminate_cleanly(Duration::from_secs(20));
}

#[test]
fn usage_errors_exit_2_and_change_nothing() {
    let site = Site::new();
    site.cli(&["init", "--given-name", "Ada", "--family-name", "Admin"])
        .ok();
    site.cli(&[
        "training",
        "add",
        "--title",
        "Fire safety",
        "--duration-minutes",
        "15",
    ])
    .ok();
    let before = site.cli(&["training", "list"]).ok().stdout;
    for args in [
        &[
            "training",
            "assign",
            "--module",
            "Fire safety",
            "--user",
            "X",
            "--due",
            "2099-13-45",
        ][..],
        &["user", "add", "--given-name", "OnlyGiven"][..],
        &[
            "user",
            "add",
            "--given-name",
            "A",
            "--family-name",
            "B",
            "--role",
            "emperor",
        ][..],
        &["unit", "add", "--kind", "planet", "Mars"][..],
        &["serve", "--listen", "not-an-address"][..],
        &["frobnicate"][..],
    ] {
        let out = site.cli(args);
        assert_eq!(out.code, 2, "{args:?}: {out:#?}");
        assert!(!out.stderr.trim().is_empty(), "{args:?}: {out:#?}");
    }
    assert_eq!(site.cli(&["training", "list"]).ok().stdout, before);
    assert_eq!(site.user_count(), 1);
}

/// The contract: bad usage is one line on stderr starting `sitegate: `, like bad config.
#[test]

fn usage_errors_are_one_line() {
    let site = Site::new();
    let out = site.cli(&[
        "training",
        "assign",
        "--module",
        "Fire safety",
        "--group",
        "Crew",
        "--due",
        "2099-13-45",
    ]);
    assert_one_line(&out, 2, &["--due", "2099-13-45"]);
    let out = site.cli(&["user", "add", "--given-name", "OnlyGiven"]);
    assert_one_line(&out, 2, &["--family-name"]);
}

#[test]
fn healthcheck_is_0_when_serving_and_1_otherwise() {
    let site = Site::new();
    // Nothing was ever started here: no certificate to pin.
    let out = site.cli(&[
        "healthcheck",
        "--url",
        &format!("https://127.0.0.1:{}", free_port()),
    ]);
    assert_one_line(&out, 1, &["not ready"]);

    let server = site.serve();
    let ok = site.cli(&["healthcheck", "--url", &server.url()]).ok();
    assert!(ok.stdout.contains("ready"), "{ok:#?}");
    // Asking the wrong port of a running box fails.
    let out = site.cli(&[
        "healthcheck",
        "--url",
        &format!("https://127.0.0.1:{}", free_port()),
    ]);
    assert_one_line(&out, 1, &["not ready"]);
    let url = server.url();
    server.terminate_cleanly(Duration::from_secs(20));

    // Stopped: the certificate is there, nobody answers.
    let out = site.cli(&["healthcheck", "--url", &url]);
    assert_one_line(&out, 1, &["not ready"]);
}

/// `sitegate sync …` on a standalone gateway: the status in plain words and as JSON, the dead
/// letters listed, retried and discarded (through the running gateway's socket and on the store),
/// the central side's OpenAPI document, and bad input as one line.
#[test]
fn sync_commands_on_a_standalone_gateway() {
    let site = Site::new();
    site.cli(&["init", "--given-name", "Ada", "--family-name", "Admin"])
        .ok();
    let seqs = common::plant_dead_letters(
        &site.state,
        sitegate::clock::Clock::now(&sitegate::clock::SystemClock),
        &[
            ("user.created", "email: already used by another user"),
            ("class.checked_in", "unknown class"),
            ("user.updated", "stale version"),
        ],
    );
    let (a, b, c) = (seqs[0].to_string(), seqs[1].to_string(), seqs[2].to_string());

    let status = site.cli(&["sync", "status"]).ok();
    let lines: Vec<&str> = status.stdout.lines().collect();
    assert_eq!(lines[0], "State: standalone", "{status:#?}");
    assert!(
        status.stdout.contains("Not joined to a central system"),
        "{status:#?}"
    );
    assert!(status.stdout.contains("Gateway ID: gw-"), "{status:#?}");
    assert!(status.stdout.contains("Last pull: never"), "{status:#?}");
    assert!(status.stdout.contains("Dead letters: 3"), "{status:#?}");
    let json = site.cli(&["sync", "status", "--json"]).ok();
    let parsed: serde_json::Value = serde_json::from_str(&json.stdout).expect("status --json is JSON");
    assert_eq!(parsed["state"], "standalone");
    assert_eq!(parsed["dead_letters"].as_array().unwrap().len(), 3);

    let list = site.cli(&["sync", "dead-letters", "list"]).ok();
    assert_eq!(list.stdout.lines().count(), 4, "{list:#?}");
    assert!(list.stdout.lines().next().unwrap().starts_with(&a), "{list:#?}");
    assert!(
        list.stdout.contains("email: already used by another user"),
        "{list:#?}"
    );

    let doc = site.cli(&["sync", "openapi"]).ok();
    let doc: serde_json::Value = serde_json::from_str(&doc.stdout).expect("openapi is JSON");
    for p in ["/v1/changes", "/v1/events", "/v1/gateways/join", "/v1/leases"] {
        assert!(doc["paths"][p].is_object(), "{p} missing");
    }

    // On the store directly (nothing serves): retry one.
    let out = site.cli(&["sync", "dead-letters", "retry", &a]).ok();
    assert!(out.stdout.contains("back in the outbox"), "{out:#?}");
    // No gateway runs: there is no sync to wake.
    assert_one_line(&site.cli(&["sync", "now"]), 1, &["no gateway is running"]);

    // Through the running gateway's socket.
    let server = site.serve();
    site.cli(&["sync", "now"]).ok();
    let out = site
        .cli(&[
            "sync",
            "dead-letters",
            "discard",
            &b,
            "--reason",
            "fixed centrally",
        ])
        .ok();
    assert!(out.stdout.contains("discarded"), "{out:#?}");
    assert!(server.log_text().contains("technician command"));
    assert_one_line(
        &site.cli(&["sync", "dead-letters", "retry", &a]),
        2,
        &["dead letter", &a],
    );
    assert_one_line(
        &site.cli(&["sync", "dead-letters", "discard", &c, "--reason", "  "]),
        2,
        &["reason"],
    );
    assert_one_line(
        &site.cli(&["sync", "dead-letters", "discard", &c]),
        2,
        &["--reason"],
    );
    assert_one_line(
        &site.cli(&["sync", "dead-letters", "retry", "seven"]),
        2,
        &["seven"],
    );
    let list = site.cli(&["sync", "dead-letters", "list"]).ok();
    assert_eq!(list.stdout.lines().count(), 2, "one left: {list:#?}");
    assert!(list.stdout.starts_with(&c), "{list:#?}");
    drop(server);
}

/// `sitegate sync status` on a joined gateway whose credential was refused (its state planted as
/// the sync task leaves it): every fact a technician needs, one a line, in plain words.
#[test]
fn sync_status_of_a_joined_gateway_says_everything() {
    let site = Site::new();
    let now = sitegate::clock::Clock::now(&sitegate::clock::SystemClock);
    // Planted first, so it is the oldest event waiting (init writes one too).
    common::plant_pending_event(&site.state, now - time::Duration::minutes(40));
    site.cli(&["init", "--given-name", "Ada", "--family-name", "Admin"])
        .ok();
    common::plant_joined_sync(
        &site.state,
        now,
        |s| {
            s.last_pull_ok = Some(now - time::Duration::minutes(50));
            s.last_push_ok = Some(now - time::Duration::minutes(45));
            s.last_error = Some(sitegate::store::sync::SyncFault {
                at: now - time::Duration::minutes(44),
                during: "push".into(),
                message: "this gateway's credential was refused; join again".into(),
            });
            s.credential_refused = true;
            s.clock_offset_ms = Some(-185_000);
        },
        Some(("Contractors", 10, 4)),
    );
    let out = site.cli(&["sync", "status"]).ok();
    let text = &out.stdout;
    for needle in [
        "State: credential_refused",
        "The central system refused this gateway's credential; join again.",
        "Central system: https://central.example.test (site \"Northgate HQ\")",
        "(the oldest for 40 min)",
        "Last error (",
        "While sending events to the central system: this gateway's credential was refused; join again.",
        "Leased link slots: Contractors — 10 granted, 4 used, 6 free",
        "Clock offset from the central system: -185 s (over 2 minutes: check this box's clock and NTP)",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
    assert!(!text.contains("Last pull: never"), "{text}");
    assert!(!text.contains("Last push: never"), "{text}");
}

/// `sitegate central join` against a central system that does not answer: one clear line,
/// exit 1, and nothing half-written (no credential file, still standalone). Bad input: exit 2.
#[test]
fn central_join_against_an_unreachable_url_leaves_nothing_behind() {
    let site = Site::new();
    site.cli(&["init", "--given-name", "Ada", "--family-name", "Admin"])
        .ok();
    let token = site.file("site-token", "st_secret_one_time_token\n");
    let token = token.to_str().unwrap();
    let url = format!("https://127.0.0.1:{}", free_port());
    let out = site.cli(&["central", "join", "--url", &url, "--token-file", token]);
    assert_one_line(&out, 1, &["cannot be reached"]);
    assert!(
        !out.stderr.contains("st_secret"),
        "the token is never printed: {out:#?}"
    );
    assert!(
        !site.state.join("central-credential.json").exists(),
        "no credential file after a failed join"
    );
    let status = site.cli(&["sync", "status"]).ok();
    assert!(status.stdout.starts_with("State: standalone"), "{status:#?}");

    let pem = site.file("ca.pem", "not a certificate\n");
    let pem = pem.to_str().unwrap();
    for (args, needle) in [
        (
            vec![
                "central",
                "join",
                "--url",
                "central.example.com",
                "--token-file",
                token,
            ],
            "--url",
        ),
        (
            vec![
                "central",
                "join",
                "--url",
                &url,
                "--token-file",
                "/nonexistent/token",
            ],
            "--token-file",
        ),
        (
            vec!["central", "join", "--url", &url, "--token", "abc"],
            "--token",
        ),
        (
            vec![
                "central",
                "join",
                "--url",
                &url,
                "--token-file",
                token,
                "--ca-file",
                pem,
            ],
            "--ca-file",
        ),
        (
            vec![
                "central",
                "join",
                "--url",
                &url,
                "--token-file",
                token,
                "--fingerprint",
                "zz",
            ],
            "--fingerprint",
        ),
        (
            vec![
                "central",
                "join",
                "--url",
                &url,
                "--token-file",
                token,
                "--ca-file",
                pem,
                "--fingerprint",
                "zz",
            ],
            "--fingerprint",
        ),
    ] {
        assert_one_line(&site.cli(&args), 2, &[needle]);
    }
    let empty = site.file("empty-token", "\n");
    assert_one_line(
        &site.cli(&[
            "central",
            "join",
            "--url",
            &url,
            "--token-file",
            empty.to_str().unwrap(),
        ]),
        2,
        &["site token"],
    );
    assert_one_line(&site.cli(&["central", "leave"]), 2, &["not joined"]);
    assert!(!site.state.join("central-credential.json").exists());
}
