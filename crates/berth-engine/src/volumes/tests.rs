use std::sync::Arc;

use super::*;

fn service(dir: &Path) -> VolumeService {
    VolumeService::open(dir).unwrap()
}

fn named(name: &str) -> VolumeCreate {
    VolumeCreate {
        name: Some(name.into()),
        ..Default::default()
    }
}

fn with_opts(name: &str, opts: &[(&str, &str)]) -> VolumeCreate {
    VolumeCreate {
        name: Some(name.into()),
        driver_opts: opts
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    }
}

/// (action, id, driver attribute) of every volume event so far.
fn volume_events(bus: &EventsBus) -> Vec<(String, String, String)> {
    bus.subscribe(Some(0))
        .backlog
        .iter()
        .filter(|e| e.typ == event_type::VOLUME)
        .map(|e| {
            (
                e.action.clone(),
                e.actor.id.clone(),
                e.actor
                    .attributes
                    .get("driver")
                    .cloned()
                    .unwrap_or_default(),
            )
        })
        .collect()
}

fn filters(args: &[&str]) -> Filters {
    Filters::from_cli_args(args.iter().copied()).unwrap()
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Detaches whatever a failed test left mounted under its directory.
struct Unmounter(PathBuf);

impl Drop for Unmounter {
    fn drop(&mut self) {
        for m in mounts::mounts_under(&self.0) {
            let _ = nix::mount::umount2(&m, nix::mount::MntFlags::MNT_DETACH);
        }
    }
}

#[test]
fn create_is_idempotent_and_publishes_once() {
    let dir = tempfile::tempdir().unwrap();
    let svc = service(dir.path());
    let bus = EventsBus::new();
    let mut req = named("data");
    req.labels.insert("team".into(), "a".into());
    let v = svc.create(req, &bus).unwrap();
    assert_eq!(v.name, "data");
    assert_eq!(v.driver, "local");
    assert_eq!(v.mountpoint, dir.path().join("volumes/data/_data"));
    assert!(v.mountpoint.is_dir());
    assert!(chrono::DateTime::parse_from_rfc3339(&v.created_at).is_ok());
    assert_eq!(v.labels["team"], "a");
    // Same name again: the existing volume, labels and all, and no second event.
    let again = svc.create(named("data"), &bus).unwrap();
    assert_eq!(again, v);
    assert_eq!(
        volume_events(&bus),
        [("create".into(), "data".into(), "local".into())]
    );
    assert_eq!(svc.get("data").unwrap(), v);
}

#[test]
fn anonymous_volumes_get_a_hex_name_and_the_label() {
    let dir = tempfile::tempdir().unwrap();
    let svc = service(dir.path());
    let bus = EventsBus::new();
    let a = svc.create(VolumeCreate::default(), &bus).unwrap();
    let b = svc
        .create(
            VolumeCreate {
                name: Some(String::new()),
                driver: Some("local".into()),
                ..Default::default()
            },
            &bus,
        )
        .unwrap();
    for v in [&a, &b] {
        assert_eq!(v.name.len(), 64);
        assert_eq!(v.labels.get(ANONYMOUS_LABEL).map(String::as_str), Some(""));
    }
    assert_ne!(a.name, b.name);
}

#[test]
fn bad_requests_fail_with_mobys_messages_and_kinds() {
    let dir = tempfile::tempdir().unwrap();
    let svc = service(dir.path());
    let bus = EventsBus::new();
    let err = svc.create(named("a/b"), &bus).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    assert!(
        err.to_string()
            .starts_with("create a/b: \"a/b\" includes invalid characters for a local volume name"),
        "{err}"
    );
    let err = svc.create(named("x"), &bus).unwrap_err();
    assert_eq!(
        err.to_string(),
        "create x: volume name is too short, names should be at least two alphanumeric characters"
    );
    let mut req = named("v1");
    req.driver = Some("nfsplug".into());
    let err = svc.create(req, &bus).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        err.to_string(),
        "create v1: error looking up volume plugin nfsplug: plugin \"nfsplug\" not found"
    );
    let err = svc
        .create(with_opts("v1", &[("foo", "1")]), &bus)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    assert_eq!(err.to_string(), "create v1: invalid option: \"foo\"");
    let err = svc.get("nope").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.to_string(), "get nope: no such volume");
    // Nothing was made by the refused requests.
    assert!(svc.list(&Filters::default()).unwrap().is_empty());
    assert_eq!(
        std::fs::read_dir(dir.path().join("volumes"))
            .unwrap()
            .count(),
        0
    );
    assert!(volume_events(&bus).is_empty());
}

