//! Accept loops: serving an axum `Router` over TLS or plain HTTP with per-connection `ConnectInfo`, handshake timeouts and graceful, bounded shutdown.

use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

/// A client must finish the TLS handshake within this time.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause after an accept error that is not about one connection (e.g. EMFILE).
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(250);

/// Serves `app` over TLS on `listener` until `shutdown` resolves, then stops accepting, lets open
/// requests finish (at most `drain` long), and returns.
pub async fn serve_tls(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> io::Result<()> {
    let acceptor = TlsAcceptor::from(tls);
    serve_inner(
        listener,
        Some((acceptor, HANDSHAKE_TIMEOUT)),
        app,
        shutdown,
        drain,
    )
    .await
}

/// Same for plain HTTP (the loopback kiosk listener).
pub async fn serve_plain(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> io::Result<()> {
    serve_inner(listener, None, app, shutdown, drain).await
}

pub(crate) async fn serve_inner(
    listener: TcpListener,
    tls: Option<(TlsAcceptor, Duration)>,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> io::Result<()> {
    let local = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let graceful = GracefulShutdown::new();
    let mut tasks: JoinSet<()> = JoinSet::new();
    let mut shutdown = pin!(shutdown);

    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                if let Err(err) = done
                    && err.is_panic()
                {
                    tracing::error!(%local, error = %err, "connection task panicked");
                }
                continue;
            }
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                // `::ffff:a.b.c.d` from a dual-stack listener is reported as the IPv4 address.
                let peer = SocketAddr::new(peer.ip().to_canonical(), peer.port());
                let watcher = graceful.watcher();
                let app = app.clone();
                let tls = tls.clone();
                tasks.spawn(handle_connection(stream, peer, tls, app, watcher));
            }
            Err(err) if is_connection_error(&err) => {
                tracing::debug!(%local, error = %err, "accept failed for one connection");
            }
            Err(err) => {
                tracing::warn!(%local, error = %err, "accept failed; retrying shortly");
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(ACCEPT_ERROR_PAUSE) => {}
                }
            }
        }
    }

    drop(listener);
    tracing::debug!(%local, scheme, open = tasks.len(), "listener closed; draining connections");
    let drained = async {
        graceful.shutdown().await;
        while tasks.join_next().await.is_some() {}
    };
    if tokio::time::timeout(drain, drained).await.is_err() {
        tracing::warn!(
            %local,
            scheme,
            open = tasks.len(),
            "connections still open after the drain time; closing them"
        );
    }
    tasks.shutdown().await;
    Ok(())
}

