//! Hijacked streams (attach, exec start): answer `101 UPGRADED`, then splice the client's
//! connection with the shim's stream. Stdin goes through a detach-key scanner; the
//! client's half-close reaches the shim as a half-close, so `StdinOnce` works.

use std::future::Future;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::http::ApiError;

pub const DEFAULT_DETACH_KEYS: &[u8] = &[16, 17];

/// `ctrl-p,ctrl-q` → the bytes, as moby's term.ToBytes parses them.
pub fn parse_detach_keys(keys: &str) -> Result<Vec<u8>, ApiError> {
    if keys.is_empty() {
        return Ok(DEFAULT_DETACH_KEYS.to_vec());
    }
    let bad = || ApiError::bad_request(format!("Invalid detach keys ({keys}) provided"));
    let mut out = Vec::new();
    for key in keys.split(',') {
        let k = key.trim();
        if let Some(c) = k.strip_prefix("ctrl-") {
            let b = match c.as_bytes() {
                [b'@'] => 0,
                [c @ b'a'..=b'z'] => c - b'a' + 1,
                [b'['] => 27,
                [b'\\'] => 28,
                [b']'] => 29,
                [b'^'] => 30,
                [b'_'] => 31,
                _ => return Err(bad()),
            };
            out.push(b);
        } else if k.len() == 1 {
            out.push(k.as_bytes()[0]);
        } else {
            return Err(bad());
        }
    }
    Ok(out)
}

/// Whether the request asked to upgrade (the CLI and docker-py do; some clients don't).
pub fn wants_upgrade(req: &Request) -> bool {
    req.headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("tcp"))
}

pub fn content_type(tty: bool) -> &'static str {
    if tty {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    }
}

/// The 101 answer; `on_upgrade` runs with the raw connection once hyper hands it over.
pub fn upgrade<F, Fut>(mut req: Request, tty: bool, on_upgrade: F) -> Response
where
    F: FnOnce(TokioIo<hyper::upgrade::Upgraded>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let pending = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        match pending.await {
            Ok(upgraded) => on_upgrade(TokioIo::new(upgraded)).await,
            Err(e) => tracing::debug!(error = %e, "hijack: upgrade failed"),
        }
    });
    let mut res = Response::new(Body::empty());
    *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = res.headers_mut();
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(header::UPGRADE, HeaderValue::from_static("tcp"));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(tty)),
    );
    res
}

/// Copies stdin to the shim until EOF (then half-closes when `close_on_eof`) or the
/// detach keys (then returns true). A partial match is held back and released when it
/// stops matching.
async fn pump_stdin<R, W>(mut from: R, mut to: W, keys: &[u8], close_on_eof: bool) -> bool
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; 32 * 1024];
    let mut matched = 0usize;
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => {
                if close_on_eof {
                    let _ = to.shutdown().await;
                }
                return false;
            }
            Ok(n) => n,
        };
        let mut out = Vec::with_capacity(n + matched);
        for &b in &buf[..n] {
            if !keys.is_empty() && b == keys[matched] {
                matched += 1;
                if matched == keys.len() {
                    let _ = to.write_all(&out).await;
                    return true;
                }
                continue;
            }
            if matched > 0 {
                out.extend_from_slice(&keys[..matched]);
                matched = 0;
                if !keys.is_empty() && b == keys[0] {
                    matched = 1;
                    continue;
                }
            }
            out.push(b);
        }
        if to.write_all(&out).await.is_err() {
            return false;
        }
    }
}

/// Splices `client` and `shim` until the shim's side ends (the process exited) or the
/// client detaches. The client's EOF on stdin reaches the shim as a half-close only
/// without a TTY (as moby: a TTY's stdin stays open for the next attach); a detach never
/// closes it. `finish` runs before the client's connection closes (exec uses it to record
/// the exit code first).
pub async fn splice<C, Fut>(
    client: C,
    shim: tokio::net::UnixStream,
    stdin: bool,
    tty: bool,
    detach_keys: Vec<u8>,
    finish: Option<Fut>,
) where
    C: AsyncRead + AsyncWrite + Unpin + Send,
    Fut: Future<Output = ()>,
{
    let (client_r, mut client_w) = tokio::io::split(client);
    // tokio::io::split, not into_split: dropping an owned write half would half-close.
    let (shim_r, shim_w) = tokio::io::split(shim);
    let output = async {
        let mut shim_r = shim_r;
        let _ = tokio::io::copy(&mut shim_r, &mut client_w).await;
    };
    if stdin {
        let input = pump_stdin(client_r, shim_w, &detach_keys, !tty);
        tokio::pin!(output);
        tokio::pin!(input);
        tokio::select! {
            _ = &mut output => {}
            detached = &mut input => {
                if detached {
                    tracing::debug!("hijack: client detached");
                } else {
                    // Stdin ended: keep streaming output until the process is done.
                    output.await;
                }
            }
        }
    } else {
        output.await;
        drop(shim_w);
    }
    if let Some(f) = finish {
        f.await;
    }
    let _ = client_w.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys_parse_like_moby() {
        assert_eq!(parse_detach_keys("").unwrap(), vec![16, 17]);
        assert_eq!(parse_detach_keys("ctrl-a,x").unwrap(), vec![1, b'x']);
        assert_eq!(parse_detach_keys("ctrl-@,ctrl-[").unwrap(), vec![0, 27]);
        assert!(parse_detach_keys("ctrl-aa").is_err());
        assert!(parse_detach_keys("abc").is_err());
    }

    #[tokio::test]
    async fn stdin_pump_detaches_on_the_sequence_and_passes_partial_matches() {
        let (mut client, server) = tokio::io::duplex(1024);
        let (sink_w, mut sink_r) = tokio::io::duplex(1024);
        client.write_all(b"ab\x10c\x10\x11tail").await.unwrap();
        let detached = pump_stdin(server, sink_w, &[16, 17], true).await;
        assert!(detached);
        let mut got = vec![0u8; 4];
        sink_r.read_exact(&mut got).await.unwrap();
        assert_eq!(got, b"ab\x10c");
    }

    #[tokio::test]
    async fn stdin_pump_half_closes_on_eof() {
        let (mut client, server) = tokio::io::duplex(1024);
        let (sink_w, mut sink_r) = tokio::io::duplex(1024);
        client.write_all(b"hi").await.unwrap();
        drop(client);
        assert!(!pump_stdin(server, sink_w, &[16, 17], true).await);
        let mut got = Vec::new();
        sink_r.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"hi");
    }
}
