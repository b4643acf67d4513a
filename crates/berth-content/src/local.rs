//! The on-disk store: `blobs/sha256/<hex>` for committed blobs, `ingest/<random>` for
//! writes in progress. A blob reaches `blobs/` only by an atomic rename after its size
//! and digest were verified and its data fsynced, so `blobs/` never holds partial data.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use berth_core::{Digest, Sha256Writer};

use crate::{BlobWriter, ContentError, Info, Ingester, Manager, Provider};

/// A content store rooted at a directory (the engine passes `<data-root>/content`).
#[derive(Debug, Clone)]
pub struct LocalStore {
    blobs: PathBuf,
    ingest: PathBuf,
}

impl LocalStore {
    /// Opens (creating if needed) the store and repairs what a crash may have left:
    /// every ingest file is discarded (no write survives a restart), and any file in
    /// `blobs/sha256` whose name is not a digest is removed.
    pub fn open(root: &Path) -> Result<Self, ContentError> {
        let store = Self {
            blobs: root.join("blobs").join(Digest::ALGORITHM),
            ingest: root.join("ingest"),
        };
        fs::create_dir_all(&store.blobs)?;
        fs::create_dir_all(&store.ingest)?;
        store.repair()?;
        Ok(store)
    }

    fn repair(&self) -> Result<(), ContentError> {
        for entry in fs::read_dir(&self.ingest)? {
            let entry = entry?;
            tracing::info!(path = %entry.path().display(), "removing stale ingest");
            remove_any(&entry.path())?;
        }
        for entry in fs::read_dir(&self.blobs)? {
            let entry = entry?;
            let name = entry.file_name();
            let valid = name.to_str().is_some_and(|n| Digest::from_hex(n).is_ok())
                && entry.file_type()?.is_file();
            if !valid {
                tracing::warn!(path = %entry.path().display(), "removing stray entry in blob dir");
                remove_any(&entry.path())?;
            }
        }
        sync_dir(&self.ingest)?;
        sync_dir(&self.blobs)?;
        Ok(())
    }

    /// Where a committed blob lives (whether or not it exists).
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.blobs.join(digest.hex())
    }

    /// Re-hashes a blob; a blob whose content no longer matches its name is deleted
    /// and reported as `DigestMismatch`.
    pub fn verify(&self, digest: &Digest) -> Result<Info, ContentError> {
        let mut w = Sha256Writer::new(io::sink());
        io::copy(&mut self.open(digest)?, &mut w)?;
        let size = w.written();
        let (actual, _) = w.finish();
        if &actual != digest {
            fs::remove_file(self.blob_path(digest))?;
            return Err(ContentError::DigestMismatch {
                expected: digest.clone(),
                actual,
            });
        }
        Ok(Info {
            digest: actual,
            size,
        })
    }
}

fn remove_any(p: &Path) -> io::Result<()> {
    if p.is_dir() && !p.is_symlink() {
        fs::remove_dir_all(p)
    } else {
        fs::remove_file(p)
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn not_found(digest: &Digest) -> impl FnOnce(io::Error) -> ContentError + '_ {
    move |e| match e.kind() {
        io::ErrorKind::NotFound => ContentError::NotFound(digest.clone()),
        _ => ContentError::Io(e),
    }
}

impl Provider for LocalStore {
    fn open(&self, digest: &Digest) -> Result<Box<dyn Read + Send>, ContentError> {
        let f = File::open(self.blob_path(digest)).map_err(not_found(digest))?;
        Ok(Box::new(f))
    }

    fn info(&self, digest: &Digest) -> Result<Info, ContentError> {
        let md = fs::metadata(self.blob_path(digest)).map_err(not_found(digest))?;
        Ok(Info {
            digest: digest.clone(),
            size: md.len(),
        })
    }
}

impl Ingester for LocalStore {
    fn writer(&self) -> Result<Box<dyn BlobWriter>, ContentError> {
        let name: [u8; 16] = rand::random();
        let path = self.ingest.join(hex::encode(name));
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        Ok(Box::new(LocalWriter {
            inner: Some(Sha256Writer::new(file)),
            path,
            store: self.clone(),
        }))
    }
}

impl Manager for LocalStore {
    fn delete(&self, digest: &Digest) -> Result<(), ContentError> {
        fs::remove_file(self.blob_path(digest)).map_err(not_found(digest))?;
        sync_dir(&self.blobs)?;
        Ok(())
    }

    fn list(&self) -> Result<Vec<Info>, ContentError> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.blobs)? {
            let entry = entry?;
            let Some(digest) = entry
                .file_name()
                .to_str()
                .and_then(|n| Digest::from_hex(n).ok())
            else {
                continue;
            };
            out.push(Info {
                digest,
                size: entry.metadata()?.len(),
            });
        }
        out.sort_by(|a, b| a.digest.cmp(&b.digest));
        Ok(out)
    }
}

