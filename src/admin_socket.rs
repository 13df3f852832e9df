//! The technician's channel to a running gateway: a 0600 Unix socket in the state directory, one JSON request and answer per line.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::task::JoinSet;

use crate::service::admin::{AdminRequest, AdminResponse, execute};
use crate::service::{ServiceError, Services};
use crate::tasks::Shutdown;

/// The socket's file name inside the state directory.
pub const SOCKET_NAME: &str = "sitegate.sock";
/// Longest request line accepted.
const MAX_REQUEST: u64 = 256 * 1024;

/// A command's failure as the CLI reports it: one line and an exit code (2 = bad input, 1 = failed).
#[derive(Debug, Clone, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct CommandError {
    pub message: String,
    pub exit_code: u8,
}

impl From<ServiceError> for CommandError {
    fn from(e: ServiceError) -> Self {
        let exit_code = match &e {
            ServiceError::Domain(_) | ServiceError::NotFound { .. } | ServiceError::Duplicate { .. } => 2,
            ServiceError::AlreadyInitialized { .. } => 2,
            _ => 1,
        };
        let message = match &e {
            ServiceError::Store(inner) => format!("storage failed: {inner}"),
            other => other.to_string(),
        };
        CommandError { message, exit_code }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Answer {
    Ok(Box<AdminResponse>),
    Error(CommandError),
}

pub fn socket_path(state_dir: &Path) -> PathBuf {
    state_dir.join(SOCKET_NAME)
}

/// Bind the socket (replacing a stale file left by a crash) with mode 0600.
pub fn bind(state_dir: &Path) -> std::io::Result<UnixListener> {
    use std::os::unix::fs::PermissionsExt;
    let path = socket_path(state_dir);
    if path.exists() {
        // The store's lock already proved no other gateway runs on this state directory.
        std::fs::remove_file(&path)?;
    }
    let listener = UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// Serve technician commands until shutdown.
pub async fn serve(listener: UnixListener, services: Services, shutdown: Shutdown) {
    let mut conns = JoinSet::new();
    let stop = shutdown.wait();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let svc = services.clone();
                    conns.spawn(async move {
                        if let Err(e) = handle(stream, svc).await {
                            tracing::warn!(error = %e, "admin socket connection failed");
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "admin socket accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    while conns.join_next().await.is_some() {}
}

async fn handle(stream: UnixStream, services: Services) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    BufReader::new(read.take(MAX_REQUEST))
        .read_line(&mut line)
        .await?;
    let answer = match serde_json::from_str::<AdminRequest>(&line) {
        Ok(req) => {
            tracing::info!(
                command = req.name(),
                "technician command: sitegate {}",
                req.name()
            );
            match execute(&services, req).await {
                Ok(r) => Answer::Ok(Box::new(r)),
                Err(e) => Answer::Error(e.into()),
            }
        }
        Err(e) => Answer::Error(CommandError {
            message: format!("malformed command: {e}"),
            exit_code: 2,
        }),
    };
    let mut out = serde_json::to_vec(&answer).unwrap_or_default();
    out.push(b'\n');
    write.write_all(&out).await?;
    write.shutdown().await
}

/// Send a command to the gateway running on `state_dir`. `Ok(None)` when no gateway listens there.
pub async fn send(
    state_dir: &Path,
    req: &AdminRequest,
) -> Result<Option<Result<AdminResponse, CommandError>>, CommandError> {
    let path = socket_path(state_dir);
    let stream = match UnixStream::connect(&path).await {
        Ok(s) => s,
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::ConnectionRefused) => return Ok(None),
        Err(e) if e.kind() == ErrorKind::PermissionDenied => {
            return Err(CommandError {
                message: format!(
                    "a gateway is running but its socket {} is not yours: run this as the service's user (e.g. sudo -u sitegate)",
                    path.display()
                ),
                exit_code: 1,
            });
        }
        Err(e) => {
            return Err(CommandError {
                message: format!("cannot reach the gateway at {}: {e}", path.display()),
                exit_code: 1,
            });
        }
    };
    let io_err = |e: std::io::Error| CommandError {
        message: format!("the gateway's socket failed: {e}"),
        exit_code: 1,
    };
    let (read, mut write) = stream.into_split();
    let mut line = serde_json::to_vec(req).map_err(|e| CommandError {
        message: e.to_string(),
        exit_code: 1,
    })?;
    line.push(b'\n');
    write.write_all(&line).await.map_err(io_err)?;
    let mut answer = String::new();
    BufReader::new(read)
        .read_line(&mut answer)
        .await
        .map_err(io_err)?;
    match serde_json::from_str::<Answer>(&answer) {
        Ok(Answer::Ok(r)) => Ok(Some(Ok(*r))),
        Ok(Answer::Error(e)) => Ok(Some(Err(e))),
        Err(e) => Err(CommandError {
            message: format!("the gateway answered something unreadable: {e}"),
            exit_code: 1,
        }),
    }
}
