//! Bridges between blocking work (archive I/O) and HTTP bodies: a request body read as a
//! blocking `Read`, and a response body fed by a blocking `Write`, chunked and flushed
//! per write.

use std::convert::Infallible;
use std::io::{self, Read, Write};

use axum::body::Body;
use bytes::Bytes;
use futures_util::TryStreamExt;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::io::{StreamReader, SyncIoBridge};

/// The request body as a blocking reader (use it inside `spawn_blocking`).
pub fn body_reader(body: Body) -> impl Read + Send + 'static {
    let stream = body.into_data_stream().map_err(io::Error::other);
    SyncIoBridge::new(StreamReader::new(stream))
}

/// A blocking writer whose bytes become the chunks of a streaming response body.
#[derive(Clone)]
pub struct ChannelWriter {
    tx: mpsc::Sender<Result<Bytes, Infallible>>,
}

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tx
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "client went away"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A response body and the writer that feeds it.
pub fn channel_body() -> (ChannelWriter, Body) {
    let (tx, rx) = mpsc::channel(16);
    (
        ChannelWriter { tx },
        Body::from_stream(ReceiverStream::new(rx)),
    )
}

/// One message of a JSON progress stream (`pkg/jsonmessage`). Errors carry both
/// `errorDetail` (read by the docker CLI) and the legacy `error` (read by docker-py).
#[derive(Debug, Default, Serialize)]
pub struct JsonMessage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    #[serde(rename = "progressDetail", skip_serializing_if = "Option::is_none")]
    pub progress_detail: Option<ProgressDetail>,
    /// The pre-rendered bar; deprecated in the API but still sent by moby.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
    #[serde(rename = "errorDetail", skip_serializing_if = "Option::is_none")]
    pub error_detail: Option<ErrorDetail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `progressDetail` of a progress message.
#[derive(Debug, Serialize)]
pub struct ProgressDetail {
    pub current: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct ErrorDetail {
    pub message: String,
}

impl JsonMessage {
    pub fn status(status: impl Into<String>) -> Self {
        Self {
            status: Some(status.into()),
            ..Default::default()
        }
    }

    pub fn stream(text: impl Into<String>) -> Self {
        Self {
            stream: Some(text.into()),
            ..Default::default()
        }
    }

    pub fn error(message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            error_detail: Some(ErrorDetail {
                message: message.clone(),
            }),
            error: Some(message),
            ..Default::default()
        }
    }

    /// Writes the message as one line of the stream.
    pub fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut line = serde_json::to_vec(self).map_err(io::Error::other)?;
        line.push(b'\n');
        out.write_all(&line)
    }
}

/// Wraps a reader and reports its progress as `status` messages (moby's progress reader:
/// at most every 512 KiB, and once at the end).
pub struct ProgressReader<R> {
    inner: R,
    out: ChannelWriter,
    status: &'static str,
    total: Option<u64>,
    read: u64,
    reported: u64,
}

const PROGRESS_EVERY: u64 = 512 * 1024;

impl<R: Read> ProgressReader<R> {
    pub fn new(inner: R, out: ChannelWriter, status: &'static str, total: Option<u64>) -> Self {
        Self {
            inner,
            out,
            status,
            total,
            read: 0,
            reported: 0,
        }
    }

    fn report(&mut self) {
        self.reported = self.read;
        let bar = progress_bar(self.read, self.total);
        let msg = JsonMessage {
            status: Some(self.status.to_owned()),
            progress_detail: Some(ProgressDetail {
                current: self.read,
                total: self.total,
            }),
            progress: Some(bar),
            ..Default::default()
        };
        // A client that went away ends the import through the body anyway.
        let _ = msg.write_to(&mut self.out);
    }
}

impl<R: Read> Read for ProgressReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if (n == 0 && self.read > self.reported) || self.read - self.reported >= PROGRESS_EVERY {
            self.report();
        }
        Ok(n)
    }
}

/// moby's rendered bar: `[=====>     ]  1.2MB/2.1MB`, or just the amount without a total.
fn progress_bar(current: u64, total: Option<u64>) -> String {
    let size = |n: u64| {
        let mut v = n as f64;
        let mut unit = 0;
        let units = ["B", "kB", "MB", "GB", "TB"];
        while v >= 1000.0 && unit < units.len() - 1 {
            v /= 1000.0;
            unit += 1;
        }
        format!("{v:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned()
            + units[unit]
    };
    match total.filter(|t| *t > 0) {
        Some(t) => {
            let width = 50;
            let done = ((current.min(t) as f64 / t as f64) * width as f64) as usize;
            let mut bar = "=".repeat(done);
            if done < width {
                bar.push('>');
                bar.push_str(&" ".repeat(width - done - 1));
            }
            format!("[{bar}]  {}/{}", size(current), size(t))
        }
        None => size(current),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_reader_reports_while_reading_and_at_the_end() {
        let (out, body) = channel_body();
        drop(body);
        let data = vec![7u8; 1_300_000];
        let mut r = ProgressReader::new(&data[..], out, "Importing", Some(data.len() as u64));
        let mut sink = Vec::new();
        // The body was dropped: reporting must not break reading.
        std::io::copy(&mut r, &mut sink).unwrap();
        assert_eq!(sink.len(), data.len());
        assert_eq!(r.reported, data.len() as u64);
        assert!(progress_bar(50, Some(100)).starts_with("[=========================>"));
        assert!(progress_bar(100, Some(100)).ends_with("100B/100B"));
    }

    #[test]
    fn errors_carry_both_error_fields() {
        let mut out = Vec::new();
        JsonMessage::error("boom").write_to(&mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["errorDetail"]["message"], "boom");
        assert_eq!(v["error"], "boom");
        assert!(out.ends_with(b"\n"));
    }
}
