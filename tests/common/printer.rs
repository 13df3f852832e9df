//! A test printer: a real TCP listener on 127.0.0.1 that collects ESC/POS jobs, answers DLE EOT like an Epson (before and after the job), and can play paper out, cover open, a dropped connection, a reset at any byte of the job, a stall and silence.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// How the printer behaves for the next connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Answers DLE EOT with "ready" (0x12) and takes the job.
    Normal,
    /// DLE EOT 4 answers 0x7e (paper end + near end), DLE EOT 2 answers 0x32.
    PaperOut,
    /// DLE EOT 2 answers 0x16.
    CoverOpen,
    /// Takes a little of the job, then closes the connection.
    Drop,
    /// Takes this many bytes of the job (counted from its ESC @), reading at a printer's pace,
    /// then resets the connection (SO_LINGER 0), like a printer that reboots mid-job.
    ResetAt(usize),
    /// Takes a little of the job, then stops reading and holds the connection.
    Stall,
    /// Never answers DLE EOT (many printers don't) but takes the job.
    Silent,
}

#[derive(Debug, Clone)]
pub struct TestPrinter {
    pub addr: SocketAddr,
    mode: Arc<Mutex<Mode>>,
    jobs: Arc<Mutex<Vec<Vec<u8>>>>,
    connections: Arc<Mutex<u32>>,
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

impl TestPrinter {
    pub async fn start() -> TestPrinter {
        TestPrinter::start_on("127.0.0.1:0".parse().unwrap()).await
    }

