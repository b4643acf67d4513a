//! An Engine API client: connects to a daemon over a unix socket or TCP (optionally TLS),
//! negotiates the API version with `/_ping` as the docker CLI does, sends requests, and
//! turns error responses into [`ClientError::Daemon`] with the daemon's message.
//! Attach and exec streams come back as [`Hijacked`] connections; [`stdcopy`] splits
//! their multiplexed output.
//!
//! It depends on `berth-api` only; it knows nothing of the engine.

mod endpoint;
mod error;
mod hijack;
pub mod stdcopy;
mod tls;

use bytes::Bytes;
use http::{header, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};

/// A request body: a small buffer or a stream (an archive being loaded).
pub type Body = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;
use hyper::body::Incoming;
use serde::de::DeserializeOwned;

pub use berth_api::ApiVersion;
pub use endpoint::Endpoint;
pub use error::ClientError;
pub use hijack::Hijacked;
pub use tls::TlsOptions;

use berth_api::{ErrorBody, API_VERSION};

/// A response whose status was a success; the body is still to be read.
pub type Response = http::Response<Incoming>;

/// The `User-Agent` every request carries.
pub(crate) const USER_AGENT: &str = concat!("Berth-Client/", env!("CARGO_PKG_VERSION"), " (linux)");

#[derive(Clone)]
pub struct Client {
    endpoint: Endpoint,
    version: Option<ApiVersion>,
}

impl Client {
    /// `host` is `unix:///path` or `tcp://host:port`; `tls` applies to TCP.
    pub fn new(host: &str, tls: Option<TlsOptions>) -> Result<Self, ClientError> {
        let version =
            match std::env::var("DOCKER_API_VERSION") {
                Ok(v) if !v.is_empty() => Some(v.parse().map_err(|_| {
                    ClientError::Config(format!("invalid DOCKER_API_VERSION {v:?}"))
                })?),
                _ => None,
            };
        Ok(Self {
            endpoint: Endpoint::parse(host, tls)?,
            version,
        })
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The API version in use: pinned by `DOCKER_API_VERSION`, or negotiated with the
    /// daemon's `/_ping` (the lower of ours and its), 1.24 when it does not say.
    pub async fn negotiate(&mut self) -> Result<ApiVersion, ClientError> {
        if let Some(v) = self.version {
            return Ok(v);
        }
        let mut res = self.send_raw(Method::HEAD, "/_ping", None).await?;
        if !res.status().is_success() && res.status() != StatusCode::INTERNAL_SERVER_ERROR {
            res = self.send_raw(Method::GET, "/_ping", None).await?;
        }
        let server = res
            .headers()
            .get("Api-Version")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(ApiVersion::new(1, 24));
        let v = API_VERSION.negotiate(server);
        self.version = Some(v);
        Ok(v)
    }

    async fn send_raw(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<(Bytes, &str)>,
    ) -> Result<Response, ClientError> {
        let body = body.map(|(bytes, content_type)| {
            (
                Full::new(bytes).map_err(|never| match never {}).boxed(),
                content_type,
            )
        });
        self.send_body(method, path_and_query, body).await
    }

    async fn send_body(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<(Body, &str)>,
    ) -> Result<Response, ClientError> {
        let mut sender = self.endpoint.connect().await?;
        let mut req = Request::builder()
            .method(method)
            .uri(path_and_query)
            .header(header::HOST, self.endpoint.host_header())
            .header(header::USER_AGENT, USER_AGENT);
        let body = match body {
            Some((body, content_type)) => {
                req = req.header(header::CONTENT_TYPE, content_type);
                body
            }
            None => Full::new(Bytes::new())
                .map_err(|never| match never {})
                .boxed(),
        };
        let req = req
            .body(body)
            .map_err(|e| ClientError::Config(e.to_string()))?;
        sender
            .send_request(req)
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))
    }

    /// Sends a request under the negotiated version prefix; error statuses become
    /// [`ClientError::Daemon`].
    pub async fn request(
        &mut self,
        method: Method,
        path_and_query: &str,
        body: Option<(Bytes, &str)>,
    ) -> Result<Response, ClientError> {
        let version = self.negotiate().await?;
        let res = self
            .send_raw(method, &format!("/v{version}{path_and_query}"), body)
            .await?;
        check_status(res).await
    }

    /// Like [`Client::request`], with a streamed body (sent chunked).
    pub async fn request_streaming(
        &mut self,
        method: Method,
        path_and_query: &str,
        body: Body,
        content_type: &str,
    ) -> Result<Response, ClientError> {
        let version = self.negotiate().await?;
        let res = self
            .send_body(
                method,
                &format!("/v{version}{path_and_query}"),
                Some((body, content_type)),
            )
            .await?;
        check_status(res).await
    }

    /// Sends a JSON body (`application/json`).
    pub async fn request_json(
        &mut self,
        method: Method,
        path_and_query: &str,
        body: &serde_json::Value,
    ) -> Result<Response, ClientError> {
        let bytes =
            Bytes::from(serde_json::to_vec(body).map_err(|e| ClientError::Decode(e.to_string()))?);
        self.request(method, path_and_query, Some((bytes, "application/json")))
            .await
    }

    /// Hijacks a connection for attach or exec: sends the request (with `body` as JSON,
    /// or none as `text/plain`, as the docker CLI does) asking to upgrade to a raw TCP
    /// stream, and returns the daemon's answer head and the stream. Error statuses
    /// become [`ClientError::Daemon`].
    pub async fn hijack(
        &mut self,
        method: Method,
        path_and_query: &str,
        body: Option<serde_json::Value>,
    ) -> Result<(http::response::Parts, Hijacked), ClientError> {
        let version = self.negotiate().await?;
        let (content_type, body) = match body {
            Some(v) => (
                "application/json",
                Bytes::from(
                    serde_json::to_vec(&v).map_err(|e| ClientError::Decode(e.to_string()))?,
                ),
            ),
            None => ("text/plain", Bytes::new()),
        };
        let head = hijack::request_head(
            &method,
            &format!("/v{version}{path_and_query}"),
            &self.endpoint.host_header(),
            content_type,
            body.len(),
        );
        let io = self.endpoint.connect_io().await?;
        hijack::handshake(io, head, body).await
    }

    /// GETs a JSON document.
    pub async fn get_json<T: DeserializeOwned>(
        &mut self,
        path_and_query: &str,
    ) -> Result<T, ClientError> {
        let res = self.request(Method::GET, path_and_query, None).await?;
        let bytes = read_body(res).await?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode(e.to_string()))
    }
}

