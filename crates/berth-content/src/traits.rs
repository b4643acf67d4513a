use std::collections::HashSet;
use std::io::{self, Read, Write};

use berth_core::Digest;

use crate::ContentError;

/// The cap for manifests, indexes and configs read into memory (containerd's
/// `MaxManifestSize`): untrusted documents must not exhaust memory.
pub const MAX_DOCUMENT_SIZE: u64 = 4 << 20;

/// What the store knows about a committed blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    pub digest: Digest,
    pub size: u64,
}

/// Read access to committed blobs.
pub trait Provider {
    /// A reader over the whole blob.
    fn open(&self, digest: &Digest) -> Result<Box<dyn Read + Send>, ContentError>;

    fn info(&self, digest: &Digest) -> Result<Info, ContentError>;

    fn exists(&self, digest: &Digest) -> bool {
        self.info(digest).is_ok()
    }

    /// Reads a small document (manifest, index, config) into memory, refusing blobs
    /// larger than `limit` before reading them.
    fn read_document(&self, digest: &Digest, limit: u64) -> Result<Vec<u8>, ContentError> {
        let info = self.info(digest)?;
        if info.size > limit {
            return Err(ContentError::TooLarge {
                what: digest.to_string(),
                limit,
            });
        }
        let mut buf = Vec::with_capacity(info.size as usize);
        self.open(digest)?.take(limit + 1).read_to_end(&mut buf)?;
        Ok(buf)
    }
}

/// An open write; bytes become a blob only through [`BlobWriter::commit`]. Dropping a
/// writer without committing discards what was written.
pub trait BlobWriter: Write + Send {
    /// Verifies size and digest when given, makes the blob durable and visible.
    /// Committing content that already exists succeeds and keeps the existing blob.
    fn commit(
        self: Box<Self>,
        expected_size: Option<u64>,
        expected_digest: Option<&Digest>,
    ) -> Result<Info, ContentError>;

    /// Bytes written so far.
    fn written(&self) -> u64;
}

/// Write access: stream new blobs in.
pub trait Ingester {
    fn writer(&self) -> Result<Box<dyn BlobWriter>, ContentError>;

    /// Streams `reader` into a new blob, failing with `TooLarge` once more than `limit`
    /// bytes arrive (if a limit is given).
    fn ingest(
        &self,
        reader: &mut dyn Read,
        limit: Option<u64>,
        expected_size: Option<u64>,
        expected_digest: Option<&Digest>,
    ) -> Result<Info, ContentError> {
        let mut w = self.writer()?;
        let copied = match limit {
            Some(l) => io::copy(&mut reader.take(l + 1), &mut w)?,
            None => io::copy(reader, &mut w)?,
        };
        if let Some(l) = limit.filter(|l| copied > *l) {
            return Err(ContentError::TooLarge {
                what: "blob".to_owned(),
                limit: l,
            });
        }
        w.commit(expected_size, expected_digest)
    }

    /// Stores an in-memory document.
    fn put_bytes(&self, bytes: &[u8]) -> Result<Info, ContentError> {
        let mut w = self.writer()?;
        w.write_all(bytes)?;
        w.commit(Some(bytes.len() as u64), None)
    }
}

/// Housekeeping over committed blobs.
pub trait Manager {
    fn delete(&self, digest: &Digest) -> Result<(), ContentError>;

    fn list(&self) -> Result<Vec<Info>, ContentError>;

    /// Deletes every blob not in `keep`; returns what was removed.
    fn gc(&self, keep: &HashSet<Digest>) -> Result<Vec<Digest>, ContentError> {
        let mut removed = Vec::new();
        for info in self.list()? {
            if !keep.contains(&info.digest) {
                match self.delete(&info.digest) {
                    Ok(()) | Err(ContentError::NotFound(_)) => removed.push(info.digest),
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(removed)
    }
}

/// Everything a full content store offers.
pub trait Store: Provider + Ingester + Manager + Send + Sync {}

impl<T: Provider + Ingester + Manager + Send + Sync> Store for T {}
