//! Where job bytes go: `tcp://host[:9100]` (one job per connection, status first, the printer's answer after the last byte or its orderly close as the only proof of delivery, timeouts), `file:///dev/usb/lp0`, and `spool://dir` (bytes, PNG and JSON kept per job).

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use super::profile::{Profile, StatusSupport};
use super::status::{self, PrinterStatus, Unanswered};
use crate::domain::print_job::PrintFault;

/// A printer's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterUrl {
    Tcp { host: String, port: u16 },
    File(PathBuf),
    Spool(PathBuf),
}

impl PrinterUrl {
    /// `tcp://HOST[:PORT]` (9100 by default), `file:///dev/usb/lp0`, `spool://DIR`.
    pub fn parse(s: &str) -> Result<PrinterUrl, String> {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix("tcp://") {
            let rest = rest.trim_end_matches('/');
            if rest.is_empty() || rest.contains('/') {
                return Err(format!("{s:?}: expected tcp://HOST[:PORT]"));
            }
            // [v6]:port, host:port, or host alone.
            let (host, port) = match rest.rsplit_once(':') {
                Some((h, p)) if !h.is_empty() && (!h.contains(':') || h.ends_with(']')) => {
                    let port = p.parse::<u16>().ok().filter(|p| *p > 0);
                    (h, port.ok_or_else(|| format!("{s:?}: {p:?} is not a port"))?)
                }
                _ => (rest, 9100),
            };
            let host = host.trim_start_matches('[').trim_end_matches(']');
            if host.is_empty() {
                return Err(format!("{s:?}: the host is missing"));
            }
            return Ok(PrinterUrl::Tcp {
                host: host.to_string(),
                port,
            });
        }
        if let Some(path) = s.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(format!(
                    "{s:?}: expected an absolute path, e.g. file:///dev/usb/lp0"
                ));
            }
            return Ok(PrinterUrl::File(PathBuf::from(path)));
        }
        if let Some(path) = s.strip_prefix("spool://") {
            if path.is_empty() {
                return Err(format!("{s:?}: the spool folder is missing"));
            }
            return Ok(PrinterUrl::Spool(PathBuf::from(path)));
        }
        Err(format!(
            "{s:?}: a printer URL starts with tcp://, file:// or spool://"
        ))
    }
}

impl std::fmt::Display for PrinterUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrinterUrl::Tcp { host, port } if host.contains(':') => write!(f, "tcp://[{host}]:{port}"),
            PrinterUrl::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
            PrinterUrl::File(p) => write!(f, "file://{}", p.display()),
            PrinterUrl::Spool(p) => write!(f, "spool://{}", p.display()),
        }
    }
}

/// How long each step may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub write: Duration,
    pub status: Duration,
}

/// One job to deliver.
#[derive(Debug)]
pub struct Delivery<'a> {
    /// Folder name in a spool: the job's ID.
    pub name: String,
    pub bytes: &'a [u8],
    pub png: &'a [u8],
    pub meta: serde_json::Value,
}

/// Why a job did not reach the printer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{fault}: {detail}")]
pub struct DeliveryError {
    pub fault: PrintFault,
    pub detail: String,
}

fn fail(fault: PrintFault, detail: impl Into<String>) -> DeliveryError {
    DeliveryError {
        fault,
        detail: detail.into(),
    }
}

/// Deliver one job. Over TCP it counts as delivered only once the printer answers a status
/// question sent after the last byte (or, for a printer that does not answer status, closes the
/// connection in order); returns that answer (`Unknown` when it does not talk, and for files and
/// spools).
pub async fn deliver(
    url: &PrinterUrl,
    profile: &Profile,
    job: &Delivery<'_>,
    timeouts: Timeouts,
) -> Result<PrinterStatus, DeliveryError> {
    match url {
        PrinterUrl::Tcp { host, port } => tcp(host, *port, profile, job.bytes, timeouts).await,
        PrinterUrl::File(path) => file(path, job.bytes, timeouts.write).await,
        PrinterUrl::Spool(dir) => spool(dir, job).await,
    }
}