/// A write in progress into an ingest file.
pub struct LocalWriter {
    inner: Option<Sha256Writer<File>>,
    path: PathBuf,
    store: LocalStore,
}

impl Write for LocalWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.inner {
            Some(w) => w.write(buf),
            None => Err(io::Error::other("writer already committed")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.inner {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

impl BlobWriter for LocalWriter {
    fn commit(
        mut self: Box<Self>,
        expected_size: Option<u64>,
        expected_digest: Option<&Digest>,
    ) -> Result<Info, ContentError> {
        let w = self
            .inner
            .take()
            .ok_or_else(|| io::Error::other("writer already committed"))?;
        let size = w.written();
        let (digest, file) = w.finish();
        if let Some(expected) = expected_size.filter(|e| *e != size) {
            return Err(ContentError::SizeMismatch {
                expected,
                actual: size,
            });
        }
        if let Some(expected) = expected_digest.filter(|e| **e != digest) {
            return Err(ContentError::DigestMismatch {
                expected: expected.clone(),
                actual: digest,
            });
        }
        file.sync_all()?;
        drop(file);
        let target = self.store.blob_path(&digest);
        if target.exists() {
            // Same digest, same bytes: keep the blob that is already durable.
            return Ok(Info { digest, size });
        }
        fs::rename(&self.path, &target)?;
        sync_dir(&self.store.blobs)?;
        Ok(Info { digest, size })
    }

    fn written(&self) -> u64 {
        self.inner.as_ref().map_or(0, Sha256Writer::written)
    }
}

impl Drop for LocalWriter {
    fn drop(&mut self) {
        // After a successful rename the file is gone and this is a no-op.
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testsuite;

    fn fresh() -> (LocalStore, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        (LocalStore::open(&dir.path().join("content")).unwrap(), dir)
    }

    #[test]
    fn local_store_passes_the_conformance_suite() {
        testsuite::run_all(&|| {
            let (s, d) = fresh();
            (s, Box::new(d) as Box<dyn std::any::Any>)
        });
    }

    #[test]
    fn reopening_after_a_crash_discards_partial_writes_and_keeps_blobs() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("content");
        let store = LocalStore::open(&root).unwrap();
        let kept = store.put_bytes(b"committed before the crash").unwrap();

        // A writer that never commits nor drops (the process died mid-write).
        let mut w = store.writer().unwrap();
        w.write_all(b"half a layer").unwrap();
        std::mem::forget(w);
        // Other debris a crash may leave: an ingest file written by an older build, an
        // ingest directory, and a temp file next to the blobs.
        fs::write(root.join("ingest/leftover"), b"partial").unwrap();
        fs::create_dir_all(root.join("ingest/olddir/sub")).unwrap();
        fs::write(root.join("blobs/sha256/.tmp-123"), b"junk").unwrap();
        assert_eq!(fs::read_dir(root.join("ingest")).unwrap().count(), 3);

        let reopened = LocalStore::open(&root).unwrap();
        assert_eq!(fs::read_dir(root.join("ingest")).unwrap().count(), 0);
        assert!(!root.join("blobs/sha256/.tmp-123").exists());
        assert_eq!(reopened.list().unwrap(), vec![kept.clone()]);
        assert_eq!(
            reopened.read_document(&kept.digest, 1024).unwrap(),
            b"committed before the crash"
        );
    }

    #[test]
    fn verify_deletes_a_blob_corrupted_on_disk() {
        let (store, _d) = fresh();
        let info = store.put_bytes(b"original").unwrap();
        assert_eq!(store.verify(&info.digest).unwrap(), info);
        fs::write(store.blob_path(&info.digest), b"bitrot!!").unwrap();
        assert!(matches!(
            store.verify(&info.digest),
            Err(ContentError::DigestMismatch { .. })
        ));
        assert!(!store.exists(&info.digest));
    }
}