#[test]
fn records_survive_a_reopen_and_references_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let bus = EventsBus::new();
    let created = {
        let svc = service(dir.path());
        let v = svc
            .create(with_opts("keep", &[("size", "0")]), &bus)
            .unwrap();
        svc.acquire("keep", "c1");
        v
    };
    let svc = service(dir.path());
    assert_eq!(svc.get("keep").unwrap(), created);
    assert!(svc.references("keep").is_empty());
}

#[test]
fn references_block_removal_even_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let svc = service(dir.path());
    let bus = EventsBus::new();
    svc.create(named("used"), &bus).unwrap();
    svc.acquire("used", "bbb");
    svc.acquire("used", "aaa");
    svc.acquire("used", "aaa");
    assert_eq!(svc.references("used"), ["aaa", "bbb"]);
    for force in [false, true] {
        let err = svc.remove("used", force, &bus).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert_eq!(
            err.to_string(),
            "remove used: volume is in use - [aaa, bbb]"
        );
    }
    svc.release("used", "aaa");
    svc.release("used", "bbb");
    svc.remove("used", false, &bus).unwrap();
    assert!(!dir.path().join("volumes/used").exists());
    assert_eq!(
        svc.remove("used", false, &bus).unwrap_err().to_string(),
        "get used: no such volume"
    );
    svc.remove("used", true, &bus).unwrap();
    assert_eq!(
        volume_events(&bus),
        [
            ("create".into(), "used".into(), "local".into()),
            ("destroy".into(), "used".into(), "local".into()),
        ]
    );
}

#[test]
fn list_filters_on_references_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    let svc = service(dir.path());
    let bus = EventsBus::new();
    let mut labelled = named("web-data");
    labelled.labels.insert("env".into(), "prod".into());
    svc.create(labelled, &bus).unwrap();
    svc.create(named("db-data"), &bus).unwrap();
    svc.acquire("db-data", "c1");
    let names = |args: &[&str]| -> Vec<String> {
        svc.list(&filters(args))
            .unwrap()
            .into_iter()
            .map(|v| v.name)
            .collect()
    };
    assert_eq!(names(&[]), ["db-data", "web-data"]);
    assert_eq!(names(&["dangling=true"]), ["web-data"]);
    assert_eq!(names(&["dangling=false"]), ["db-data"]);
    assert_eq!(names(&["label=env=prod"]), ["web-data"]);
    assert_eq!(names(&["name=db"]), ["db-data"]);
    svc.release("db-data", "c1");
    assert_eq!(names(&["dangling=true"]), ["db-data", "web-data"]);
    let err = svc.list(&filters(&["bogus=1"])).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    assert_eq!(err.to_string(), "invalid filter 'bogus'");
}

#[test]
fn prune_removes_unused_anonymous_volumes_and_counts_their_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let svc = service(dir.path());
    let bus = EventsBus::new();
    let anon = svc.create(VolumeCreate::default(), &bus).unwrap();
    std::fs::write(anon.mountpoint.join("f"), vec![1u8; 3000]).unwrap();
    let used = svc.create(VolumeCreate::default(), &bus).unwrap();
    svc.acquire(&used.name, "c1");
    let kept = svc.create(named("named"), &bus).unwrap();
    std::fs::write(kept.mountpoint.join("g"), vec![1u8; 10]).unwrap();
    svc.create(
        with_opts("tmp", &[("type", "tmpfs"), ("device", "tmpfs")]),
        &bus,
    )
    .unwrap();

    let (deleted, bytes) = svc.prune(&Filters::default(), &bus).unwrap();
    assert_eq!(deleted, std::slice::from_ref(&anon.name));
    assert_eq!(bytes, 3000);
    assert!(!anon.mountpoint.exists());
    let last = bus.subscribe(Some(0)).backlog.last().cloned().unwrap();
    assert_eq!(
        (last.action.as_str(), last.actor.id.as_str()),
        ("prune", "")
    );
    assert_eq!(last.actor.attributes["reclaimed"], "3000");

    let (deleted, bytes) = svc.prune(&filters(&["all=true"]), &bus).unwrap();
    assert_eq!(deleted, ["named"]);
    assert_eq!(bytes, 10);
    let left: Vec<String> = svc
        .list(&Filters::default())
        .unwrap()
        .into_iter()
        .map(|v| v.name)
        .collect();
    let mut expected = vec![used.name.clone(), "tmp".to_owned()];
    expected.sort();
    assert_eq!(left, expected);
    let err = svc.prune(&filters(&["until=1h"]), &bus).unwrap_err();
    assert_eq!(err.to_string(), "invalid filter 'until'");
}

