//! The doctor's checks over the network and of the running parts: the gateway itself and its
//! readiness, each printer (reachable, paper, cover, profile), mDNS answered on each interface it
//! announces on, the kiosk listener and the kiosk browser's unit, the central system.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{Check, Facts, ago};
use crate::config::Config;
use crate::printer::profile::StatusSupport;
use crate::printer::status::{self, PrinterStatus, Unanswered};
use crate::printer::transport::PrinterUrl;
use crate::printer::{Printer, Printing};
use crate::service::doctor::DoctorFacts;

/// How long an mDNS query on one interface waits for the gateway's answer.
const MDNS_WAIT: Duration = Duration::from_secs(4);
/// How long a plain connection may take (printer, kiosk, central).
const CONNECT_WAIT: Duration = Duration::from_secs(5);
/// How long a printer without status queries is watched for hanging up at once.
const HANGUP_WAIT: Duration = Duration::from_millis(500);
/// The kiosk browser's unit.
pub const KIOSK_UNIT: &str = "sitegate-kiosk.service";

/// Whether the gateway runs and answers ready.
pub(super) async fn gateway(config: &Config, facts: &Facts) -> Check {
    const NAME: &str = "gateway";
    let socket = crate::admin_socket::socket_path(&config.state_dir());
    let f = match facts {
        Facts::Live(f) => f,
        Facts::Broken(e) => return Check::fail(NAME, e.clone()),
        Facts::Stored(_) | Facts::NoDatabase => {
            return Check::fail(
                NAME,
                format!(
                    "not running: nothing answers on {} (start it: systemctl start sitegate, or sitegate serve); the checks below read its files",
                    socket.display()
                ),
            );
        }
    };
    let Some(l) = f.listening else {
        return Check::fail(NAME, "running, but it does not say where it listens");
    };
    let kiosk = l
        .kiosk
        .map_or_else(|| "kiosk off".to_owned(), |k| format!("kiosk http://{k}"));
    let said = format!(
        "running (gateway {}), HTTPS on {}, {kiosk}",
        f.gateway_id, l.https
    );
    if !f.dead_tasks.is_empty() {
        return Check::fail(
            NAME,
            format!(
                "{said}; background tasks stopped: {} (restart it: systemctl restart sitegate)",
                f.dead_tasks.join(", ")
            ),
        );
    }
    let target = (super::super::healthcheck::loopback_for(l.https), l.https.port());
    match tokio::time::timeout(CONNECT_WAIT, super::super::healthcheck::check(config, target)).await {
        Ok(Ok(())) => Check::ok(
            NAME,
            format!("{said}; ready; {} background tasks running", f.tasks),
        ),
        Ok(Err(e)) => Check::fail(NAME, format!("{said}; not ready: {e}")),
        Err(_) => Check::fail(NAME, format!("{said}; /readyz gave no answer within 5 s")),
    }
}

/// One line per configured printer.
pub(super) async fn printers(config: &Config, facts: Option<&DoctorFacts>) -> Vec<Check> {
    let printing = match Printing::from_config(config) {
        Ok(p) => p,
        Err(e) => return vec![Check::fail("printers", e.to_string())],
    };
    let wait = printing.timeouts.status;
    let mut out = Vec::new();
    for p in printing.printers.iter() {
        let name = format!("printer {}", p.name);
        let mut check = printer(p, wait).await;
        check.name = name;
        // What the print queue last saw, when the gateway runs.
        if let Some(h) = facts.and_then(|f| f.printers.iter().find(|h| h.name == p.name))
            && let (Some(fault), Some(at)) = (&h.last_fault, h.checked_at)
        {
            let age = facts.map_or(0, |f| (f.now - at).whole_seconds());
            check
                .detail
                .push_str(&format!("; last print fault {} ago: {fault}", ago(age)));
        }
        out.push(check);
    }
    out
}

async fn printer(p: &Printer, wait: Duration) -> Check {
    let about = format!("{} (profile {}: {})", p.url, p.profile.id, p.profile.name);
    match &p.url {
        PrinterUrl::Tcp { host, port } => tcp_printer(&about, host, *port, p, wait).await,
        PrinterUrl::File(path) => match std::fs::OpenOptions::new().append(true).open(path) {
            Ok(_) => Check::ok(
                "",
                format!(
                    "{about}: the device is there and writable (its status is not asked over a device file)"
                ),
            ),
            Err(e) => Check::fail(
                "",
                format!("{about}: cannot open {} for writing: {e}", path.display()),
            ),
        },
        PrinterUrl::Spool(dir) => spool(&about, dir),
    }
}

