//! What the image routes need from the engine, and nothing more (moby's `backend.go`).
//! The engine implements it; tests can use a fake.

use std::io::{Read, Write};

use berth_api::models::{HistoryResponseItem, ImageDeleteResponseItem, ImageSummary};
use berth_api::Filters;
use berth_core::ErrorKind;

/// An error from the image backend: a kind (→ HTTP status) and Docker's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BackendError {
    pub kind: ErrorKind,
    pub message: String,
}

impl BackendError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    pub all: bool,
    pub digests: bool,
    pub shared_size: bool,
    pub filters: Filters,
}

/// Import options are the image store's own.
pub use berth_image::ImportOptions;

/// What `prune` removed.
#[derive(Debug, Clone, Default)]
pub struct PruneReport {
    pub deleted: Vec<ImageDeleteResponseItem>,
    pub space_reclaimed: u64,
}

pub trait ImageBackend: Send + Sync {
    fn list(&self, opts: &ListOptions) -> Result<Vec<ImageSummary>, BackendError>;
    /// `GET /images/{name}/json` (built as JSON: the swagger model lacks legacy fields).
    fn inspect(&self, name: &str) -> Result<serde_json::Value, BackendError>;
    fn history(&self, name: &str) -> Result<Vec<HistoryResponseItem>, BackendError>;
    fn tag(&self, source: &str, repo: &str, tag: &str) -> Result<(), BackendError>;
    fn remove(
        &self,
        name: &str,
        force: bool,
        prune: bool,
    ) -> Result<Vec<ImageDeleteResponseItem>, BackendError>;
    fn prune(&self, filters: &Filters) -> Result<PruneReport, BackendError>;
    /// Imports a rootfs tar; returns the new image ID.
    fn import(&self, src: &mut dyn Read, opts: &ImportOptions) -> Result<String, BackendError>;
    /// Fails with NotFound before writing anything if a name does not resolve.
    fn check_exist(&self, names: &[String]) -> Result<(), BackendError>;
    fn save(&self, names: &[String], out: &mut dyn Write) -> Result<(), BackendError>;
    /// Loads an archive; returns Docker's `Loaded image: …` / `Loaded image ID: …` lines.
    fn load(&self, src: &mut dyn Read, quiet: bool) -> Result<Vec<String>, BackendError>;
}
