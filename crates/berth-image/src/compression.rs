//! Detects and undoes stream compression in-process (never by spawning a binary).

use std::io::{BufRead, BufReader, Read};

use crate::{ImageError, Result};

/// Wraps `input` in the decompressor its magic bytes ask for (gzip, zstd), or passes
/// it through. xz and bzip2 are refused with a clear error.
pub fn decompress<'a>(input: Box<dyn Read + 'a>) -> Result<Box<dyn Read + 'a>> {
    let mut buf = BufReader::with_capacity(64 * 1024, input);
    let head = buf.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(buf)))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Ok(Box::new(zstd::stream::read::Decoder::with_buffer(buf)?))
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Err(ImageError::InvalidParameter(
            "xz-compressed archives are not supported; decompress first".to_owned(),
        ))
    } else if head.starts_with(b"BZh") {
        Err(ImageError::InvalidParameter(
            "bzip2-compressed archives are not supported; decompress first".to_owned(),
        ))
    } else {
        Ok(Box::new(buf))
    }
}