async fn tcp_printer(about: &str, host: &str, port: u16, p: &Printer, wait: Duration) -> Check {
    let mut stream = match tokio::time::timeout(CONNECT_WAIT, TcpStream::connect((host, port))).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Check::fail("", format!("{about}: not reachable: {e}")),
        Err(_) => return Check::fail("", format!("{about}: not reachable: no answer within 5 s")),
    };
    if p.profile.status == StatusSupport::None {
        // Nothing to ask: it counts as there when it keeps the connection open.
        let mut byte = [0u8; 1];
        return match tokio::time::timeout(HANGUP_WAIT, stream.read(&mut byte)).await {
            Ok(Ok(0)) | Ok(Err(_)) => Check::fail(
                "",
                format!("{about}: accepts connections but closes them at once: is it a printer?"),
            ),
            _ => Check::ok(
                "",
                format!("{about}: reachable (this profile has no status queries: paper and cover not known)"),
            ),
        };
    }
    let result = status::confirm(&mut stream, wait).await;
    let _ = stream.shutdown().await;
    match result {
        Ok(PrinterStatus::Ready) => Check::ok("", format!("{about}: ready, paper in, cover closed")),
        Ok(PrinterStatus::PaperOut) => Check::fail("", format!("{about}: out of paper")),
        Ok(PrinterStatus::CoverOpen) => Check::fail("", format!("{about}: the cover is open")),
        Ok(PrinterStatus::Offline) => Check::fail("", format!("{about}: offline or in error")),
        Ok(PrinterStatus::Unknown) => Check::warn(
            "",
            format!("{about}: reachable, but its status answer made no sense (is the profile right?)"),
        ),
        Err(Unanswered::Silent) => Check::warn(
            "",
            format!(
                "{about}: reachable, but it did not answer a status question within {} ms (many printers never do; then paper and cover are not known)",
                wait.as_millis()
            ),
        ),
        Err(Unanswered::Closed) => Check::fail(
            "",
            format!(
                "{about}: took the connection but closed it without answering: is it a printer, and is it free?"
            ),
        ),
        Err(Unanswered::Io(e)) => Check::fail("", format!("{about}: the connection failed: {e}")),
    }
}

fn spool(about: &str, dir: &Path) -> Check {
    let existing = dir.ancestors().find(|d| d.exists()).unwrap_or(dir);
    match std::fs::metadata(existing) {
        Ok(m) if m.is_dir() && !m.permissions().readonly() => Check::ok(
            "",
            format!(
                "{about}: jobs are kept as files in {} (no paper printer)",
                dir.display()
            ),
        ),
        Ok(_) => Check::fail(
            "",
            format!("{about}: {} is not a writable folder", existing.display()),
        ),
        Err(e) => Check::fail("", format!("{about}: {e}")),
    }
}

/// mDNS: where it announces, and whether a query on each of those interfaces is answered.
pub(super) async fn mdns(config: &Config, facts: &Facts) -> Vec<Check> {
    const NAME: &str = "mdns";
    if !config.discovery.enabled {
        return vec![Check::skip(
            NAME,
            "off (discovery.enabled = false): headsets are set up by hand",
        )];
    }
    let Facts::Live(f) = facts else {
        return vec![Check::skip(NAME, "not checked: the gateway is not running")];
    };
    let Some(m) = &f.mdns else {
        return vec![Check::fail(NAME, "the gateway does not say how announcing goes")];
    };
    if m.state != "advertising" {
        let detail = m.detail.clone().unwrap_or_default();
        return vec![Check::fail(
            NAME,
            format!(
                "not announcing ({}): {detail}; headsets must be set up by hand (sitegate info)",
                m.state
            ),
        )];
    }
    let instance = m.instance.clone().unwrap_or_default();
    let queries = m.interfaces.iter().map(|(name, addrs)| {
        let (name, addrs, id) = (name.clone(), addrs.join(", "), f.gateway_id.clone());
        let instance = instance.clone();
        async move {
            let check = format!("mdns {name}");
            let said = format!("announces \"{instance}\" on {name} ({addrs})");
            match crate::discovery::browse::query_on(&name, &id, MDNS_WAIT).await {
                Ok(Some(found)) => Check::ok(
                    check,
                    format!("{said}; a query there was answered (port {})", found.port),
                ),
                Ok(None) => Check::fail(
                    check,
                    format!(
                        "{said}, but a query there got no answer within {} s: multicast may be blocked on that network",
                        MDNS_WAIT.as_secs()
                    ),
                ),
                Err(e) => Check::fail(check, format!("{said}; cannot ask there: {e}")),
            }
        }
    });
    futures_util::future::join_all(queries).await
}

/// The kiosk listener: does it answer on loopback.
pub(super) async fn kiosk(config: &Config, facts: Option<&DoctorFacts>) -> Check {
    const NAME: &str = "kiosk";
    let addr = match facts.filter(|f| f.live).and_then(|f| f.listening) {
        Some(l) => l.kiosk,
        None => config.server.kiosk_listen,
    };
    let Some(addr) = addr else {
        return Check::skip(
            NAME,
            "off (server.kiosk_listen = \"off\"): no kiosk screen on this box",
        );
    };
    match tokio::time::timeout(CONNECT_WAIT, http_status(addr, "/healthz")).await {
        Ok(Ok(200)) => Check::ok(NAME, format!("answers on http://{addr}/")),
        Ok(Ok(code)) => Check::fail(NAME, format!("http://{addr}/healthz answered {code}")),
        Ok(Err(e)) => Check::fail(NAME, format!("nothing answers on http://{addr}/: {e}")),
        Err(_) => Check::fail(NAME, format!("http://{addr}/ gave no answer within 5 s")),
    }
}

