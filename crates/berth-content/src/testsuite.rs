//! Conformance checks every [`Store`] implementation must pass (containerd's
//! `content/testsuite` in spirit). Call [`run_all`] from a test with a factory that
//! returns a fresh, empty store and a guard that keeps its backing alive.

use std::any::Any;
use std::collections::HashSet;
use std::io::{Read, Write};

use berth_core::Digest;

use crate::{ContentError, Store};

/// A fresh empty store plus whatever must outlive it (e.g. a temp dir).
pub type Factory<'a, S> = &'a dyn Fn() -> (S, Box<dyn Any>);

/// A named conformance check.
type Check<S> = (&'static str, fn(&S));

/// Runs every check, each on its own fresh store. Panics on the first failure.
pub fn run_all<S: Store>(make: Factory<'_, S>) {
    let checks: [Check<S>; 9] = [
        ("write_then_read", write_then_read),
        ("blob_invisible_until_commit", blob_invisible_until_commit),
        ("commit_rejects_wrong_digest", commit_rejects_wrong_digest),
        ("commit_rejects_wrong_size", commit_rejects_wrong_size),
        (
            "commit_of_existing_blob_succeeds",
            commit_of_existing_blob_succeeds,
        ),
        (
            "dropped_writer_leaves_nothing",
            dropped_writer_leaves_nothing,
        ),
        ("delete_and_not_found", delete_and_not_found),
        ("gc_keeps_only_the_kept", gc_keeps_only_the_kept),
        ("document_cap_is_enforced", document_cap_is_enforced),
    ];
    for (name, check) in checks {
        let (store, _guard) = make();
        tracing::debug!(check = name, "content conformance");
        check(&store);
    }
}

fn write_then_read<S: Store>(s: &S) {
    let data = b"hello content store".repeat(1000);
    let info = s.ingest(&mut &data[..], None, None, None).unwrap();
    assert_eq!(info.digest, Digest::of(&data));
    assert_eq!(info.size, data.len() as u64);
    assert_eq!(s.info(&info.digest).unwrap(), info);
    let mut back = Vec::new();
    s.open(&info.digest)
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert_eq!(back, data);
    assert_eq!(s.list().unwrap(), vec![info]);
}

fn blob_invisible_until_commit<S: Store>(s: &S) {
    let mut w = s.writer().unwrap();
    w.write_all(b"pending").unwrap();
    let d = Digest::of(b"pending");
    assert!(!s.exists(&d), "uncommitted data must not be readable");
    assert!(s.list().unwrap().is_empty());
    w.commit(Some(7), Some(&d)).unwrap();
    assert!(s.exists(&d));
}

fn commit_rejects_wrong_digest<S: Store>(s: &S) {
    let wrong = Digest::of(b"something else");
    let err = s
        .ingest(&mut &b"payload"[..], None, None, Some(&wrong))
        .unwrap_err();
    assert!(matches!(err, ContentError::DigestMismatch { .. }), "{err}");
    assert!(s.list().unwrap().is_empty());
}

fn commit_rejects_wrong_size<S: Store>(s: &S) {
    let err = s
        .ingest(&mut &b"payload"[..], None, Some(3), None)
        .unwrap_err();
    assert!(
        matches!(
            err,
            ContentError::SizeMismatch {
                expected: 3,
                actual: 7
            }
        ),
        "{err}"
    );
    assert!(s.list().unwrap().is_empty());
}

fn commit_of_existing_blob_succeeds<S: Store>(s: &S) {
    let a = s.put_bytes(b"same").unwrap();
    let b = s.put_bytes(b"same").unwrap();
    assert_eq!(a, b);
    assert_eq!(s.list().unwrap().len(), 1);
}

fn dropped_writer_leaves_nothing<S: Store>(s: &S) {
    let mut w = s.writer().unwrap();
    w.write_all(b"abandoned").unwrap();
    assert_eq!(w.written(), 9);
    drop(w);
    assert!(s.list().unwrap().is_empty());
    assert!(!s.exists(&Digest::of(b"abandoned")));
}

fn delete_and_not_found<S: Store>(s: &S) {
    let info = s.put_bytes(b"to delete").unwrap();
    s.delete(&info.digest).unwrap();
    assert!(matches!(
        s.info(&info.digest),
        Err(ContentError::NotFound(_))
    ));
    assert!(matches!(
        s.open(&info.digest),
        Err(ContentError::NotFound(_))
    ));
    assert!(matches!(
        s.delete(&info.digest),
        Err(ContentError::NotFound(_))
    ));
    assert_eq!(
        s.info(&info.digest).unwrap_err().kind(),
        berth_core::ErrorKind::NotFound
    );
}

fn gc_keeps_only_the_kept<S: Store>(s: &S) {
    let keep = s.put_bytes(b"keep me").unwrap().digest;
    let drop1 = s.put_bytes(b"drop me").unwrap().digest;
    let drop2 = s.put_bytes(b"drop me too").unwrap().digest;
    let mut removed = s.gc(&HashSet::from([keep.clone()])).unwrap();
    removed.sort();
    let mut expected = vec![drop1, drop2];
    expected.sort();
    assert_eq!(removed, expected);
    assert_eq!(s.list().unwrap().len(), 1);
    assert!(s.exists(&keep));
}

fn document_cap_is_enforced<S: Store>(s: &S) {
    let big = vec![b'x'; 2048];
    let info = s.put_bytes(&big).unwrap();
    assert!(matches!(
        s.read_document(&info.digest, 1024),
        Err(ContentError::TooLarge { .. })
    ));
    assert_eq!(s.read_document(&info.digest, 4096).unwrap(), big);
    let err = s.ingest(&mut &big[..], Some(1024), None, None).unwrap_err();
    assert!(matches!(err, ContentError::TooLarge { .. }));
    assert_eq!(
        s.list().unwrap().len(),
        1,
        "an over-limit ingest must not commit"
    );
}
