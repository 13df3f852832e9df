//! Child processes for the discovery tests: python-zeroconf (tests/mdns/zeroconf_browse.py) as the
//! mDNS peer that is not ours, read one JSON line at a time with a deadline.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BROWSER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mdns/zeroconf_browse.py");

/// A running child whose stdout lines arrive on a channel and whose stderr is kept for failures.
pub struct Proc {
    pub what: String,
    child: Child,
    lines: Receiver<String>,
    pub seen: Vec<String>,
    stderr: Arc<Mutex<String>>,
}

impl Proc {
    /// Start `argv` (the first element is the program).
    pub fn start(what: &str, argv: &[String]) -> Proc {
        let mut child = Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what} ({argv:?}): {e}"));
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout");
        let stderr_buf = Arc::new(Mutex::new(String::new()));
        let mut stderr = child.stderr.take().expect("stderr");
        let keep = stderr_buf.clone();
        #[allow(clippy::disallowed_methods)] // test plumbing: read a child's pipes
        {
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stderr.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    keep.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            });
        }
        Proc {
            what: what.into(),
            child,
            lines,
            seen: Vec::new(),
            stderr: stderr_buf,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// What it printed so far, for a failure message.
    pub fn transcript(&self) -> String {
        format!(
            "--- {} stdout:\n{}\n--- {} stderr:\n{}",
            self.what,
            self.seen.join("\n"),
            self.what,
            self.stderr()
        )
    }

    /// The next JSON line whose `event` is `kind`, skipping others; panics after `timeout`.
    pub fn next_event(&mut self, kind: &str, timeout: Duration) -> Value {
        self.next_matching(kind, |_| true, timeout)
    }

    /// The next JSON line whose `event` is `kind` and that `want` accepts; panics after `timeout`.
    pub fn next_matching(&mut self, kind: &str, want: impl Fn(&Value) -> bool, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if let Ok(v) = serde_json::from_str::<Value>(&line)
                        && v["event"] == kind
                        && want(&v)
                    {
                        return v;
                    }
                }
                Err(_) => panic!(
                    "{}: no {kind:?} event within {timeout:?}\n{}",
                    self.what,
                    self.transcript()
                ),
            }
        }
    }

    /// The next stdout line (JSON or not) that `want` accepts; panics after `timeout`.
    pub fn next_line(&mut self, want: impl Fn(&str) -> bool, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if want(&line) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "{}: no such line within {timeout:?}\n{}",
                    self.what,
                    self.transcript()
                ),
            }
        }
    }

    /// Send SIGTERM and wait for the exit; panics if it does not exit in `timeout`.
    pub fn terminate(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "kill -TERM {} failed", self.child.id());
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > deadline {
                panic!(
                    "{} did not stop within {timeout:?} of SIGTERM\n{}",
                    self.what,
                    self.transcript()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// The python-zeroconf browser, optionally inside a network namespace.
pub fn zeroconf_browser(netns: Option<&str>, args: &[&str]) -> Proc {
    let mut argv: Vec<String> = Vec::new();
    if let Some(ns) = netns {
        argv.extend(["ip", "netns", "exec", ns].map(String::from));
    }
    argv.push("python3".into());
    argv.push(BROWSER.into());
    argv.extend(args.iter().map(|s| s.to_string()));
    let mut p = Proc::start("python-zeroconf", &argv);
    p.next_event("browsing", Duration::from_secs(30));
    p
}