async fn http_status(addr: SocketAddr, path: &str) -> std::io::Result<u16> {
    let mut s = TcpStream::connect(addr).await?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await?;
    let mut buf = Vec::new();
    let _ = (&mut s).take(4096).read_to_end(&mut buf).await;
    let text = String::from_utf8_lossy(&buf);
    Ok(text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0))
}

/// The kiosk browser's unit, where systemd runs.
pub(super) async fn kiosk_unit() -> Check {
    const NAME: &str = "kiosk browser";
    if !Path::new("/run/systemd/system").is_dir() {
        return Check::skip(NAME, "not checked: no systemd");
    }
    let load = systemctl(&["show", "-p", "LoadState", "--value", KIOSK_UNIT]).await;
    let active = systemctl(&["is-active", KIOSK_UNIT]).await;
    match (load.as_deref(), active.as_deref()) {
        (Err(e), _) | (_, Err(e)) => Check::fail(NAME, format!("cannot ask systemctl: {e}")),
        (Ok("not-found"), _) => Check::warn(
            NAME,
            format!("{KIOSK_UNIT} is not installed: no browser on the touch screen"),
        ),
        (_, Ok("active")) => Check::ok(NAME, format!("{KIOSK_UNIT} is active")),
        (_, Ok("activating")) => Check::warn(NAME, format!("{KIOSK_UNIT} is starting")),
        (_, Ok(state)) => Check::fail(
            NAME,
            format!("{KIOSK_UNIT} is {state}: see journalctl -u {KIOSK_UNIT}"),
        ),
    }
}

async fn systemctl(args: &'static [&'static str]) -> std::io::Result<String> {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new("systemctl")
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    })
    .await
    .unwrap_or_else(|e| Err(std::io::Error::other(e)))
}

/// The central system: reachable, and the sync's state, when joined.
pub(super) async fn central(facts: Option<&DoctorFacts>) -> Check {
    const NAME: &str = "central";
    let Some(f) = facts else {
        return Check::skip(NAME, "not checked: no database yet");
    };
    let s = &f.sync;
    if !s.joined {
        return Check::ok(
            NAME,
            "not joined: this gateway is the system of record for its site",
        );
    }
    let url = s.central_url.clone().unwrap_or_default();
    let reach = match host_port(&url) {
        Some((host, port)) => {
            match tokio::time::timeout(CONNECT_WAIT, TcpStream::connect((host.as_str(), port))).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("no answer within 5 s".to_owned()),
            }
        }
        None => Err(format!("{url:?} is not a URL")),
    };
    let pending = match s.oldest_pending_age_secs {
        Some(age) if s.pending_events > 0 => {
            format!("{} events waiting, the oldest {} old", s.pending_events, ago(age))
        }
        _ => "nothing waiting".to_owned(),
    };
    let pulled = s
        .last_pull_ok
        .map(|t| format!("; last pull {} ago", ago((f.now - t).whole_seconds())))
        .unwrap_or_default();
    let said = format!("{url}: {} ({pending}{pulled})", s.state);
    let error = s
        .last_error
        .as_deref()
        .map(|e| format!("; last error: {e}"))
        .unwrap_or_default();
    if let Err(e) = reach {
        return Check::fail(NAME, format!("{said}; cannot reach it: {e}{error}"));
    }
    match s.state.as_str() {
        "credential_refused" => Check::fail(NAME, format!("{said}: {}", s.summary)),
        "offline" if f.live => Check::fail(NAME, format!("{said}{error}")),
        _ if s.dead_letters > 0 => Check::warn(
            NAME,
            format!(
                "{said}; {} events refused by the central system wait for staff (dead letters)",
                s.dead_letters
            ),
        ),
        _ => Check::ok(NAME, format!("reachable; {said}")),
    }
}

/// `https://host[:port]/…` → (host, port).
fn host_port(url: &str) -> Option<(String, u16)> {
    let (default, rest) = if let Some(r) = url.strip_prefix("https://") {
        (443, r)
    } else {
        (80, url.strip_prefix("http://")?)
    };
    let authority = rest.split('/').next()?;
    if let Some(v6) = authority.strip_prefix('[') {
        let (host, tail) = v6.split_once(']')?;
        let port = tail.strip_prefix(':').map_or(Some(default), |p| p.parse().ok())?;
        return Some((host.to_owned(), port));
    }
    match authority.rsplit_once(':') {
        Some((h, p)) => Some((h.to_owned(), p.parse().ok()?)),
        None => Some((authority.to_owned(), default)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn central_urls_give_host_and_port() {
        assert_eq!(
            host_port("https://c.example.com"),
            Some(("c.example.com".into(), 443))
        );
        assert_eq!(
            host_port("https://127.0.0.1:9700/x"),
            Some(("127.0.0.1".into(), 9700))
        );
        assert_eq!(host_port("https://[::1]:9700"), Some(("::1".into(), 9700)));
        assert_eq!(host_port("ftp://x"), None);
    }
}
