//! Docker's multiplexed stream framing for attach without a TTY: an 8-byte header
//! `[stream, 0, 0, 0, len (u32 big-endian)]` before each chunk.

/// Which stream a frame carries (Docker's numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Stdout = 1,
    Stderr = 2,
}

/// The header for a `len`-byte chunk of `stream`.
pub fn header(stream: StreamKind, len: usize) -> [u8; 8] {
    let len = u32::try_from(len).expect("attach chunks are far below 4 GiB");
    let [a, b, c, d] = len.to_be_bytes();
    [stream as u8, 0, 0, 0, a, b, c, d]
}

/// Appends `chunk` to `out` as one frame.
pub fn push_frame(out: &mut Vec<u8>, stream: StreamKind, chunk: &[u8]) {
    out.extend_from_slice(&header(stream, chunk.len()));
    out.extend_from_slice(chunk);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_has_stream_and_big_endian_length() {
        assert_eq!(header(StreamKind::Stdout, 5), [1, 0, 0, 0, 0, 0, 0, 5]);
        assert_eq!(
            header(StreamKind::Stderr, 0x0102_0304),
            [2, 0, 0, 0, 1, 2, 3, 4]
        );
    }

    #[test]
    fn frames_concatenate() {
        let mut out = Vec::new();
        push_frame(&mut out, StreamKind::Stdout, b"hi\n");
        push_frame(&mut out, StreamKind::Stderr, b"");
        assert_eq!(
            out,
            [
                &[1, 0, 0, 0, 0, 0, 0, 3][..],
                b"hi\n",
                &[2, 0, 0, 0, 0, 0, 0, 0]
            ]
            .concat()
        );
    }
}