/// Errors of `accept` that concern only the connection being accepted.
fn is_connection_error(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

async fn handle_connection(
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<(TlsAcceptor, Duration)>,
    app: Router,
    watcher: Watcher,
) {
    if let Err(err) = stream.set_nodelay(true) {
        tracing::debug!(%peer, error = %err, "cannot set TCP_NODELAY");
    }
    match tls {
        None => serve_connection(stream, peer, app, watcher).await,
        Some((acceptor, handshake_timeout)) => {
            match tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await {
                Ok(Ok(tls_stream)) => serve_connection(tls_stream, peer, app, watcher).await,
                Ok(Err(err)) => {
                    tracing::debug!(%peer, error = %err, "TLS handshake failed");
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                }
            }
        }
    }
}

async fn serve_connection<I>(io: I, peer: SocketAddr, app: Router, watcher: Watcher)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = app.map_request(move |mut req: axum::http::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        req
    });
    let service = TowerToHyperService::new(service);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // With a timer, hyper enforces its HTTP/1 header read timeout (slow clients).
    builder.http1().timer(TokioTimer::new());
    builder.http2().timer(TokioTimer::new());
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    if let Err(err) = watcher.watch(conn).await {
        tracing::debug!(%peer, error = %err, "connection ended with an error");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::http::tls::{install_crypto_provider, load_or_create};
    use axum::routing::get;
    use std::time::Instant;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::sync::{Notify, oneshot};

    /// `started` is notified when a slow handler has begun.
    fn app(started: Arc<Notify>) -> Router {
        let started2 = started.clone();
        Router::new()
            .route(
                "/peer",
                get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
            )
            .route(
                "/slow",
                get(move || async move {
                    started.notify_one();
                    tokio::time::sleep(Duration::from_millis(400)).await;
                    "slow done"
                }),
            )
            .route(
                "/forever",
                get(move || async move {
                    started2.notify_one();
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    "never"
                }),
            )
    }

    struct Server {
        addr: SocketAddr,
        stop: oneshot::Sender<()>,
        started: Arc<Notify>,
        tasks: JoinSet<io::Result<()>>,
        cert_der: Vec<u8>,
        _dir: tempfile::TempDir,
    }

    async fn start(tls: bool, handshake_timeout: Duration, drain: Duration) -> Server {
        install_crypto_provider();
        let dir = tempfile::tempdir().unwrap();
        let material = load_or_create(None, None, dir.path(), &[]).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let acceptor = tls.then(|| {
            (
                TlsAcceptor::from(material.server_config.clone()),
                handshake_timeout,
            )
        });
        let mut tasks = JoinSet::new();
        let started = Arc::new(Notify::new());
        tasks.spawn(serve_inner(
            listener,
            acceptor,
            app(started.clone()),
            shutdown,
            drain,
        ));
        Server {
            addr,
            started,
            stop,
            tasks,
            cert_der: material.cert_der,
            _dir: dir,
        }
    }

    impl Server {
        async fn stop_within(mut self, limit: Duration) {
            let _ = self.stop.send(());
            let res = tokio::time::timeout(limit, self.tasks.join_next())
                .await
                .expect("serve did not return in time");
            res.unwrap().unwrap().unwrap();
        }
    }

    fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .use_rustls_tls()
            .danger_accept_invalid_certs(true)
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn https_request_sees_peer_address_and_shutdown_returns() {
        let server = start(true, HANDSHAKE_TIMEOUT, Duration::from_secs(5)).await;
        let url = format!("https://127.0.0.1:{}/peer", server.addr.port());
        let resp = client().get(&url).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let body = resp.text().await.unwrap();
        let peer: SocketAddr = body.parse().unwrap();
        assert_eq!(peer.ip().to_string(), "127.0.0.1");
        assert_ne!(peer.port(), server.addr.port());
        server.stop_within(Duration::from_secs(3)).await;
    }

    #[tokio::test]
    async fn plain_request_sees_peer_address() {
        let server = start(false, HANDSHAKE_TIMEOUT, Duration::from_secs(5)).await;
        let url = format!("http://127.0.0.1:{}/peer", server.addr.port());
        let resp = reqwest::get(&url).await.unwrap();
        assert_eq!(resp.status(), 200);
        let peer: SocketAddr = resp.text().await.unwrap().parse().unwrap();
        assert!(peer.ip().is_loopback());
        server.stop_within(Duration::from_secs(3)).await;
    }

    #[tokio::test]
    async fn shutdown_lets_open_request_finish() {
        let server = start(true, HANDSHAKE_TIMEOUT, Duration::from_secs(5)).await;
        let url = format!("https://127.0.0.1:{}/slow", server.addr.port());
        let mut requests = JoinSet::new();
        requests.spawn(async move { client().get(&url).send().await?.text().await });
        tokio::time::timeout(Duration::from_secs(5), server.started.notified())
            .await
            .unwrap();
        server.stop_within(Duration::from_secs(3)).await;
        let body = requests.join_next().await.unwrap().unwrap().unwrap();
        assert_eq!(body, "slow done");
    }

    #[tokio::test]
    async fn drain_time_bounds_shutdown() {
        let server = start(false, HANDSHAKE_TIMEOUT, Duration::from_millis(200)).await;
        let url = format!("http://127.0.0.1:{}/forever", server.addr.port());
        let mut requests = JoinSet::new();
        requests.spawn(async move { reqwest::get(&url).await.map(|r| r.status()) });
        tokio::time::timeout(Duration::from_secs(5), server.started.notified())
            .await
            .unwrap();
        let started = Instant::now();
        server.stop_within(Duration::from_secs(3)).await;
        assert!(started.elapsed() < Duration::from_secs(2));
        // The request was cut off, not answered.
        assert!(requests.join_next().await.unwrap().unwrap().is_err());
    }

    #[tokio::test]
    async fn stalled_handshake_is_dropped() {
        let server = start(true, Duration::from_millis(200), Duration::from_secs(5)).await;
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let mut buf = [0u8; 16];
        let n = tokio::time::timeout(Duration::from_secs(3), stream.read(&mut buf))
            .await
            .expect("server kept a stalled handshake open")
            .unwrap_or(0);
        assert_eq!(n, 0);
        server.stop_within(Duration::from_secs(3)).await;
    }

    #[tokio::test]
    async fn tls11_client_is_refused() {
        let server = start(true, HANDSHAKE_TIMEOUT, Duration::from_secs(5)).await;
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream.write_all(&tls11_client_hello()).await.unwrap();
        let mut resp = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(3), stream.read_to_end(&mut resp)).await;
        // Either an alert record (content type 21) or a closed connection; never a ServerHello.
        assert!(resp.is_empty() || resp[0] == 21, "unexpected reply {resp:02x?}");
        if resp.len() >= 7 {
            assert_eq!(resp[6], 70, "expected a protocol_version alert");
        }
        server.stop_within(Duration::from_secs(3)).await;
    }

    /// A minimal TLS 1.1 ClientHello (no supported_versions extension).
    fn tls11_client_hello() -> Vec<u8> {
        let mut body = vec![0x03, 0x02];
        body.extend_from_slice(&[7u8; 32]); // random
        body.push(0); // session id
        body.extend_from_slice(&[0x00, 0x04, 0xc0, 0x13, 0x00, 0x2f]); // two AES-CBC suites
        body.extend_from_slice(&[0x01, 0x00]); // null compression
        // Extensions: signature_algorithms (ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256).
        body.extend_from_slice(&[0x00, 0x0a, 0x00, 0x0d, 0x00, 0x06, 0x00, 0x04, 4, 3, 8, 4]);
        let mut hs = vec![0x01, 0x00];
        hs.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
        hs.extend_from_slice(&body);
        let mut rec = vec![0x16, 0x03, 0x02];
        rec.extend_from_slice(&u16::try_from(hs.len()).unwrap().to_be_bytes());
        rec.extend_from_slice(&hs);
        rec
    }

    async fn rustls_connect(
        server: &Server,
        versions: &[&'static rustls::SupportedProtocolVersion],
        alpn: &[&[u8]],
    ) -> tokio_rustls::client::TlsStream<TcpStream> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(server.cert_der.clone().into()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tcp = TcpStream::connect(server.addr).await.unwrap();
        let name = rustls::pki_types::ServerName::IpAddress(server.addr.ip().into());
        connector.connect(name, tcp).await.unwrap()
    }

    #[tokio::test]
    async fn tls12_and_h2_are_negotiated_and_cert_covers_loopback() {
        let server = start(true, HANDSHAKE_TIMEOUT, Duration::from_secs(5)).await;
        let tls12 = rustls_connect(&server, &[&rustls::version::TLS12], &[b"http/1.1"]).await;
        assert_eq!(
            tls12.get_ref().1.protocol_version(),
            Some(rustls::ProtocolVersion::TLSv1_2)
        );
        drop(tls12);

        let mut h2 = rustls_connect(&server, &[&rustls::version::TLS13], &[b"h2"]).await;
        assert_eq!(h2.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.unwrap();
        h2.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await.unwrap(); // empty SETTINGS
        let mut frame = [0u8; 9];
        h2.read_exact(&mut frame).await.unwrap();
        assert_eq!(frame[3], 4, "server's first h2 frame is SETTINGS");
        drop(h2);
        server.stop_within(Duration::from_secs(3)).await;
    }
}
