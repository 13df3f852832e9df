//! Printer status over real-time `DLE EOT n`, always with a timeout: many printers never answer, and then the status is "unknown".

use std::time::Duration;

use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// What a printer said about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrinterStatus {
    Ready,
    PaperOut,
    CoverOpen,
    /// Offline or in error for another reason.
    Offline,
    /// It did not answer (or the profile says it cannot).
    Unknown,
}

/// DLE EOT 4: paper sensor status.
pub const DLE_EOT_PAPER: [u8; 3] = [0x10, 0x04, 0x04];
/// DLE EOT 2: offline cause status.
pub const DLE_EOT_OFFLINE: [u8; 3] = [0x10, 0x04, 0x02];

/// A status byte has bit 1 and bit 4 set and bits 0 and 7 clear; anything else is not an answer.
fn valid(b: u8) -> bool {
    b & 0x93 == 0x12
}

/// Paper sensor byte: bits 5 and 6 are "paper end" (bits 2 and 3, near end, still print).
pub fn from_paper_byte(b: u8) -> PrinterStatus {
    match b {
        b if !valid(b) => PrinterStatus::Unknown,
        b if b & 0x60 != 0 => PrinterStatus::PaperOut,
        _ => PrinterStatus::Ready,
    }
}

/// Offline cause byte: bit 2 cover open, bit 5 stopped for paper end, bit 6 error.
pub fn from_offline_byte(b: u8) -> PrinterStatus {
    match b {
        b if !valid(b) => PrinterStatus::Unknown,
        b if b & 0x04 != 0 => PrinterStatus::CoverOpen,
        b if b & 0x20 != 0 => PrinterStatus::PaperOut,
        b if b & 0x40 != 0 => PrinterStatus::Offline,
        _ => PrinterStatus::Ready,
    }
}

/// Why a status question got no answer.
#[derive(Debug)]
pub enum Unanswered {
    /// Nothing came back within the wait.
    Silent,
    /// The printer closed the connection (orderly) before answering.
    Closed,
    /// The connection failed, e.g. the printer reset it.
    Io(std::io::Error),
}

impl std::fmt::Display for Unanswered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unanswered::Silent => f.write_str("no answer in time"),
            Unanswered::Closed => f.write_str("the printer closed the connection"),
            Unanswered::Io(e) => write!(f, "{e}"),
        }
    }
}

async fn ask<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    request: &[u8],
    wait: Duration,
) -> Result<u8, Unanswered> {
    tokio::time::timeout(wait, async {
        stream.write_all(request).await.map_err(Unanswered::Io)?;
        stream.flush().await.map_err(Unanswered::Io)?;
        let mut byte = [0u8; 1];
        match stream.read(&mut byte).await {
            Ok(1) => Ok(byte[0]),
            Ok(_) => Err(Unanswered::Closed),
            Err(e) => Err(Unanswered::Io(e)),
        }
    })
    .await
    .unwrap_or(Err(Unanswered::Silent))
}

/// Ask the paper sensor, then the offline cause. A printer that does not answer the first
/// question within `wait` is not asked the second.
pub async fn query<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, wait: Duration) -> PrinterStatus {
    confirm(stream, wait).await.unwrap_or(PrinterStatus::Unknown)
}

/// The same two questions, telling why there was no answer to the first: after a job, only an
/// answer says the printer read every byte before it (TCP keeps the order), so silence or a
/// reset there means the job may not have arrived whole. A byte that is not a status byte is
/// `Unknown`.
pub async fn confirm<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    wait: Duration,
) -> Result<PrinterStatus, Unanswered> {
    let paper = ask(stream, &DLE_EOT_PAPER, wait).await?;
    match from_paper_byte(paper) {
        PrinterStatus::Ready => {}
        other => return Ok(other),
    }
    Ok(match ask(stream, &DLE_EOT_OFFLINE, wait).await {
        Ok(b) => match from_offline_byte(b) {
            PrinterStatus::Unknown => PrinterStatus::Ready,
            other => other,
        },
        Err(_) => PrinterStatus::Ready,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_bytes_read_as_epson_documents_them() {
        assert_eq!(from_paper_byte(0x12), PrinterStatus::Ready);
        assert_eq!(from_paper_byte(0x1e), PrinterStatus::Ready); // near end only
        assert_eq!(from_paper_byte(0x7e), PrinterStatus::PaperOut);
        assert_eq!(from_paper_byte(0x72), PrinterStatus::PaperOut);
        assert_eq!(from_offline_byte(0x16), PrinterStatus::CoverOpen);
        assert_eq!(from_offline_byte(0x52), PrinterStatus::Offline);
        assert_eq!(from_paper_byte(0x00), PrinterStatus::Unknown);
        assert_eq!(from_paper_byte(b'A'), PrinterStatus::Unknown);
    }

    #[tokio::test]
    async fn a_closed_printer_is_told_apart_from_a_silent_one() {
        let (mut ours, theirs) = tokio::io::duplex(64);
        drop(theirs);
        let r = confirm(&mut ours, Duration::from_millis(50)).await;
        assert!(matches!(r, Err(Unanswered::Io(_) | Unanswered::Closed)), "{r:?}");
        let (mut ours, _theirs) = tokio::io::duplex(64);
        let r = confirm(&mut ours, Duration::from_millis(50)).await;
        assert!(matches!(r, Err(Unanswered::Silent)), "{r:?}");
    }

    #[tokio::test]
    async fn a_silent_printer_is_unknown_after_the_timeout() {
        let (mut ours, _theirs) = tokio::io::duplex(64);
        let s = query(&mut ours, Duration::from_millis(50)).await;
        assert_eq!(s, PrinterStatus::Unknown);
    }
}
