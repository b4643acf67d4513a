//! Hijacked connections (attach, exec start): the request goes out as HTTP/1.1 with
//! `Connection: Upgrade` and `Upgrade: tcp`, and once the daemon answers `101 Switching
//! Protocols` (or, as older daemons do, `200` followed by the raw stream) the connection
//! carries the container's streams both ways. The write side can be closed on its own
//! (`shutdown`), which is how stdin's end reaches the container.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http::{HeaderName, HeaderValue, StatusCode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use crate::endpoint::Io;
use crate::ClientError;

/// Longest response head accepted before the stream starts.
const MAX_HEAD: usize = 64 * 1024;
/// Longest error body read from a refused upgrade.
const MAX_ERROR_BODY: usize = 1024 * 1024;

/// The daemon end of a hijacked connection: reads yield the container's output (bytes
/// that arrived with the response head first), writes go to its stdin, and `shutdown`
/// half-closes the connection.
pub struct Hijacked {
    io: Box<dyn Io>,
    pending: Bytes,
}

impl AsyncRead for Hijacked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.pending.has_remaining() {
            let n = self.pending.len().min(buf.remaining());
            buf.put_slice(&self.pending[..n]);
            self.pending.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Hijacked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// The request line and headers of a hijack request.
pub(crate) fn request_head(
    method: &http::Method,
    path_and_query: &str,
    host: &str,
    content_type: &str,
    body_len: usize,
) -> String {
    format!(
        "{method} {path_and_query} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {}\r\n\
         Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: {content_type}\r\n\
         Content-Length: {body_len}\r\n\r\n",
        crate::USER_AGENT
    )
}

/// Sends the request on `io` and reads the answer's head. A success (`101`, or `200`
/// from daemons that stream without upgrading) yields the head and the stream; an
/// error status yields the daemon's message.
pub(crate) async fn handshake(
    mut io: Box<dyn Io>,
    head: String,
    body: Bytes,
) -> Result<(http::response::Parts, Hijacked), ClientError> {
    let transport = |e: io::Error| ClientError::Transport(e.to_string());
    io.write_all(head.as_bytes()).await.map_err(transport)?;
    io.write_all(&body).await.map_err(transport)?;
    io.flush().await.map_err(transport)?;

    let mut buf = Vec::with_capacity(1024);
    let (parts, head_len) = loop {
        if let Some(parsed) = parse_head(&buf)? {
            break parsed;
        }
        if buf.len() > MAX_HEAD {
            return Err(ClientError::Decode("response head too large".into()));
        }
        let mut chunk = [0u8; 4096];
        let n = io.read(&mut chunk).await.map_err(transport)?;
        if n == 0 {
            return Err(ClientError::Transport(
                "connection closed before the daemon answered".into(),
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let rest = Bytes::from(buf).slice(head_len..);
    let status = parts.status;
    if status == StatusCode::SWITCHING_PROTOCOLS || status == StatusCode::OK {
        return Ok((parts, Hijacked { io, pending: rest }));
    }
    if status.is_client_error() || status.is_server_error() {
        let body = read_error_body(&parts, rest, &mut io).await?;
        return Err(crate::daemon_error(status, &body));
    }
    Err(ClientError::Transport(format!(
        "unable to upgrade to tcp, received {}",
        status.as_u16()
    )))
}

/// Parses a complete response head: the parts and the head's length in `buf`.
fn parse_head(buf: &[u8]) -> Result<Option<(http::response::Parts, usize)>, ClientError> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut res = httparse::Response::new(&mut headers);
    let len = match res.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(ClientError::Decode(format!("bad response head: {e}"))),
    };
    let status = StatusCode::from_u16(res.code.unwrap_or(0))
        .map_err(|e| ClientError::Decode(e.to_string()))?;
    let mut builder = http::Response::builder().status(status);
    for h in res.headers.iter() {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(h.name.as_bytes()),
            HeaderValue::from_bytes(h.value),
        ) {
            builder = builder.header(name, value);
        }
    }
    let parts = builder
        .body(())
        .map_err(|e| ClientError::Decode(e.to_string()))?
        .into_parts()
        .0;
    Ok(Some((parts, len)))
}

/// Reads the body of a refused upgrade: by length, chunked, or to the end.
async fn read_error_body(
    parts: &http::response::Parts,
    mut have: Bytes,
    io: &mut Box<dyn Io>,
) -> Result<Vec<u8>, ClientError> {
    let header = |name: http::header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
    };
    let length: Option<usize> =
        header(http::header::CONTENT_LENGTH).and_then(|v| v.trim().parse().ok());
    let chunked = header(http::header::TRANSFER_ENCODING).is_some_and(|v| v.contains("chunked"));
    let mut raw = have.split_to(have.len()).to_vec();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(n) = length {
            if raw.len() >= n {
                raw.truncate(n);
                return Ok(raw);
            }
        }
        if chunked {
            if let Some(body) = dechunk(&raw) {
                return Ok(body);
            }
        }
        if raw.len() > MAX_ERROR_BODY {
            return Ok(raw);
        }
        let n = io
            .read(&mut chunk)
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        if n == 0 {
            return Ok(if chunked {
                dechunk(&raw).unwrap_or(raw)
            } else {
                raw
            });
        }
        raw.extend_from_slice(&chunk[..n]);
    }
}