    /// Listen on a given address (to come back on the same port).
    pub async fn start_on(addr: SocketAddr) -> TestPrinter {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        // A small receive buffer, like a printer's: a printer that stops reading stops the sender.
        socket.set_recv_buffer_size(4096).unwrap();
        socket.bind(addr).unwrap();
        let listener = socket.listen(8).unwrap();
        let printer = TestPrinter {
            addr: listener.local_addr().unwrap(),
            mode: Arc::new(Mutex::new(Mode::Normal)),
            jobs: Arc::default(),
            connections: Arc::default(),
        };
        let p = printer.clone();
        #[allow(clippy::disallowed_methods)]
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                *p.connections.lock().unwrap() += 1;
                let p = p.clone();
                #[allow(clippy::disallowed_methods)]
                tokio::spawn(async move { p.serve(stream).await });
            }
        });
        printer
    }

    pub fn url(&self) -> String {
        format!("tcp://{}", self.addr)
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn mode(&self) -> Mode {
        *self.mode.lock().unwrap()
    }

    /// Jobs received whole (from ESC @ to the status question after it, or the connection's end).
    pub fn jobs(&self) -> Vec<Vec<u8>> {
        self.jobs.lock().unwrap().clone()
    }

    pub fn connections(&self) -> u32 {
        *self.connections.lock().unwrap()
    }

    /// Wait until `n` jobs arrived (or panic after `secs`).
    pub async fn wait_jobs(&self, n: usize, secs: u64) -> Vec<Vec<u8>> {
        for _ in 0..secs * 20 {
            let jobs = self.jobs();
            if jobs.len() >= n {
                return jobs;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the test printer got {} jobs, not {n}", self.jobs().len());
    }

    async fn serve(&self, mut stream: TcpStream) {
        let mode = self.mode();
        let mut buf = Vec::new();
        // Where the job starts (ESC @), how far its commands are parsed, where it ends (the
        // first status question after it: what follows is not printed).
        let mut start: Option<usize> = None;
        let mut parsed = 0;
        let mut end: Option<usize> = None;
        let mut chunk = [0u8; 512];
        loop {
            // Read no further than a reset's offset, so the drop is at that exact byte.
            let want = match (mode, start) {
                (Mode::ResetAt(at), Some(s)) => (s + at).saturating_sub(buf.len()).min(chunk.len()),
                // Byte by byte until the job starts, so the offset counts from its first byte.
                (Mode::ResetAt(_), None) => 1,
                _ => chunk.len(),
            };
            if want == 0 {
                // SO_LINGER 0: the close is a reset, and whatever is unread is lost. (Zero
                // linger never blocks, which is what tokio's deprecation warns about.)
                #[allow(deprecated)]
                let _ = stream.set_linger(Some(Duration::ZERO));
                return;
            }
            let n = match stream.read(&mut chunk[..want]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            buf.extend_from_slice(&chunk[..n]);
            if let (Mode::ResetAt(_), Some(_)) = (mode, start) {
                // Like a printer printing as it reads: the sender runs ahead into the buffers.
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            if start.is_none() {
                start = find(&buf, 0, &[0x1b, b'@']);
                let before = start.unwrap_or(buf.len());
                while let Some(pos) = find(&buf[..before], parsed, &[0x10, 0x04]) {
                    let Some(&which) = buf.get(pos + 2) else { break };
                    parsed = pos + 3;
                    self.answer(&mut stream, mode, which).await;
                }
                match start {
                    Some(s) => parsed = s,
                    None => continue,
                }
            }
            // Status questions inside the job are real-time commands: answered where they
            // stand, outside raster and length-prefixed data.
            while let Some(step) = command_len(&buf[parsed..]) {
                if buf[parsed] == 0x10 && buf[parsed + 1] == 0x04 {
                    end.get_or_insert(parsed);
                    self.answer(&mut stream, mode, buf[parsed + 2]).await;
                }
                parsed += step;
            }
            match mode {
                Mode::Drop => return,
                Mode::Stall => {
                    // Hold the connection without reading until the test changes the mode.
                    while self.mode() == Mode::Stall {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    return;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            let e = end.unwrap_or(buf.len());
            self.jobs.lock().unwrap().push(buf[s..e].to_vec());
        }
    }

    async fn answer(&self, stream: &mut TcpStream, mode: Mode, which: u8) {
        let answer = match (mode, which) {
            (Mode::Silent, _) => None,
            (Mode::PaperOut, 4) => Some(0x7e),
            (Mode::PaperOut, 2) => Some(0x32),
            (Mode::CoverOpen, 2) => Some(0x16),
            _ => Some(0x12),
        };
        if let Some(a) = answer {
            let _ = stream.write_all(&[a]).await;
        }
    }
}

/// The length of the command at the start of `rest` when it is all there: raster blocks and
/// `GS ( x` commands by their length fields, `DLE EOT n` as three bytes, any other byte as one.
fn command_len(rest: &[u8]) -> Option<usize> {
    match rest {
        [0x1d, b'v', b'0', _, wl, wh, hl, hh, ..] => {
            let w = u16::from_le_bytes([*wl, *wh]) as usize;
            let h = u16::from_le_bytes([*hl, *hh]) as usize;
            Some(8 + w * h).filter(|n| *n <= rest.len())
        }
        [0x1d, b'v', ..] if rest.len() < 8 => None,
        [0x1d, b'(', _, pl, ph, ..] => {
            Some(5 + u16::from_le_bytes([*pl, *ph]) as usize).filter(|n| *n <= rest.len())
        }
        [0x1d] | [0x1d, b'('] | [0x1d, b'(', _] | [0x1d, b'(', _, _] => None,
        [0x10, 0x04, _, ..] => Some(3),
        [0x10] | [0x10, 0x04] => None,
        [] => None,
        _ => Some(1),
    }
}

/// A local port where nothing listens (connections are refused).
pub async fn refused_port() -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    addr
}

/// The raster data of every `GS v 0` block in a job, concatenated, with the row width in bytes.
pub fn raster_of(job: &[u8]) -> (usize, Vec<u8>) {
    let mut out = Vec::new();
    let mut width = 0;
    let mut i = 0;
    while i + 8 <= job.len() {
        if job[i..i + 4] == [0x1d, b'v', b'0', 0] {
            let w = u16::from_le_bytes([job[i + 4], job[i + 5]]) as usize;
            let h = u16::from_le_bytes([job[i + 6], job[i + 7]]) as usize;
            width = w;
            out.extend_from_slice(&job[i + 8..i + 8 + w * h]);
            i += 8 + w * h;
        } else {
            i += 1;
        }
    }
    (width, out)
}
