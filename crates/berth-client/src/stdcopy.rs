//! Docker's multiplexed stream framing (`stdcopy`): without a TTY, attach, exec and logs
//! send each chunk behind an 8-byte header — the stream (0 stdin, 1 stdout, 2 stderr,
//! 3 a daemon-side error), three zero bytes, and the payload length as a big-endian u32.

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Which stream a frame belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Stdin,
    Stdout,
    Stderr,
    /// An error the daemon reports in-band; its payload is the message.
    SystemErr,
}

const HEADER_LEN: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum DemuxError {
    /// Docker's wording, so the CLI prints what docker prints.
    #[error("Unrecognized input header: {0}")]
    BadHeader(u8),
    /// A [`StreamKind::SystemErr`] frame: the daemon's message.
    #[error("error from daemon in stream: {0}")]
    Daemon(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Splits a byte stream into frames; feed it bytes as they arrive.
#[derive(Default)]
pub struct FrameDecoder {
    buf: BytesMut,
}

impl FrameDecoder {
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next complete frame, `None` until one has fully arrived.
    pub fn next_frame(&mut self) -> Result<Option<(StreamKind, Bytes)>, DemuxError> {
        if self.buf.len() < HEADER_LEN {
            return Ok(None);
        }
        let kind = match self.buf[0] {
            0 => StreamKind::Stdin,
            1 => StreamKind::Stdout,
            2 => StreamKind::Stderr,
            3 => StreamKind::SystemErr,
            other => return Err(DemuxError::BadHeader(other)),
        };
        let len = u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]) as usize;
        if self.buf.len() < HEADER_LEN + len {
            return Ok(None);
        }
        self.buf.advance(HEADER_LEN);
        Ok(Some((kind, self.buf.split_to(len).freeze())))
    }

    /// Bytes of an incomplete frame left over.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }
}

/// Copies a multiplexed stream to `stdout` and `stderr` until it ends, flushing after
/// each frame so interactive output shows at once. Stdin frames (sent back by a TTY-less
/// echo) go to `stdout`, as docker does. Returns the payload bytes written.
pub async fn demux<R, O, E>(
    mut reader: R,
    stdout: &mut O,
    stderr: &mut E,
) -> Result<u64, DemuxError>
where
    R: AsyncRead + Unpin,
    O: AsyncWrite + Unpin + ?Sized,
    E: AsyncWrite + Unpin + ?Sized,
{
    let mut decoder = FrameDecoder::default();
    let mut chunk = vec![0u8; 32 * 1024];
    let mut written = 0u64;
    loop {
        while let Some((kind, payload)) = decoder.next_frame()? {
            match kind {
                StreamKind::Stdin | StreamKind::Stdout => {
                    stdout.write_all(&payload).await?;
                    stdout.flush().await?;
                }
                StreamKind::Stderr => {
                    stderr.write_all(&payload).await?;
                    stderr.flush().await?;
                }
                StreamKind::SystemErr => {
                    return Err(DemuxError::Daemon(
                        String::from_utf8_lossy(&payload).into_owned(),
                    ))
                }
            }
            written += payload.len() as u64;
        }
        let n = reader.read(&mut chunk).await?;
        if n == 0 {
            // A truncated last frame is dropped, as docker's StdCopy does at EOF.
            return Ok(written);
        }
        decoder.push(&chunk[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![kind, 0, 0, 0];
        f.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn decoder_waits_for_whole_frames() {
        let bytes = [frame(1, b"hello"), frame(2, b"oops")].concat();
        let mut d = FrameDecoder::default();
        d.push(&bytes[..3]);
        assert!(d.next_frame().unwrap().is_none());
        d.push(&bytes[3..10]);
        assert!(d.next_frame().unwrap().is_none());
        d.push(&bytes[10..]);
        assert_eq!(
            d.next_frame().unwrap(),
            Some((StreamKind::Stdout, Bytes::from_static(b"hello")))
        );
        assert_eq!(
            d.next_frame().unwrap(),
            Some((StreamKind::Stderr, Bytes::from_static(b"oops")))
        );
        assert!(d.next_frame().unwrap().is_none());
        assert_eq!(d.remaining(), 0);
    }

    #[test]
    fn empty_frames_and_bad_headers() {
        let mut d = FrameDecoder::default();
        d.push(&frame(1, b""));
        assert_eq!(
            d.next_frame().unwrap(),
            Some((StreamKind::Stdout, Bytes::new()))
        );
        d.push(&frame(7, b"x"));
        assert_eq!(
            d.next_frame().unwrap_err().to_string(),
            "Unrecognized input header: 7"
        );
    }

    #[tokio::test]
    async fn demux_splits_streams_in_order() {
        let bytes = [
            frame(1, b"out1\n"),
            frame(2, b"err1\n"),
            frame(0, b"echo\n"),
            frame(1, b"out2\n"),
        ]
        .concat();
        // One byte at a time, to cross every frame boundary.
        let reader = tokio_test_reader(bytes);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let n = demux(reader, &mut out, &mut err).await.unwrap();
        assert_eq!(out, b"out1\necho\nout2\n");
        assert_eq!(err, b"err1\n");
        assert_eq!(n, 20);
    }

    #[tokio::test]
    async fn system_error_frames_end_the_copy_with_the_message() {
        let bytes = [frame(1, b"partial"), frame(3, b"exec failed")].concat();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let e = demux(&bytes[..], &mut out, &mut err).await.unwrap_err();
        assert_eq!(out, b"partial");
        assert!(matches!(e, DemuxError::Daemon(m) if m == "exec failed"));
    }

    /// A reader that hands out one byte per read.
    fn tokio_test_reader(bytes: Vec<u8>) -> impl AsyncRead + Unpin {
        struct OneByte(std::collections::VecDeque<u8>);
        impl AsyncRead for OneByte {
            fn poll_read(
                mut self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                if let Some(b) = self.0.pop_front() {
                    buf.put_slice(&[b]);
                }
                std::task::Poll::Ready(Ok(()))
            }
        }
        OneByte(bytes.into())
    }
}
