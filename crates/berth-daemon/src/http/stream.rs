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
    #[serde(rename = "errorDetail", skip_serializing_if = "Option::is_none")]
    pub error_detail: Option<ErrorDetail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
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

#[cfg(test)]
mod tests {
    use super::*;

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
