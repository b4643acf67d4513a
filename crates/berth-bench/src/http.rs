//! A minimal HTTP/1.1 client over a unix socket: one keep-alive connection, GET requests
//! written in one syscall, responses read with Content-Length or chunked framing. Kept
//! deliberately small so the client's own cost does not hide a difference between daemons.

use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("connecting to {path}: {source}")]
    Connect { path: String, source: io::Error },
    #[error("talking to the daemon: {0}")]
    Io(#[from] io::Error),
    #[error("the daemon closed the connection (keep-alive expected)")]
    Closed,
    #[error("malformed response: {0}")]
    Malformed(String),
    #[error("GET {path} answered {status}, expected 200")]
    Status { path: String, status: u16 },
}

/// A response's status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// One keep-alive HTTP/1.1 connection to a unix socket.
pub struct UnixHttpClient {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl UnixHttpClient {
    pub fn connect(path: &Path) -> Result<Self, HttpError> {
        let stream = UnixStream::connect(path).map_err(|source| HttpError::Connect {
            path: path.display().to_string(),
            source,
        })?;
        let writer = stream.try_clone()?;
        Ok(Self {
            reader: BufReader::with_capacity(16 * 1024, stream),
            writer,
        })
    }

    /// Sends `GET path` and reads the whole response.
    pub fn get(&mut self, path: &str) -> Result<Response, HttpError> {
        let request = get_request(path);
        self.send(&request)
    }

    /// Writes a prepared request and reads the whole response.
    pub fn send(&mut self, request: &[u8]) -> Result<Response, HttpError> {
        self.writer.write_all(request)?;
        read_response(&mut self.reader)
    }
}

/// The bytes of a `GET path` request that keeps the connection open.
pub fn get_request(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: berth-bench\r\n\r\n")
        .into_bytes()
}

/// Times `count` GETs of `path` on one connection, after `warmup` untimed ones; every
/// response must be 200.
pub fn time_gets(
    socket: &Path,
    path: &str,
    warmup: usize,
    count: usize,
) -> Result<Vec<Duration>, HttpError> {
    let mut client = UnixHttpClient::connect(socket)?;
    let request = get_request(path);
    let check = |response: Response| {
        if response.status == 200 {
            Ok(())
        } else {
            Err(HttpError::Status {
                path: path.to_owned(),
                status: response.status,
            })
        }
    };
    for _ in 0..warmup {
        check(client.send(&request)?)?;
    }
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let start = Instant::now();
        let response = client.send(&request)?;
        samples.push(start.elapsed());
        check(response)?;
    }
    Ok(samples)
}

/// Reads one response: status line, headers, then a body framed by Content-Length or
/// chunked transfer coding.
pub fn read_response<R: BufRead>(reader: &mut R) -> Result<Response, HttpError> {
    let status_line = read_line(reader)?.ok_or(HttpError::Closed)?;
    let status = parse_status(&status_line)?;
    let mut content_length = None;
    let mut chunked = false;
    loop {
        let line = read_line(reader)?
            .ok_or_else(|| HttpError::Malformed("end of stream inside the headers".into()))?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| HttpError::Malformed(format!("header line {line:?}")))?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            content_length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| HttpError::Malformed(format!("Content-Length {value:?}")))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        }
    }
    let body = if chunked {
        read_chunked(reader)?
    } else if let Some(len) = content_length {
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
        body
    } else if status == 204 || status == 304 {
        Vec::new()
    } else {
        return Err(HttpError::Malformed(
            "neither Content-Length nor chunked: the body would end only at close".into(),
        ));
    };
    Ok(Response { status, body })
}

fn parse_status(line: &str) -> Result<u16, HttpError> {
    let mut parts = line.splitn(3, ' ');
    match (parts.next(), parts.next()) {
        (Some(version), Some(code)) if version.starts_with("HTTP/1.") => code
            .parse()
            .map_err(|_| HttpError::Malformed(format!("status line {line:?}"))),
        _ => Err(HttpError::Malformed(format!("status line {line:?}"))),
    }
}

