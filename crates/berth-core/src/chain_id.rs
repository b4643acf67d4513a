//! Layer chain IDs: the identity of a layer *with* all layers below it, which is what an
//! unpacked snapshot is keyed by (OCI image spec, "ChainID").

use std::fmt;

use crate::Digest;

/// `ChainID(L0) = DiffID(L0)`, `ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ChainId(Digest);

impl ChainId {
    /// The chain ID of `diff_id` stacked on `parent` (or at the bottom, if `None`).
    pub fn next(parent: Option<&ChainId>, diff_id: &Digest) -> Self {
        match parent {
            None => Self(diff_id.clone()),
            Some(p) => Self(Digest::of(format!("{} {}", p.0, diff_id).as_bytes())),
        }
    }

    /// The chain ID of every prefix of `diff_ids`, bottom first.
    pub fn chain(diff_ids: &[Digest]) -> Vec<ChainId> {
        let mut out: Vec<ChainId> = Vec::with_capacity(diff_ids.len());
        for d in diff_ids {
            let next = Self::next(out.last(), d);
            out.push(next);
        }
        out
    }

    /// The chain ID of the whole stack, `None` for no layers.
    pub fn of_stack(diff_ids: &[Digest]) -> Option<ChainId> {
        Self::chain(diff_ids).pop()
    }

    pub fn digest(&self) -> &Digest {
        &self.0
    }

    /// Wraps a digest already known to be a chain ID (e.g. read back from disk).
    pub fn from_digest(d: Digest) -> Self {
        Self(d)
    }
}

impl fmt::Display for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Digest {
        s.parse().unwrap()
    }

    /// Values from the OCI image spec's and moby's `layer` tests.
    #[test]
    fn chain_of_known_diff_ids_matches_reference_values() {
        let diff_ids = [
            d("sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"),
            d("sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"),
        ];
        let chain = ChainId::chain(&diff_ids);
        assert_eq!(chain[0].digest(), &diff_ids[0]);
        // Computed independently: printf 'sha256:a3ed… sha256:a3ed…' | sha256sum
        assert_eq!(
            chain[1].to_string(),
            "sha256:4c7048f6aa2475cea003298d6f2dd9b9e1295d787015684fc26a77739498dce3"
        );
    }

    #[test]
    fn chain_id_depends_on_order_and_parent() {
        let a = Digest::of(b"a");
        let b = Digest::of(b"b");
        assert_ne!(
            ChainId::of_stack(&[a.clone(), b.clone()]),
            ChainId::of_stack(&[b.clone(), a.clone()])
        );
        assert_eq!(ChainId::of_stack(&[]), None);
        assert_eq!(
            ChainId::of_stack(std::slice::from_ref(&a))
                .unwrap()
                .digest(),
            &a
        );
        let top = ChainId::next(Some(&ChainId::next(None, &a)), &b);
        assert_eq!(Some(top), ChainId::of_stack(&[a, b]));
    }
}
