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

async fn ask<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    request: &[u8],
    wait: Duration,
) -> Option<u8> {
    tokio::time::timeout(wait, async {
        stream.write_all(request).await.ok()?;
        stream.flush().await.ok()?;
        let mut byte = [0u8; 1];
        match stream.read(&mut byte).await {
            Ok(1) => Some(byte[0]),
            _ => None,
        }
    })
    .await
    .ok()
    .flatten()
}

/// Ask the paper sensor, then the offline cause. A printer that does not answer the first
/// question within `wait` is not asked the second.
pub async fn query<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, wait: Duration) -> PrinterStatus {
    let Some(paper) = ask(stream, &DLE_EOT_PAPER, wait).await else {
        return PrinterStatus::Unknown;
    };
    match from_paper_byte(paper) {
        PrinterStatus::Ready => {}
        other => return other,
    }
    match ask(stream, &DLE_EOT_OFFLINE, wait).await {
        Some(b) => match from_offline_byte(b) {
            PrinterStatus::Unknown => PrinterStatus::Ready,
            other => other,
        },
        None => PrinterStatus::Ready,
    }
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
    async fn a_silent_printer_is_unknown_after_the_timeout() {
        let (mut ours, _theirs) = tokio::io::duplex(64);
        let s = query(&mut ours, Duration::from_millis(50)).await;
        assert_eq!(s, PrinterStatus::Unknown);
    }
}