async fn tcp(
    host: &str,
    port: u16,
    profile: &Profile,
    bytes: &[u8],
    t: Timeouts,
) -> Result<PrinterStatus, DeliveryError> {
    let addr = tokio::time::timeout(t.connect, tokio::net::lookup_host((host, port)))
        .await
        .map_err(|_| fail(PrintFault::Timeout, format!("looking up {host} took too long")))?
        .map_err(|e| fail(PrintFault::Unreachable, format!("cannot find {host}: {e}")))?
        .next()
        .ok_or_else(|| fail(PrintFault::Unreachable, format!("{host} has no address")))?;
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| fail(PrintFault::Unreachable, e.to_string()))?;
    // A small send buffer: what sits in it is not yet with the printer, so a stalled printer is
    // noticed by a write that cannot finish rather than hidden in a large buffer.
    let _ = socket.set_send_buffer_size(profile.chunk_bytes as u32);
    let mut stream = match tokio::time::timeout(t.connect, socket.connect(addr)).await {
        Err(_) => {
            return Err(fail(
                PrintFault::Timeout,
                format!("no connection to {addr} in time"),
            ));
        }
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            return Err(fail(
                PrintFault::Refused,
                format!("{addr} refused the connection"),
            ));
        }
        Ok(Err(e)) => return Err(fail(PrintFault::Unreachable, format!("{addr}: {e}"))),
        Ok(Ok(s)) => s,
    };
    let _ = stream.set_nodelay(true);
    let status = match profile.status {
        StatusSupport::DleEot => status::query(&mut stream, t.status).await,
        StatusSupport::None => PrinterStatus::Unknown,
    };
    match status {
        PrinterStatus::PaperOut => return Err(fail(PrintFault::PaperOut, "the printer reports paper out")),
        PrinterStatus::CoverOpen => {
            return Err(fail(PrintFault::CoverOpen, "the printer reports its cover open"));
        }
        PrinterStatus::Offline => {
            return Err(fail(PrintFault::Offline, "the printer reports offline or error"));
        }
        PrinterStatus::Ready | PrinterStatus::Unknown => {}
    }
    for chunk in bytes.chunks(profile.chunk_bytes) {
        match tokio::time::timeout(t.write, stream.write_all(chunk)).await {
            Err(_) => return Err(fail(PrintFault::Timeout, "the printer stopped taking data")),
            Ok(Err(e)) => return Err(fail(PrintFault::Dropped, format!("the connection dropped: {e}"))),
            Ok(Ok(())) => {}
        }
    }
    // A finished write only means the bytes are in socket buffers, ours or the printer's: a
    // printer that resets the connection now loses them. Only its answer after the last byte
    // says it read the whole job.
    if status == PrinterStatus::Unknown {
        return confirm_by_close(&mut stream, t.write).await;
    }
    // The printer has to read the whole job before it reads the question: give it the write
    // timeout to get there.
    let after = match status::confirm(&mut stream, t.write.max(t.status)).await {
        Ok(s) => s,
        Err(Unanswered::Silent) => {
            return Err(fail(
                PrintFault::Timeout,
                "the printer did not confirm the job in time (it may not have got it whole)",
            ));
        }
        Err(Unanswered::Closed) => {
            return Err(fail(
                PrintFault::Dropped,
                "the printer closed the connection before confirming the job",
            ));
        }
        Err(Unanswered::Io(e)) => {
            return Err(fail(
                PrintFault::Dropped,
                format!("the connection dropped before the printer confirmed the job: {e}"),
            ));
        }
    };
    let _ = tokio::time::timeout(t.status, stream.shutdown()).await;
    match after {
        PrinterStatus::Ready => Ok(after),
        PrinterStatus::PaperOut => Err(fail(
            PrintFault::PaperOut,
            "the printer reports paper out after the job",
        )),
        PrinterStatus::CoverOpen => Err(fail(
            PrintFault::CoverOpen,
            "the printer reports its cover open after the job",
        )),
        PrinterStatus::Offline => Err(fail(
            PrintFault::Offline,
            "the printer reports offline or error after the job",
        )),
        PrinterStatus::Unknown => Err(fail(
            PrintFault::Dropped,
            "the printer's answer after the job is not a status byte",
        )),
    }
}