#[test]
fn usage_and_disk_usage_measure_content() {
    let dir = tempfile::tempdir().unwrap();
    let svc = service(dir.path());
    let bus = EventsBus::new();
    let v = svc.create(named("sized"), &bus).unwrap();
    std::fs::create_dir(v.mountpoint.join("sub")).unwrap();
    std::fs::write(v.mountpoint.join("sub/f"), vec![0u8; 4097]).unwrap();
    svc.create(with_opts("opt", &[("size", "0")]), &bus)
        .unwrap();
    svc.acquire("sized", "c1");
    assert_eq!(svc.usage("sized").unwrap(), 4097);
    assert_eq!(svc.usage("none").unwrap_err().kind(), ErrorKind::NotFound);
    let du = svc.disk_usage();
    assert_eq!(du.len(), 1, "volumes with options are not listed: {du:?}");
    assert_eq!((du[0].size, du[0].ref_count), (4097, 1));
    assert_eq!(du[0].volume.name, "sized");
}

#[test]
fn references_are_safe_across_threads() {
    let dir = tempfile::tempdir().unwrap();
    let svc = Arc::new(service(dir.path()));
    let bus = Arc::new(EventsBus::new());
    svc.create(named("shared"), &bus).unwrap();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let svc = svc.clone();
            let bus = bus.clone();
            std::thread::spawn(move || {
                for i in 0..200 {
                    let id = format!("c{t}-{i}");
                    svc.acquire("shared", &id);
                    // Someone always holds a reference here, so removal must refuse.
                    assert!(svc.remove("shared", false, &bus).is_err());
                    svc.release("shared", &id);
                }
                svc.acquire("shared", &format!("keep{t}"));
                // Creating the same name from every thread makes it once.
                svc.create(named("racy"), &bus).unwrap();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(svc.references("shared").len(), 8);
    let creates = volume_events(&bus)
        .into_iter()
        .filter(|(a, id, _)| a == "create" && id == "racy")
        .count();
    assert_eq!(creates, 1);
}

#[test]
fn plain_volumes_mount_without_a_mount_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let svc = service(dir.path());
    let bus = EventsBus::new();
    let v = svc.create(named("plain"), &bus).unwrap();
    assert_eq!(svc.mount("plain", "c1").unwrap(), v.mountpoint);
    assert!(!mounts::is_mountpoint(&v.mountpoint));
    svc.unmount("plain", "c1");
    assert_eq!(
        svc.mount("gone", "c1").unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn tmpfs_volume_is_mounted_by_the_first_user_and_unmounted_by_the_last() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let _unmount = Unmounter(dir.path().to_owned());
    let svc = service(dir.path());
    let bus = EventsBus::new();
    let v = svc
        .create(
            with_opts(
                "mem",
                &[
                    ("type", "tmpfs"),
                    ("device", "tmpfs"),
                    ("o", "size=1m,mode=0750"),
                ],
            ),
            &bus,
        )
        .unwrap();
    let data = svc.mount("mem", "c1").unwrap();
    assert_eq!(data, v.mountpoint);
    let line = mountinfo_line(&data).expect("tmpfs mounted on _data");
    assert!(line.contains(" - tmpfs tmpfs "), "{line}");
    assert!(line.contains("size=1024k"), "{line}");
    svc.mount("mem", "c2").unwrap();
    svc.mount("mem", "c2").unwrap();
    svc.unmount("mem", "c1");
    assert!(mountinfo_line(&data).is_some(), "c2 still uses it");
    // In use by a mount: not removable even though nobody references it.
    assert!(svc.remove("mem", false, &bus).is_err());
    svc.unmount("mem", "c2");
    assert!(mountinfo_line(&data).is_none(), "the last unmount unmounts");
    // And again from scratch: a fresh tmpfs each time.
    svc.mount("mem", "c3").unwrap();
    assert!(mountinfo_line(&data).is_some());
    svc.unmount("mem", "c3");
    svc.remove("mem", false, &bus).unwrap();
    assert!(!data.exists());
}

#[test]
fn bind_backed_volume_shows_the_host_directory_and_removal_spares_it() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let _unmount = Unmounter(dir.path().to_owned());
    let host = dir.path().join("host");
    std::fs::create_dir(&host).unwrap();
    std::fs::write(host.join("precious"), b"keep me").unwrap();
    let svc = service(&dir.path().join("root"));
    let bus = EventsBus::new();
    svc.create(
        with_opts(
            "bound",
            &[
                ("type", "none"),
                ("device", host.to_str().unwrap()),
                ("o", "bind"),
            ],
        ),
        &bus,
    )
    .unwrap();
    let data = svc.mount("bound", "c1").unwrap();
    assert_eq!(std::fs::read(data.join("precious")).unwrap(), b"keep me");
    std::fs::write(data.join("new"), b"x").unwrap();
    // A mount left over from a daemon that went away is seen at open.
    let reopened = service(&dir.path().join("root"));
    reopened.remove("bound", false, &bus).unwrap();
    assert!(mountinfo_line(&data).is_none());
    assert_eq!(std::fs::read(host.join("precious")).unwrap(), b"keep me");
    assert_eq!(std::fs::read(host.join("new")).unwrap(), b"x");
}

#[test]
fn a_failing_device_mount_is_an_error_not_a_panic() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let _unmount = Unmounter(dir.path().to_owned());
    let svc = service(dir.path());
    let bus = EventsBus::new();
    svc.create(
        with_opts(
            "broken",
            &[("type", "tmpfs"), ("device", "tmpfs"), ("o", "size=lots")],
        ),
        &bus,
    )
    .unwrap();
    let err = svc.mount("broken", "c1").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Internal);
    assert!(
        err.to_string()
            .starts_with("failed to mount local volume: mount tmpfs:"),
        "{err}"
    );
    assert!(
        err.to_string()
            .ends_with("data: size=lots: invalid argument"),
        "{err}"
    );
    assert!(mountinfo_line(&dir.path().join("volumes/broken/_data")).is_none());
    // Nobody is left counted as a user: the volume can go.
    svc.remove("broken", false, &bus).unwrap();
}

