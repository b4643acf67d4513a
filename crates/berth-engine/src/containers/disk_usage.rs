//! Containers' disk usage (`SizeRw`, `SizeRootFs`) for `ps -s`, `inspect --size`,
//! `system df` and `container prune`, as dockerd measures it (the apparent size of the
//! files in the writable layer; plus the image's layers for `SizeRootFs`).
//!
//! Walking every writable layer on every call is what makes dockerd's `system df` slow
//! with many containers. A stopped container's layer only changes when it runs again or
//! when something writes into it from outside (an archive PUT), so its size is kept,
//! stamped with the state that measured it; a run changes `StartedAt`/`FinishedAt`, which
//! voids the stamp, and outside writers call [`SizeCache::invalidate`]. A container that
//! is running (or paused, or restarting) is measured on every call.

use std::collections::HashMap;
use std::sync::Mutex;

use super::lock;
use super::record::{ContainerRecord, Status};
use crate::engine::Engine;

/// `SizeRw` and `SizeRootFs` of one container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sizes {
    pub rw: u64,
    pub root_fs: u64,
}

/// What a measurement was taken under: any change to it means the layer may differ.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    status: Status,
    started_at: String,
    finished_at: String,
}

impl Stamp {
    fn of(rec: &ContainerRecord) -> Self {
        Self {
            status: rec.state.status,
            started_at: rec.state.started_at.clone(),
            finished_at: rec.state.finished_at.clone(),
        }
    }

    /// Whether the layer can change under this state without the stamp changing.
    fn live(&self) -> bool {
        matches!(
            self.status,
            Status::Running | Status::Paused | Status::Restarting | Status::Removing
        )
    }
}

#[derive(Default)]
struct Entry {
    /// Bumped by every invalidation, so a measurement that raced one is not kept.
    generation: u64,
    measured: Option<(Stamp, u64)>,
}

/// Writable-layer sizes of stopped containers, and image sizes (immutable per ID).
#[derive(Default)]
pub struct SizeCache {
    containers: Mutex<HashMap<String, Entry>>,
    images: Mutex<HashMap<String, u64>>,
}

impl SizeCache {
    /// Forgets the size of container `id`: its writable layer was written from outside.
    pub fn invalidate(&self, id: &str) {
        let mut map = lock(&self.containers);
        let e = map.entry(id.to_owned()).or_default();
        e.generation += 1;
        e.measured = None;
    }

    /// Drops what is kept about a removed container.
    pub(crate) fn forget(&self, id: &str) {
        lock(&self.containers).remove(id);
    }

    /// The size of `rec`'s writable layer: kept, or measured (and kept when the container
    /// is stopped and the measurement worked: a layer not there yet reads as 0, for now).
    fn size_rw(&self, rec: &ContainerRecord, measure: impl FnOnce() -> Option<u64>) -> u64 {
        let stamp = Stamp::of(rec);
        let generation = {
            let map = lock(&self.containers);
            match map.get(&rec.id) {
                Some(Entry {
                    measured: Some((s, size)),
                    ..
                }) if *s == stamp && !stamp.live() => return *size,
                Some(e) => e.generation,
                None => 0,
            }
        };
        let Some(size) = measure() else {
            return 0;
        };
        if !stamp.live() {
            let mut map = lock(&self.containers);
            let e = map.entry(rec.id.clone()).or_default();
            if e.generation == generation {
                e.measured = Some((stamp, size));
            }
        }
        size
    }

    fn image_size(&self, engine: &Engine, image: &str) -> u64 {
        if let Some(s) = lock(&self.images).get(image) {
            return *s;
        }
        match engine.images.resolve(image) {
            Ok(i) => {
                lock(&self.images).insert(image.to_owned(), i.size);
                i.size
            }
            Err(_) => 0,
        }
    }
}

/// The sizes of one container.
pub fn sizes(engine: &Engine, rec: &ContainerRecord) -> Sizes {
    let cache = &engine.containers.size_cache;
    let rw = cache.size_rw(rec, || engine.images.layers().snapshot_size(&rec.id).ok());
    Sizes {
        rw,
        root_fs: rw + cache.image_size(engine, &rec.image),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(status: Status, started: &str) -> ContainerRecord {
        let mut r: ContainerRecord = serde_json::from_value(serde_json::json!({
            "id": "c1", "name": "n", "created": "", "image": "", "config": {},
            "host_config": {}, "path": "", "args": [],
            "state": serde_json::to_value(crate::containers::State::default()).unwrap(),
            "restart_count": 0,
            "manually_stopped": false, "driver": "overlay2", "log_path": "",
        }))
        .unwrap();
        r.state.status = status;
        r.state.started_at = started.to_owned();
        r
    }

    #[test]
    fn a_stopped_container_is_measured_once_until_something_changes() {
        let cache = SizeCache::default();
        let calls = std::cell::Cell::new(0);
        let measure = |n: u64| {
            calls.set(calls.get() + 1);
            Some(n)
        };
        let stopped = record(Status::Exited, "t1");
        assert_eq!(cache.size_rw(&stopped, || measure(10)), 10);
        assert_eq!(cache.size_rw(&stopped, || measure(99)), 10);
        assert_eq!(calls.get(), 1);
        // Ran again: a new start time voids the stamp.
        let again = record(Status::Exited, "t2");
        assert_eq!(cache.size_rw(&again, || measure(20)), 20);
        // Written from outside.
        cache.invalidate("c1");
        assert_eq!(cache.size_rw(&again, || measure(30)), 30);
        assert_eq!(calls.get(), 3);
    }

    #[test]
    fn a_running_container_is_measured_every_time() {
        let cache = SizeCache::default();
        let running = record(Status::Running, "t1");
        assert_eq!(cache.size_rw(&running, || Some(1)), 1);
        assert_eq!(cache.size_rw(&running, || Some(2)), 2);
    }

    #[test]
    fn a_measurement_racing_an_invalidation_is_not_kept() {
        let cache = SizeCache::default();
        let stopped = record(Status::Exited, "t1");
        let racing = || {
            cache.invalidate("c1");
            Some(5)
        };
        assert_eq!(cache.size_rw(&stopped, racing), 5);
        assert_eq!(cache.size_rw(&stopped, || Some(6)), 6);
    }

    #[test]
    fn a_failed_measurement_is_not_kept() {
        let cache = SizeCache::default();
        let created = record(Status::Created, "");
        assert_eq!(cache.size_rw(&created, || None), 0);
        assert_eq!(cache.size_rw(&created, || Some(7)), 7);
    }
}
