use std::path::PathBuf;
use std::sync::Arc;

use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::tls::TlsOptions;
use crate::ClientError;

/// Where the daemon listens.
#[derive(Clone)]
pub enum Endpoint {
    Unix(PathBuf),
    Tcp {
        addr: String,
        tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
    },
}

impl Endpoint {
    pub fn parse(host: &str, tls: Option<TlsOptions>) -> Result<Self, ClientError> {
        if let Some(path) = host.strip_prefix("unix://") {
            return Ok(Self::Unix(path.into()));
        }
        let addr = host
            .strip_prefix("tcp://")
            .or_else(|| host.strip_prefix("https://"))
            .or_else(|| host.strip_prefix("http://"))
            .ok_or_else(|| {
                ClientError::Config(format!("unsupported host {host:?}: use unix:// or tcp://"))
            })?
            .trim_end_matches('/');
        let addr = if addr
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        {
            addr.to_owned()
        } else {
            format!("{addr}:{}", if tls.is_some() { 2376 } else { 2375 })
        };
        let tls = match tls {
            Some(opts) => {
                let host_part = addr.rsplit_once(':').map_or(addr.as_str(), |(h, _)| h);
                let host_part = host_part.trim_start_matches('[').trim_end_matches(']');
                let name = ServerName::try_from(host_part.to_owned()).map_err(|e| {
                    ClientError::Tls(format!("invalid TLS server name {host_part:?}: {e}"))
                })?;
                Some((opts.client_config()?, name))
            }
            None => None,
        };
        Ok(Self::Tcp { addr, tls })
    }

    pub fn host_header(&self) -> String {
        match self {
            Self::Unix(_) => "api.moby.localhost".to_owned(),
            Self::Tcp { addr, .. } => addr.clone(),
        }
    }

    pub fn display(&self) -> String {
        match self {
            Self::Unix(p) => format!("unix://{}", p.display()),
            Self::Tcp { addr, .. } => format!("tcp://{addr}"),
        }
    }

    pub(crate) async fn connect(&self) -> Result<SendRequest<crate::Body>, ClientError> {
        handshake(self.connect_io().await?).await
    }

    /// A raw byte stream to the daemon (TLS already negotiated): the basis of HTTP
    /// connections and of hijacked attach/exec streams.
    pub(crate) async fn connect_io(&self) -> Result<Box<dyn Io>, ClientError> {
        let connect_err = |source| ClientError::Connect {
            host: self.display(),
            source,
        };
        match self {
            Self::Unix(path) => Ok(Box::new(
                tokio::net::UnixStream::connect(path)
                    .await
                    .map_err(connect_err)?,
            )),
            Self::Tcp { addr, tls } => {
                let stream = tokio::net::TcpStream::connect(addr)
                    .await
                    .map_err(connect_err)?;
                let _ = stream.set_nodelay(true);
                match tls {
                    None => Ok(Box::new(stream)),
                    Some((config, name)) => {
                        let tls = tokio_rustls::TlsConnector::from(config.clone())
                            .connect(name.clone(), stream)
                            .await
                            .map_err(|e| {
                                ClientError::Tls(format!("TLS handshake with {addr}: {e}"))
                            })?;
                        Ok(Box::new(tls))
                    }
                }
            }
        }
    }
}

/// A bidirectional byte stream to the daemon: unix, TCP or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

async fn handshake<I>(io: I) -> Result<SendRequest<crate::Body>, ClientError>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| ClientError::Transport(e.to_string()))?;
    tokio::spawn(async move {
        let _ = conn.with_upgrades().await;
    });
    Ok(sender)
}
