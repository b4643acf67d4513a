//! The image store end to end: import, list, inspect, history, tag, rmi, save and load with
//! the real docker CLI and berth; interop with skopeo and umoci; kill -9 during load.

use std::process::{Command, Output};

use berth_testkit::{busybox_tar, TestDaemon};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_berth");

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fails(out: Output) -> String {
    assert!(
        !out.status.success(),
        "expected failure, got:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn tar_path() -> String {
    busybox_tar().display().to_string()
}

fn run(cmd: &str, args: &[&str]) -> Output {
    Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"))
}

#[test]
fn docker_import_images_inspect_history_tag_rmi() {
    let d = TestDaemon::start(BIN);
    let id = ok(d.docker(&[
        "import",
        "-c",
        "CMD [\"sh\"]",
        "-c",
        "ENV A=b",
        "-m",
        "hello",
        &tar_path(),
        "busybox:latest",
    ]));
    let id = id.trim();
    assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
    let images = ok(d.docker(&["images"]));
    let header: Vec<&str> = images
        .lines()
        .next()
        .unwrap()
        .split("  ")
        .filter(|s| !s.is_empty())
        .map(str::trim)
        .collect();
    assert_eq!(header, ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]);
    assert!(
        images.contains("busybox") && images.contains(&id[7..19]),
        "{images}"
    );
    let inspect = ok(d.docker(&[
        "image",
        "inspect",
        "busybox",
        "--format",
        "{{.Id}}|{{json .Config.Cmd}}|{{.Comment}}|{{len .RootFS.Layers}}|{{.Os}}",
    ]));
    assert_eq!(inspect.trim(), format!("{id}|[\"sh\"]|hello|1|linux"));
    let env = ok(d.docker(&[
        "image",
        "inspect",
        "busybox",
        "--format",
        "{{json .Config.Env}}",
    ]));
    assert!(env.contains("A=b"), "{env}");
    let history = ok(d.docker(&["history", "busybox"]));
    assert!(
        history.lines().next().unwrap().starts_with("IMAGE"),
        "{history}"
    );
    assert!(history.contains("hello"), "{history}");

    ok(d.docker(&["tag", "busybox", "localhost:5000/bb:1"]));
    let tags = ok(d.docker(&["image", "inspect", id, "--format", "{{json .RepoTags}}"]));
    assert_eq!(tags.trim(), r#"["busybox:latest","localhost:5000/bb:1"]"#);
    // An ID with several tags is not removed without force.
    let err = fails(d.docker(&["rmi", &id[7..19]]));
    assert!(
        err.contains("must be forced") || err.contains("conflict"),
        "{err}"
    );
    let untag = ok(d.docker(&["rmi", "localhost:5000/bb:1"]));
    assert_eq!(untag.trim(), "Untagged: localhost:5000/bb:1");
    let gone = ok(d.docker(&["rmi", "busybox"]));
    assert!(
        gone.contains("Untagged: busybox:latest") && gone.contains(&format!("Deleted: {id}")),
        "{gone}"
    );
    let err = fails(d.docker(&["image", "inspect", "busybox"]));
    assert!(err.contains("No such image: busybox"), "{err}");
    assert_eq!(ok(d.docker(&["images", "-q"])), "");
}

#[test]
fn save_load_round_trip_keeps_ids_and_digests() {
    let d = TestDaemon::start(BIN);
    let id = d.load_busybox();
    ok(d.docker(&["tag", "busybox", "example/two:v2"]));
    let archive = d.dir().join("images.tar");
    ok(d.docker(&[
        "save",
        "-o",
        archive.to_str().unwrap(),
        "busybox",
        "example/two:v2",
    ]));
    let layers_before = ok(d.docker(&[
        "image",
        "inspect",
        "busybox",
        "--format",
        "{{json .RootFS.Layers}}",
    ]));
    ok(d.docker(&["rmi", "-f", &id]));
    assert_eq!(ok(d.docker(&["images", "-q"])), "");
    let loaded = ok(d.docker(&["load", "-i", archive.to_str().unwrap()]));
    assert!(loaded.contains("Loaded image: busybox:latest"), "{loaded}");
    assert!(loaded.contains("Loaded image: example/two:v2"), "{loaded}");
    assert_eq!(
        ok(d.docker(&["image", "inspect", "busybox", "--format", "{{.Id}}"])).trim(),
        id
    );
    assert_eq!(
        ok(d.docker(&[
            "image",
            "inspect",
            "busybox",
            "--format",
            "{{json .RootFS.Layers}}"
        ])),
        layers_before
    );

    // berth's own save | load through stdin/stdout.
    let out = d.berth(&["save", "busybox"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = out.stdout;
    let other = TestDaemon::start(BIN);
    let mut child = Command::new(BIN)
        .args(["-H", &other.host(), "load"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &bytes).unwrap();
    let out = ok(child.wait_with_output().unwrap());
    assert!(out.contains("Loaded image: busybox:latest"), "{out}");
    assert_eq!(
        ok(other.berth(&["image", "inspect", "busybox", "--format", "{{.Id}}"])).trim(),
        id
    );
    let table = ok(other.berth(&["images"]));
    assert!(
        table.starts_with("REPOSITORY   TAG       IMAGE ID       CREATED"),
        "{table}"
    );
}

#[test]
fn image_events_are_published() {
    let d = TestDaemon::start(BIN);
    let t0 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 1;
    let id = d.load_busybox();
    ok(d.docker(&["tag", "busybox", "x:1"]));
    ok(d.docker(&["rmi", "x:1"]));
    let archive = d.dir().join("e.tar");
    ok(d.docker(&["save", "-o", archive.to_str().unwrap(), "busybox"]));
    ok(d.docker(&["load", "-i", archive.to_str().unwrap()]));
    ok(d.docker(&["rmi", "-f", "busybox"]));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = ok(d.docker(&[
        "events",
        "--since",
        &t0.to_string(),
        "--until",
        "0s",
        "--filter",
        "type=image",
        "--format",
        "{{.Action}} {{.Actor.ID}}",
    ]));
    let actions: Vec<&str> = out.lines().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(
        actions,
        ["import", "tag", "untag", "save", "load", "untag", "delete"],
        "{out}"
    );
    assert!(out.lines().all(|l| l.ends_with(&id)), "{out}");
}

#[test]
fn skopeo_and_umoci_read_our_archives_and_we_read_theirs() {
    let d = TestDaemon::start(BIN);
    let id = d.load_busybox();
    let dir = d.dir();
    let ours = dir.join("ours.tar");
    ok(d.docker(&["save", "-o", ours.to_str().unwrap(), "busybox"]));
    let inspect = ok(run(
        "skopeo",
        &["inspect", &format!("docker-archive:{}", ours.display())],
    ));
    let v: Value = serde_json::from_str(&inspect).unwrap();
    assert_eq!(v["Os"], "linux");
    assert_eq!(v["Layers"].as_array().unwrap().len(), 1);
    // Our archive converts to an OCI layout that umoci accepts and unpacks.
    let layout = dir.join("layout");
    ok(run(
        "skopeo",
        &[
            "copy",
            &format!("docker-archive:{}", ours.display()),
            &format!("oci:{}:bb", layout.display()),
        ],
    ));
    let tags = ok(run("umoci", &["ls", "--layout", layout.to_str().unwrap()]));
    assert_eq!(tags.trim(), "bb");
    let bundle = dir.join("bundle");
    ok(run(
        "umoci",
        &[
            "unpack",
            "--image",
            &format!("{}:bb", layout.display()),
            bundle.to_str().unwrap(),
        ],
    ));
    assert!(bundle.join("rootfs/bin/busybox").exists());

    // Archives written by skopeo load. (skopeo rewrites the config when it converts to
    // OCI, so the image ID may change; the layers may not.)
    let layers = ok(d.docker(&[
        "image",
        "inspect",
        &id,
        "--format",
        "{{json .RootFS.Layers}}",
    ]));
    ok(d.docker(&["rmi", "-f", &id]));
    let docker_archive = dir.join("skopeo-docker.tar");
    let oci_archive = dir.join("skopeo-oci.tar");
    ok(run(
        "skopeo",
        &[
            "copy",
            &format!("oci:{}:bb", layout.display()),
            &format!("docker-archive:{}:busybox:latest", docker_archive.display()),
        ],
    ));
    ok(run(
        "skopeo",
        &[
            "copy",
            &format!("oci:{}:bb", layout.display()),
            &format!("oci-archive:{}:busybox:oci", oci_archive.display()),
        ],
    ));
    for archive in [&docker_archive, &oci_archive] {
        let out = ok(d.docker(&["load", "-i", archive.to_str().unwrap()]));
        assert!(out.contains("Loaded image"), "{out}");
    }
    for tag in ["busybox:latest", "busybox:oci"] {
        let loaded = ok(d.docker(&[
            "image",
            "inspect",
            tag,
            "--format",
            "{{json .RootFS.Layers}}",
        ]));
        assert_eq!(loaded, layers, "{tag}");
    }
}

#[test]
fn bad_input_gets_clear_errors() {
    let d = TestDaemon::start(BIN);
    let garbage = d.dir().join("garbage.tar");
    std::fs::write(
        &garbage,
        b"this is not a tar archive at all, not even close",
    )
    .unwrap();
    let err = fails(d.docker(&["load", "-i", garbage.to_str().unwrap()]));
    assert!(!err.is_empty());
    let r = d.http("GET", "/images/nope/json", &[], b"").unwrap();
    assert_eq!(r.status, 404);
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["message"], "No such image: nope:latest");
    let r = d
        .http(
            "GET",
            "/images/json?filters=%7B%22colour%22%3A%5B%22x%22%5D%7D",
            &[],
            b"",
        )
        .unwrap();
    assert_eq!(r.status, 400);
    let r = d.http("GET", "/images/get?names=nope", &[], b"").unwrap();
    assert_eq!(r.status, 404);
    assert_eq!(ok(d.docker(&["images", "-q"])), "");
    // A store with no images left behind no blobs from the failed load.
    let blobs = d.data_root.join("content/blobs/sha256");
    let count = std::fs::read_dir(&blobs).map(|r| r.count()).unwrap_or(0);
    assert_eq!(count, 0, "orphan blobs after a failed load");
}

#[test]
fn info_counts_images_and_names_the_driver() {
    let d = TestDaemon::start(BIN);
    d.load_busybox();
    let out = ok(d.docker(&["info", "--format", "{{.Images}} {{.Driver}}"]));
    let (count, driver) = out.trim().split_once(' ').unwrap();
    assert_eq!(count, "1");
    assert!(driver == "overlay2" || driver == "vfs", "{driver}");
}

#[test]
fn system_df_matches_docker_and_counts_shared_layers() {
    let d = TestDaemon::start(BIN);
    d.load_busybox();
    ok(d.docker(&["tag", "busybox", "second:1"]));
    let theirs = ok(d.docker(&["system", "df"]));
    let ours = ok(d.berth(&["system", "df"]));
    assert_eq!(ours, theirs);
    assert!(
        theirs
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("Images          1"),
        "{theirs}"
    );
    let verbose_theirs = ok(d.docker(&["system", "df", "-v"]));
    let verbose_ours = ok(d.berth(&["system", "df", "-v"]));
    let images_section = |s: &str| {
        s.lines()
            .take_while(|l| !l.starts_with("Containers space"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        images_section(&verbose_ours),
        images_section(&verbose_theirs)
    );
    let df: Value = serde_json::from_slice(
        &d.http("GET", "/system/df?type=image", &[], b"")
            .unwrap()
            .body,
    )
    .unwrap();
    // dockerd's layer size: the bytes of the files the layer holds, hard links once.
    let mut archive = tar::Archive::new(std::fs::File::open(busybox_tar()).unwrap());
    let file_bytes: u64 = archive
        .entries()
        .unwrap()
        .map(|e| e.unwrap().header().clone())
        .filter(|h| h.entry_type().is_file())
        .map(|h| h.size().unwrap())
        .sum();
    assert_eq!(
        df["LayersSize"].as_u64().unwrap(),
        file_bytes,
        "one layer, measured as dockerd measures it"
    );
    assert!(
        df.get("Containers").is_none(),
        "type=image narrows the answer"
    );
}

#[test]
fn list_filters_reference_dangling_and_until() {
    let d = TestDaemon::start(BIN);
    d.load_busybox();
    ok(d.docker(&["tag", "busybox", "other/name:2"]));
    let refs = ok(d.docker(&[
        "images",
        "--filter",
        "reference=other/*",
        "--format",
        "{{.Repository}}:{{.Tag}}",
    ]));
    assert_eq!(refs.trim(), "other/name:2");
    assert_eq!(
        ok(d.docker(&["images", "--filter", "dangling=true", "-q"])),
        ""
    );
    // Imported just now: created after an hour ago, before an hour from now.
    assert_eq!(ok(d.docker(&["images", "--filter", "until=1h", "-q"])), "");
    let later = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600)
        .to_string();
    assert_eq!(
        ok(d.docker(&["images", "--filter", &format!("until={later}"), "-q"]))
            .lines()
            .count(),
        2
    );
    let err = fails(d.docker(&["images", "--filter", "colour=red"]));
    assert!(err.contains("invalid filter 'colour'"), "{err}");
}

#[test]
fn import_streams_progress_and_ends_with_the_id() {
    let d = TestDaemon::start(BIN);
    let body = std::fs::read(busybox_tar()).unwrap();
    let r = d
        .http(
            "POST",
            "/images/create?fromSrc=-&repo=p&tag=1",
            &[("Content-Type", "application/x-tar")],
            &body,
        )
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    let msgs: Vec<Value> = r
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let progress: Vec<&Value> = msgs.iter().filter(|m| m["status"] == "Importing").collect();
    assert!(progress.len() >= 2, "{}", r.text());
    assert_eq!(
        progress.last().unwrap()["progressDetail"]["current"]
            .as_u64()
            .unwrap(),
        body.len() as u64
    );
    assert_eq!(
        progress[0]["progressDetail"]["total"].as_u64().unwrap(),
        body.len() as u64
    );
    let id = msgs.last().unwrap()["status"].as_str().unwrap();
    assert!(id.starts_with("sha256:"));
    // The CLIs print only the ID when not on a terminal.
    let ours = ok(d.berth(&["import", busybox_tar().to_str().unwrap(), "q:1"]));
    assert!(
        ours.trim().starts_with("sha256:") && ours.lines().count() == 1,
        "{ours}"
    );
}
