//! What a technician meets on the first day, run as the real binary: the words the CLI prints
//! are the words it takes, log lines name commands as typed, a second `serve --demo` still says
//! who the demo staff is, and a second `init` says which admin exists and what it did.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A temporary box: a config without mDNS and a state directory, and the binary in a clean environment.
struct Box {
    tmp: tempfile::TempDir,
}

/// A running `sitegate serve`, its stdout and stderr in files.
struct Serving {
    child: Child,
    out: PathBuf,
    log: PathBuf,
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serving {
    fn stdout(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Wait (30 s at most) until `text` shows in the log.
    fn wait_for_log(&mut self, text: &str) {
        let start = Instant::now();
        while !self.log().contains(text) {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("serve exited with {status}:\n{}", self.log());
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no {text:?} in the log within 30 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, and wait for a clean exit.
    fn stop(mut self) {
        let st = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
        let start = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            assert!(start.elapsed() < Duration::from_secs(20), "serve did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

impl Box {
    fn new() -> Box {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("sitegate.toml"),
            "[site]\nname = \"First day\"\n\n[discovery]\nenabled = false\n",
        )
        .unwrap();
        Box { tmp }
    }

    fn state(&self) -> PathBuf {
        self.tmp.path().join("state")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sitegate"));
        for (key, _) in std::env::vars_os() {
            if let Some(k) = key.to_str()
                && (k.starts_with("SITEGATE_") || k == "STATE_DIRECTORY")
            {
                cmd.env_remove(k);
            }
        }
        cmd.env("SITEGATE_LOG", "warn")
            .arg("--config")
            .arg(self.tmp.path().join("sitegate.toml"))
            .arg("--state-dir")
            .arg(self.state())
            .args(args)
            .stdin(Stdio::null());
        cmd
    }

    /// Run a command that must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args).output().unwrap();
        let (stdout, stderr) = text(&out);
        assert!(
            out.status.success(),
            "sitegate {args:?}: {}\n{stdout}\n{stderr}",
            out.status
        );
        stdout
    }

    fn serve(&self, extra: &[&str]) -> Serving {
        let n = std::fs::read_dir(self.tmp.path()).unwrap().count();
        let out = self.tmp.path().join(format!("serve-{n}.out"));
        let log = self.tmp.path().join(format!("serve-{n}.log"));
        let https = format!("127.0.0.1:{}", free_port());
        let kiosk = format!("127.0.0.1:{}", free_port());
        let mut args = vec!["serve", "--listen", &https, "--kiosk-listen", &kiosk];
        args.extend_from_slice(extra);
        let child = self
            .cmd(&args)
            .env("SITEGATE_LOG", "info")
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut s = Serving { child, out, log };
        s.wait_for_log("sitegate ready");
        s
    }
}

/// The column `name` of a `user list` table, for the row that holds `id`.
fn column(table: &str, id: &str, name: &str) -> String {
    let mut lines = table.lines();
    let header = lines.next().unwrap();
    let at = header.split_whitespace().position(|h| h == name).unwrap();
    let row = lines
        .find(|l| l.starts_with(id))
        .unwrap_or_else(|| panic!("{id} in\n{table}"));
    row.split_whitespace().nth(at).unwrap().to_string()
}

#[test]
fn the_words_the_cli_prints_are_the_words_it_takes_back() {
    let b = Box::new();
    b.ok(&["init", "--given-name", "Ana", "--family-name", "Silva"]);
    let added = b.ok(&[
        "user",
        "add",
        "--given-name",
        "Zofia",
        "--family-name",
        "Łukasiewicz",
        "--role",
        "instructor",
        "--access-level",
        "classroom_only",
    ]);
    let id = added.split_whitespace().next().unwrap().to_string();
    let table = b.ok(&["user", "list"]);
    let (role, access) = (column(&table, &id, "ROLE"), column(&table, &id, "ACCESS"));
    assert_eq!(
        (role.as_str(), access.as_str()),
        ("instructor", "classroom_only"),
        "{table}"
    );
    let show = b.ok(&["user", "show", &id]);
    assert!(show.contains(&format!("Access:    {access}\n")), "{show}");
    // What was printed goes back in as typed.
    b.ok(&[
        "user",
        "add",
        "--given-name",
        "João",
        "--family-name",
        "Gonçalves",
        "--role",
        &role,
        "--access-level",
        &access,
    ]);
    let units = b.ok(&["unit", "add", "--kind", "site", "Gate 3"]);
    let kind = units.split_whitespace().next().unwrap();
    assert!(b.ok(&["unit", "list", "--kind", kind]).contains("Gate 3"));
}

#[test]
fn technician_commands_are_logged_as_the_technician_typed_them() {
    let b = Box::new();
    let s = b.serve(&[]);
    b.ok(&["user", "list"]);
    b.ok(&["unit", "add", "--kind", "group", "Crew"]);
    let log = s.log();
    assert!(log.contains("technician command: sitegate user list"), "{log}");
    assert!(log.contains("technician command: sitegate unit add"), "{log}");
    assert!(!log.contains("Discriminant"), "{log}");
    s.stop();
}

#[test]
fn a_second_demo_start_names_the_demo_staff_and_how_to_get_a_pin() {
    let b = Box::new();
    let first = b.serve(&["--demo"]);
    let out = first.stdout();
    let line = out
        .lines()
        .find(|l| l.starts_with("Demo staff sign-in: ID "))
        .unwrap_or_else(|| panic!("{out}"));
    let id = line.split_whitespace().nth(4).unwrap().to_string();
    first.stop();

    let second = b.serve(&["--demo"]);
    let out = second.stdout();
    assert!(out.contains(&format!("Demo staff ID {id}")), "{out}");
    let state = b.state();
    let how = format!("sitegate --state-dir {} user pin {id}", state.display());
    assert!(out.contains(&how), "{out}");
    // The command it names works, on the gateway that printed it.
    let pin = b.ok(&["user", "pin", &id]);
    assert!(pin.starts_with(&format!("New VR PIN for {id}: ")), "{pin}");
    second.stop();
}

#[test]
fn init_again_names_the_admin_who_exists_and_what_it_did() {
    let b = Box::new();
    let first = b.ok(&["init", "--given-name", "Ana", "--family-name", "Silva"]);
    let id = first
        .strip_prefix("Created admin ")
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("{first}"))
        .to_string();

    // Other names, while Ana has not exchanged her code: nobody new, a new code for Ana.
    let again = b.ok(&["init", "--given-name", "Bruno", "--family-name", "Costa"]);
    assert!(
        again.contains(&format!("An admin already exists: {id} (Ana Silva)")),
        "{again}"
    );
    assert!(again.contains("No admin was created"), "{again}");
    assert!(again.contains("Bruno Costa, was not used"), "{again}");
    assert!(again.contains("the earlier code no longer works"), "{again}");
    assert!(again.contains("One-time bootstrap code: "), "{again}");
    let list = b.ok(&["user", "list"]);
    assert!(!list.contains("Bruno"), "{list}");
    assert!(list.contains("(1 users)"), "{list}");

    // Once Ana has a PIN, init changes nothing and says who is there.
    b.ok(&["user", "pin", &id]);
    let out = b
        .cmd(&["init", "--given-name", "Bruno", "--family-name", "Costa"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("admin {id} (Ana Silva) exists")),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    assert!(b.ok(&["user", "list"]).contains("(1 users)"));
}
