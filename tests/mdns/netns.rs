//! Two network namespaces joined by a veth pair, named uniquely per run and deleted on drop (even
//! when the test fails), for mDNS tests that must not touch a real interface.
#![allow(dead_code)]

use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

const PREFIX: &str = "sitegate-test-";

static NEXT: AtomicU32 = AtomicU32::new(0);

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Whether this test may create namespaces. Without root it fails loudly under CI and skips with
/// a printed reason elsewhere.
pub fn available(test: &str) -> bool {
    if is_root() {
        return true;
    }
    let reason = "creating network namespaces needs root";
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: {reason}, and CI=true: this test must run");
    }
    #[allow(clippy::print_stderr)] // the skip must be visible
    {
        eprintln!("SKIPPED {test}: {reason} (run scripts/test as root)");
    }
    false
}

/// Namespaces left by earlier runs whose process is gone (a killed test cannot clean up).
fn remove_stale() {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let Some(rest) = name.strip_prefix(PREFIX) else {
            continue;
        };
        let pid = rest.split('-').next().unwrap_or("");
        if !pid.is_empty() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = ip(&["netns", "del", name]);
        }
    }
}

/// Namespace `a` and `b`, veth `veth_a` (in a, `addr_a`) and `veth_b` (in b, `addr_b`), one /24.
#[derive(Debug)]
pub struct NetPair {
    pub a: String,
    pub b: String,
    pub veth_a: String,
    pub veth_b: String,
    pub addr_a: Ipv4Addr,
    pub addr_b: Ipv4Addr,
}

impl NetPair {
    pub fn create() -> NetPair {
        remove_stale();
        let pid = std::process::id();
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let third = ((pid + n * 7) % 250) as u8;
        let pair = NetPair {
            a: format!("{PREFIX}{pid}-{n}-a"),
            b: format!("{PREFIX}{pid}-{n}-b"),
            // Interface names are at most 15 bytes.
            veth_a: format!("sg{pid}n{n}a"),
            veth_b: format!("sg{pid}n{n}b"),
            addr_a: Ipv4Addr::new(10, 213, third, 1),
            addr_b: Ipv4Addr::new(10, 213, third, 2),
        };
        // On failure the Drop below removes whatever was made.
        if let Err(e) = pair.build() {
            panic!("cannot set up network namespaces: {e}");
        }
        pair
    }

    fn build(&self) -> Result<(), String> {
        ip(&["netns", "add", &self.a])?;
        ip(&["netns", "add", &self.b])?;
        ip(&[
            "link",
            "add",
            &self.veth_a,
            "type",
            "veth",
            "peer",
            "name",
            &self.veth_b,
        ])?;
        ip(&["link", "set", &self.veth_a, "netns", &self.a])?;
        ip(&["link", "set", &self.veth_b, "netns", &self.b])?;
        for (ns, dev, addr) in [
            (&self.a, &self.veth_a, self.addr_a),
            (&self.b, &self.veth_b, self.addr_b),
        ] {
            ip(&["-n", ns, "addr", "add", &format!("{addr}/24"), "dev", dev])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
            ip(&["-n", ns, "link", "set", dev, "up"])?;
        }
        Ok(())
    }

    /// `ip netns exec <ns> <argv...>` as an argument vector.
    pub fn exec(ns: &str, argv: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = ["ip", "netns", "exec", ns].map(String::from).to_vec();
        v.extend(argv.iter().map(|s| s.to_string()));
        v
    }
}

impl Drop for NetPair {
    fn drop(&mut self) {
        // Deleting a namespace deletes the veth end inside it, and with it the pair.
        let _ = ip(&["netns", "del", &self.a]);
        let _ = ip(&["netns", "del", &self.b]);
        let _ = ip(&["link", "del", &self.veth_a]);
    }
}