/// For a printer that does not answer status: end our half of the connection and wait for the
/// printer to close its own. An orderly close (end of stream) is the best sign TCP gives that it
/// read the job; a reset, an error or no close within `wait` is a fault, and the job is tried
/// again (a duplicate badge beats a lost one). See docs/ARCHITECTURE.md for the limit.
async fn confirm_by_close(stream: &mut TcpStream, wait: Duration) -> Result<PrinterStatus, DeliveryError> {
    let closed = tokio::time::timeout(wait, async {
        stream.flush().await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 256];
        // Anything the printer says before closing (e.g. automatic status) is read and ignored.
        while stream.read(&mut sink).await? > 0 {}
        Ok::<(), std::io::Error>(())
    })
    .await;
    match closed {
        Ok(Ok(())) => Ok(PrinterStatus::Unknown),
        Ok(Err(e)) => Err(fail(
            PrintFault::Dropped,
            format!("the connection dropped before the printer closed it: {e}"),
        )),
        Err(_) => Err(fail(
            PrintFault::Timeout,
            "the printer did not close the connection after the job (it may not have got it whole)",
        )),
    }
}

async fn file(path: &Path, bytes: &[u8], wait: Duration) -> Result<PrinterStatus, DeliveryError> {
    let mut options = tokio::fs::OpenOptions::new();
    options.append(true).create(!path.starts_with("/dev"));
    let written = tokio::time::timeout(wait, async {
        let mut f = options.open(path).await?;
        f.write_all(bytes).await?;
        f.flush().await?;
        f.sync_all().await.or(Ok::<(), std::io::Error>(()))
    })
    .await;
    match written {
        Err(_) => Err(fail(
            PrintFault::Timeout,
            format!("{} did not take the job in time", path.display()),
        )),
        Ok(Err(e)) => Err(fail(PrintFault::Unreachable, format!("{}: {e}", path.display()))),
        Ok(Ok(())) => Ok(PrinterStatus::Unknown),
    }
}

/// One folder per job, written under a temporary name and renamed, so a folder is whole or absent.
async fn spool(dir: &Path, job: &Delivery<'_>) -> Result<PrinterStatus, DeliveryError> {
    let io = |e: std::io::Error| fail(PrintFault::Unreachable, format!("spool {}: {e}", dir.display()));
    let tmp = dir.join(format!(".{}.tmp", job.name));
    let done = dir.join(&job.name);
    tokio::fs::create_dir_all(&tmp).await.map_err(io)?;
    tokio::fs::write(tmp.join("job.bin"), job.bytes)
        .await
        .map_err(io)?;
    tokio::fs::write(tmp.join("badge.png"), job.png)
        .await
        .map_err(io)?;
    let meta = serde_json::to_vec_pretty(&job.meta).unwrap_or_default();
    tokio::fs::write(tmp.join("job.json"), meta).await.map_err(io)?;
    if tokio::fs::metadata(&done).await.is_ok() {
        // A retried job replaces its earlier copy.
        tokio::fs::remove_dir_all(&done).await.map_err(io)?;
    }
    tokio::fs::rename(&tmp, &done).await.map_err(io)?;
    Ok(PrinterStatus::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printer_urls_parse_as_the_contract_says() {
        assert_eq!(
            PrinterUrl::parse("tcp://printer.local").unwrap(),
            PrinterUrl::Tcp {
                host: "printer.local".into(),
                port: 9100
            }
        );
        assert_eq!(
            PrinterUrl::parse("tcp://127.0.0.1:9200").unwrap(),
            PrinterUrl::Tcp {
                host: "127.0.0.1".into(),
                port: 9200
            }
        );
        assert_eq!(
            PrinterUrl::parse("tcp://[::1]:9100").unwrap(),
            PrinterUrl::Tcp {
                host: "::1".into(),
                port: 9100
            }
        );
        assert_eq!(
            PrinterUrl::parse("file:///dev/usb/lp0").unwrap(),
            PrinterUrl::File("/dev/usb/lp0".into())
        );
        assert_eq!(
            PrinterUrl::parse("spool:///var/spool/x").unwrap(),
            PrinterUrl::Spool("/var/spool/x".into())
        );
        for bad in [
            "http://x",
            "tcp://",
            "tcp://h:0",
            "tcp://h:port",
            "file://rel/path",
            "spool://",
            "lp0",
        ] {
            assert!(PrinterUrl::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            PrinterUrl::parse("tcp://[::1]:9100").unwrap().to_string(),
            "tcp://[::1]:9100"
        );
    }
}