fn mountinfo_line(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let target = path.to_str().unwrap();
    text.lines()
        .find(|l| l.split(' ').nth(4) == Some(target))
        .map(str::to_owned)
}

#[test]
fn a_volume_created_for_a_container_is_never_pruned_before_it_is_referenced() {
    let dir = tempfile::tempdir().unwrap();
    let svc = Arc::new(service(dir.path()));
    let bus = Arc::new(EventsBus::new());
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let pruner = {
        let (svc, bus, stop) = (svc.clone(), bus.clone(), stop.clone());
        std::thread::spawn(move || {
            let all = filters(&["all=true"]);
            while !stop.load(Ordering::Relaxed) {
                // Another prune may be running only in this thread: never a conflict.
                svc.prune(&all, &bus).unwrap();
            }
        })
    };
    for i in 0..200 {
        let id = format!("c{i}");
        let v = svc
            .create_acquired(VolumeCreate::default(), &id, &bus)
            .unwrap();
        assert_eq!(svc.references(&v.name), std::slice::from_ref(&id));
        assert!(svc.mount(&v.name, &id).is_ok(), "pruned while referenced");
        svc.unmount(&v.name, &id);
        svc.release(&v.name, &id);
    }
    stop.store(true, Ordering::Relaxed);
    pruner.join().unwrap();
    assert_eq!(
        svc.try_acquire("nope", "c1").unwrap_err().to_string(),
        "get nope: no such volume"
    );
    svc.create(named("named"), &bus).unwrap();
    svc.try_acquire("named", "c1").unwrap();
    assert_eq!(svc.references("named"), ["c1"]);
}