/// Turns an error status into [`ClientError::Daemon`] with the daemon's message.
async fn check_status(res: Response) -> Result<Response, ClientError> {
    if res.status().is_client_error() || res.status().is_server_error() {
        let status = res.status();
        let bytes = read_body(res).await?;
        return Err(daemon_error(status, &bytes));
    }
    Ok(res)
}

/// An error status with the daemon's `{"message": ...}` (or its raw text).
pub(crate) fn daemon_error(status: StatusCode, body: &[u8]) -> ClientError {
    let message = serde_json::from_slice::<ErrorBody>(body)
        .map(|b| b.message)
        .unwrap_or_else(|_| String::from_utf8_lossy(body).trim().to_owned());
    ClientError::Daemon { status, message }
}

/// A response body as a byte reader (logs, stats, wait results).
pub fn body_reader(res: Response) -> impl tokio::io::AsyncRead + Send + Unpin {
    use futures_util::StreamExt;
    let frames = http_body_util::BodyStream::new(res.into_body()).filter_map(|r| {
        std::future::ready(match r {
            Ok(frame) => frame.into_data().ok().map(Ok),
            Err(e) => Some(Err(std::io::Error::other(e))),
        })
    });
    tokio_util::io::StreamReader::new(frames)
}

/// A body that streams `reader` in 256 KiB chunks.
pub fn reader_body<R: tokio::io::AsyncRead + Send + Sync + 'static>(reader: R) -> Body {
    use futures_util::TryStreamExt;
    let stream = tokio_util::io::ReaderStream::with_capacity(reader, 256 * 1024)
        .map_ok(hyper::body::Frame::data);
    http_body_util::StreamBody::new(stream).boxed()
}

/// Copies a response body into `out` as it arrives; returns the bytes written.
pub async fn copy_body<W: tokio::io::AsyncWrite + Unpin>(
    res: Response,
    out: &mut W,
) -> Result<u64, ClientError> {
    use tokio::io::AsyncWriteExt;
    let mut body = res.into_body();
    let mut n = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ClientError::Transport(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            out.write_all(&data)
                .await
                .map_err(|e| ClientError::Transport(e.to_string()))?;
            n += data.len() as u64;
        }
    }
    out.flush()
        .await
        .map_err(|e| ClientError::Transport(e.to_string()))?;
    Ok(n)
}

/// Reads a whole response body.
pub async fn read_body(res: Response) -> Result<Bytes, ClientError> {
    res.into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|e| ClientError::Transport(e.to_string()))
}

/// Reads a newline-delimited JSON stream one document at a time (events, progress).
pub struct JsonLines {
    body: Incoming,
    buf: Vec<u8>,
}

impl JsonLines {
    pub fn new(res: Response) -> Self {
        Self {
            body: res.into_body(),
            buf: Vec::new(),
        }
    }

    /// The next document, or `None` at the end of the stream.
    pub async fn next<T: DeserializeOwned>(&mut self) -> Result<Option<T>, ClientError> {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return serde_json::from_slice(&line)
                    .map(Some)
                    .map_err(|e| ClientError::Decode(e.to_string()));
            }
            match self.body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.buf.extend_from_slice(&data);
                    }
                }
                Some(Err(e)) => return Err(ClientError::Transport(e.to_string())),
                None if self.buf.iter().all(u8::is_ascii_whitespace) => return Ok(None),
                None => {
                    let rest = std::mem::take(&mut self.buf);
                    return serde_json::from_slice(&rest)
                        .map(Some)
                        .map_err(|e| ClientError::Decode(e.to_string()));
                }
            }
        }
    }
}