/// Decodes a complete chunked body, or `None` while its last chunk has not arrived.
fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&raw[..line_end]).ok()?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).ok()?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        if raw.len() < size + 2 {
            return None;
        }
        body.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_is_parsed_with_its_length() {
        let raw = b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nhello";
        let (parts, len) = parse_head(raw).unwrap().unwrap();
        assert_eq!(parts.status, StatusCode::SWITCHING_PROTOCOLS);
        assert_eq!(
            parts.headers["content-type"],
            "application/vnd.docker.raw-stream"
        );
        assert_eq!(&raw[len..], b"hello");
        assert!(parse_head(b"HTTP/1.1 101 UPGR").unwrap().is_none());
        assert!(parse_head(b"garbage\r\n\r\n").is_err());
    }

    #[test]
    fn chunked_bodies_are_decoded_once_complete() {
        assert_eq!(
            dechunk(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n").unwrap(),
            b"hello world"
        );
        assert!(dechunk(b"5\r\nhel").is_none());
        assert!(dechunk(b"5\r\nhello\r\n").is_none());
    }

    #[test]
    fn request_head_asks_for_an_upgrade() {
        let head = request_head(
            &http::Method::POST,
            "/v1.41/containers/x/attach?stream=1",
            "api.moby.localhost",
            "text/plain",
            0,
        );
        assert!(head.starts_with("POST /v1.41/containers/x/attach?stream=1 HTTP/1.1\r\n"));
        assert!(head.contains("\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"));
        assert!(head.ends_with("Content-Length: 0\r\n\r\n"));
    }

    /// A daemon on a socket pair: checks the request, answers with `answer`, then
    /// echoes what it reads until the client half-closes, and says goodbye.
    async fn fake_daemon(answer: &'static [u8]) -> (Box<dyn Io>, tokio::task::JoinHandle<Vec<u8>>) {
        let (client, mut server) = tokio::net::UnixStream::pair().unwrap();
        let task = tokio::spawn(async move {
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                server.read_exact(&mut byte).await.unwrap();
                head.push(byte[0]);
            }
            server.write_all(answer).await.unwrap();
            let mut input = Vec::new();
            server.read_to_end(&mut input).await.unwrap();
            server.write_all(b"bye").await.unwrap();
            server.shutdown().await.unwrap();
            [head, input].concat()
        });
        (Box::new(client), task)
    }

    #[tokio::test]
    async fn upgraded_stream_carries_both_ways_and_half_closes() {
        let (io, daemon) = fake_daemon(b"HTTP/1.1 101 UPGRADED\r\nUpgrade: tcp\r\n\r\nearly").await;
        let head = request_head(&http::Method::POST, "/a", "h", "text/plain", 0);
        let (parts, mut stream) = handshake(io, head, Bytes::new()).await.unwrap();
        assert_eq!(parts.status, StatusCode::SWITCHING_PROTOCOLS);
        stream.write_all(b"stdin data").await.unwrap();
        stream.shutdown().await.unwrap();
        let mut out = Vec::new();
        stream.read_to_end(&mut out).await.unwrap();
        assert_eq!(out, b"earlybye");
        let seen = daemon.await.unwrap();
        assert!(seen.ends_with(b"\r\n\r\nstdin data"));
    }

    #[tokio::test]
    async fn plain_200_streams_are_accepted() {
        let (io, _daemon) = fake_daemon(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\nraw",
        )
        .await;
        let head = request_head(&http::Method::POST, "/a", "h", "text/plain", 0);
        let (parts, mut stream) = handshake(io, head, Bytes::new()).await.unwrap();
        assert_eq!(parts.status, StatusCode::OK);
        let mut first = [0u8; 3];
        stream.read_exact(&mut first).await.unwrap();
        assert_eq!(&first, b"raw");
    }

    #[tokio::test]
    async fn refused_upgrades_report_the_daemons_message() {
        let (io, _daemon) = fake_daemon(
            b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2d\r\n{\"message\":\"No such container: nosuchthing1\"}\r\n0\r\n\r\n",
        )
        .await;
        let head = request_head(&http::Method::POST, "/a", "h", "text/plain", 0);
        match handshake(io, head, Bytes::new()).await {
            Err(ClientError::Daemon { status, message }) => {
                assert_eq!(status, StatusCode::NOT_FOUND);
                assert_eq!(message, "No such container: nosuchthing1");
            }
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => panic!("a 404 must not hijack"),
        }
    }
}