fn read_chunked<R: BufRead>(reader: &mut R) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    loop {
        let size_line = read_line(reader)?
            .ok_or_else(|| HttpError::Malformed("end of stream inside a chunked body".into()))?;
        let size_hex = size_line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|_| HttpError::Malformed(format!("chunk size {size_line:?}")))?;
        if size == 0 {
            // Trailers, up to the empty line that ends the message.
            while !read_line(reader)?.unwrap_or_default().is_empty() {}
            return Ok(body);
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        let mut crlf = [0u8; 2];
        reader.read_exact(&mut crlf)?;
        if &crlf != b"\r\n" {
            return Err(HttpError::Malformed("chunk not followed by CRLF".into()));
        }
    }
}

/// One CRLF- (or LF-) terminated line without its terminator; `None` at end of stream.
fn read_line<R: BufRead>(reader: &mut R) -> Result<Option<String>, HttpError> {
    let mut line = Vec::new();
    if reader.read_until(b'\n', &mut line)? == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        return Err(HttpError::Malformed("line cut off by end of stream".into()));
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line)
        .map(Some)
        .map_err(|_| HttpError::Malformed("non-UTF-8 header line".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use std::os::unix::net::UnixListener;
    use std::thread;

    fn parse(raw: &str) -> Result<Response, HttpError> {
        read_response(&mut Cursor::new(raw.as_bytes().to_vec()))
    }

    #[test]
    fn reads_body_by_content_length_and_leaves_next_response_unread() {
        let raw = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nApi-Version: 1.41\r\n\r\nOKHTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";
        let mut cursor = Cursor::new(raw.as_bytes().to_vec());
        let first = read_response(&mut cursor).unwrap();
        assert_eq!((first.status, first.body.as_slice()), (200, &b"OK"[..]));
        let second = read_response(&mut cursor).unwrap();
        assert_eq!((second.status, second.body.len()), (404, 0));
    }

    #[test]
    fn joins_chunks_and_skips_trailers() {
        let raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;ext=1\r\nOK\r\nA\r\n0123456789\r\n0\r\nX-Trailer: y\r\n\r\n";
        let response = parse(raw).unwrap();
        assert_eq!(response.body, b"OK0123456789");
    }

    #[test]
    fn rejects_body_without_framing() {
        let err = parse("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nOK").unwrap_err();
        assert!(matches!(err, HttpError::Malformed(_)), "{err}");
    }

    #[test]
    fn rejects_garbage_status_line() {
        assert!(matches!(
            parse("SSH-2.0-OpenSSH\r\n\r\n"),
            Err(HttpError::Malformed(_))
        ));
    }

    #[test]
    fn end_of_stream_before_response_is_closed() {
        assert!(matches!(parse(""), Err(HttpError::Closed)));
    }

    /// Serves `responses` in order on one connection, then closes it.
    fn serve(responses: Vec<&'static str>) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let listener = UnixListener::bind(&path).unwrap();
        thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut writer = stream;
            for response in responses {
                // Consume one request (up to its blank line) before answering it.
                let mut line = String::new();
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                        break;
                    }
                }
                writer.write_all(response.as_bytes()).unwrap();
            }
        });
        (dir, path)
    }

    const PING_OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK";

    #[test]
    fn times_only_the_counted_requests_on_one_connection() {
        let (_dir, path) = serve(vec![PING_OK; 5]);
        let samples = time_gets(&path, "/_ping", 2, 3).unwrap();
        assert_eq!(samples.len(), 3);
    }

    #[test]
    fn non_200_answer_fails_the_run() {
        let (_dir, path) = serve(vec![
            PING_OK,
            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
        ]);
        let err = time_gets(&path, "/_ping", 0, 2).unwrap_err();
        assert!(
            matches!(err, HttpError::Status { status: 500, .. }),
            "{err}"
        );
    }

    #[test]
    fn server_closing_between_requests_fails_the_run() {
        let (_dir, path) = serve(vec![PING_OK]);
        let err = time_gets(&path, "/_ping", 0, 2).unwrap_err();
        assert!(matches!(err, HttpError::Closed | HttpError::Io(_)), "{err}");
    }
}
