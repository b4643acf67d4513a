//! Serving the router on every listener: HTTP/1.1 with upgrades (for attach and exec),
//! TLS handshakes off the accept loop, and a graceful stop.

use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{mpsc, watch};
use tokio_rustls::TlsAcceptor;

const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

pub enum Listener {
    Unix(UnixListener),
    Tcp(TcpListener, Option<TlsAcceptor>),
}

/// Tracks live connections: each holds a clone of the sender, and the stop signal asks
/// each to finish its current request and close.
#[derive(Clone)]
pub struct Connections {
    alive: mpsc::Sender<()>,
    stop: watch::Receiver<bool>,
}

impl Connections {
    pub fn new(stop: watch::Receiver<bool>) -> (Self, mpsc::Receiver<()>) {
        let (alive, all_closed) = mpsc::channel(1);
        (Self { alive, stop }, all_closed)
    }

    fn serve<I>(&self, io: I, app: Router)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let service = TowerToHyperService::new(app);
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(30))
            .serve_connection(TokioIo::new(io), service)
            .with_upgrades();
        let alive = self.alive.clone();
        let mut stop = self.stop.clone();
        tokio::spawn(async move {
            let _alive = alive;
            tokio::pin!(conn);
            let result = tokio::select! {
                r = conn.as_mut() => r,
                () = stopped(&mut stop) => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
}

/// Resolves once the stop signal is set (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not Send: drop it here, not across an await.
    let _ = stop.wait_for(|s| *s).await.map(|_| ());
}

/// Accepts on `listener` until the stop signal.
pub async fn accept_loop(listener: Listener, app: Router, conns: Connections) {
    let mut stop = conns.stop.clone();
    loop {
        tokio::select! {
            () = stopped(&mut stop) => return,
            accepted = accept(&listener) => match accepted {
                Ok(Accepted::Unix(s)) => conns.serve(s, app.clone()),
                Ok(Accepted::Tcp(s, None)) => conns.serve(s, app.clone()),
                Ok(Accepted::Tcp(s, Some(acceptor))) => {
                    let app = app.clone();
                    let conns = conns.clone();
                    tokio::spawn(async move {
                        match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(s)).await {
                            Ok(Ok(tls)) => conns.serve(tls, app),
                            Ok(Err(e)) => tracing::info!(error = %e, "TLS handshake refused"),
                            Err(_) => tracing::info!("TLS handshake timed out"),
                        }
                    });
                }
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
}

enum Accepted {
    Unix(tokio::net::UnixStream),
    Tcp(tokio::net::TcpStream, Option<TlsAcceptor>),
}

async fn accept(listener: &Listener) -> std::io::Result<Accepted> {
    match listener {
        Listener::Unix(l) => Ok(Accepted::Unix(l.accept().await?.0)),
        Listener::Tcp(l, tls) => {
            let (s, _) = l.accept().await?;
            let _ = s.set_nodelay(true);
            Ok(Accepted::Tcp(s, tls.clone()))
        }
    }
}

/// Waits until every connection has closed, at most `grace`.
pub async fn drain(mut all_closed: mpsc::Receiver<()>, grace: Duration) {
    if tokio::time::timeout(grace, all_closed.recv())
        .await
        .is_err()
    {
        tracing::info!("some connections did not finish within {grace:?}");
    }
}
