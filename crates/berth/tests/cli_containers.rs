//! The container commands of `berth` end to end, against a berth daemon, next to the real
//! docker CLI: both must print the same and exit the same (`run`, exit statuses, stdin,
//! `ps`, `logs`, `exec`, `stop`, `rm`).

use std::io::Write;
use std::process::{Command, Output, Stdio};

use berth_testkit::check::{ok, text};
use berth_testkit::TestDaemon;

const BIN: &str = env!("CARGO_BIN_EXE_berth");

fn daemon() -> TestDaemon {
    let d = TestDaemon::start(BIN);
    d.load_busybox();
    d
}

/// stderr with the program's name made neutral, so docker's and berth's compare.
fn neutral_stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr)
        .replace("docker", "CLI")
        .replace("berth", "CLI")
}

/// Runs the same command through both CLIs and asserts the same result.
fn same(d: &TestDaemon, args: &[&str]) -> Output {
    let theirs = d.docker(args);
    let ours = d.berth(args);
    assert_eq!(
        ours.status.code(),
        theirs.status.code(),
        "{args:?}\nberth: {}\ndocker: {}",
        text(&ours),
        text(&theirs)
    );
    assert_eq!(
        ours.stdout,
        theirs.stdout,
        "{args:?}\nberth: {}\ndocker: {}",
        text(&ours),
        text(&theirs)
    );
    assert_eq!(neutral_stderr(&ours), neutral_stderr(&theirs), "{args:?}");
    ours
}

fn with_stdin(d: &TestDaemon, program: &str, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(program)
        .arg("-H")
        .arg(d.host())
        .args(args)
        .env("DOCKER_CLI_HINTS", "false")
        .env("DOCKER_CONFIG", d.dir().join("docker-config"))
        .env_remove("DOCKER_HOST")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// Cells of a table row: columns are separated by at least two spaces... except that
/// docker pads to three, and single spaces appear inside cells.
fn cells(line: &str) -> Vec<String> {
    line.split("   ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn run_rm_echo_prints_and_exits_zero() {
    let d = daemon();
    let out = same(&d, &["run", "--rm", "busybox", "echo", "hello", "world"]);
    assert_eq!(out.stdout, b"hello world\n");
    let out = same(
        &d,
        &[
            "run",
            "--rm",
            "busybox",
            "sh",
            "-c",
            "echo out; echo err >&2",
        ],
    );
    assert_eq!(out.stdout, b"out\n");
    assert_eq!(out.stderr, b"err\n");
    // Nothing is left behind by --rm.
    assert_eq!(ok(d.docker(&["ps", "-aq"])), "");
}

#[test]
fn exit_statuses_follow_docker() {
    let d = daemon();
    let out = same(&d, &["run", "--rm", "busybox", "sh", "-c", "exit 3"]);
    assert_eq!(out.status.code(), Some(3));
    let out = same(&d, &["run", "--rm", "busybox", "nosuchcommand"]);
    assert_eq!(out.status.code(), Some(127));
    assert!(
        neutral_stderr(&out).starts_with("CLI: Error response from daemon:"),
        "{}",
        text(&out)
    );
    let out = same(&d, &["run", "--rm", "busybox", "/etc"]);
    assert_eq!(out.status.code(), Some(126));
    let out = same(&d, &["run", "--bogus-flag", "busybox"]);
    assert_eq!(out.status.code(), Some(125));
    let out = same(&d, &["run", "--pull=never", "nosuchimage"]);
    assert_eq!(out.status.code(), Some(125));
}

#[test]
fn interactive_stdin_reaches_the_container() {
    let d = daemon();
    let input = b"line one\nline two\n";
    let args = ["run", "--rm", "-i", "busybox", "sh", "-c", "cat; echo done"];
    let theirs = with_stdin(&d, berth_testkit::DOCKER_CLI, &args, input);
    let ours = with_stdin(&d, BIN, &args, input);
    assert!(ours.status.success(), "{}", text(&ours));
    assert_eq!(ours.stdout, b"line one\nline two\ndone\n");
    assert_eq!(ours.stdout, theirs.stdout);
}

#[test]
fn ps_shows_docker_columns() {
    let d = daemon();
    ok(d.docker(&["run", "-d", "--name", "sleeper", "busybox", "sleep", "300"]));
    ok(d.docker(&[
        "create",
        "--name",
        "fresh",
        "busybox",
        "echo",
        "hello world this is long",
    ]));
    let _ = d.docker(&["run", "--name", "three", "busybox", "sh", "-c", "exit 3"]);
    same(
        &d,
        &[
            "ps",
            "-a",
            "--format",
            "{{.ID}}|{{.Image}}|{{.Command}}|{{.Names}}|{{.State}}|{{.Ports}}",
        ],
    );
    same(&d, &["ps", "-q"]);
    same(&d, &["ps", "-aq", "--no-trunc"]);
    same(
        &d,
        &[
            "ps",
            "-a",
            "--filter",
            "name=fresh",
            "--format",
            "{{.Names}} {{.Status}}",
        ],
    );
    let table = ok(d.berth(&["ps", "-a"]));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        cells(lines[0]),
        [
            "CONTAINER ID",
            "IMAGE",
            "COMMAND",
            "CREATED",
            "STATUS",
            "PORTS",
            "NAMES"
        ]
    );
    // Same rows, same column positions. An age that ticks between the two calls ("Less
    // than a second" → "1 second") widens a column in one table only, so the pair is
    // taken again until both show the same ages.
    let (table, docker_table) = (0..5)
        .map(|_| (ok(d.berth(&["ps", "-a"])), ok(d.docker(&["ps", "-a"]))))
        .find(|(ours, theirs)| {
            ours.lines()
                .zip(theirs.lines())
                .all(|(o, t)| cells(o).get(3..5) == cells(t).get(3..5))
        })
        .expect("berth and docker ps never showed the same ages");
    let lines: Vec<&str> = table.lines().collect();
    for (ours, theirs) in lines.iter().zip(docker_table.lines()) {
        assert_eq!(
            &cells(ours)[..3],
            &cells(theirs)[..3],
            "{table}\n{docker_table}"
        );
        assert_eq!(ours.find("NAMES"), theirs.find("NAMES"));
    }
    assert!(table.contains("\"echo 'hello world t…\""), "{table}");
    assert!(table.contains("Exited (3)"), "{table}");
    assert!(table.contains("Up "), "{table}");
    ok(d.docker(&["rm", "-f", "sleeper", "fresh", "three"]));
}

#[test]
fn logs_split_streams_and_take_flags() {
    let d = daemon();
    ok(d.docker(&[
        "run",
        "--name",
        "talker",
        "busybox",
        "sh",
        "-c",
        "echo one; echo two >&2; echo three",
    ]));
    let out = same(&d, &["logs", "talker"]);
    assert_eq!(out.stdout, b"one\nthree\n");
    assert_eq!(out.stderr, b"two\n");
    same(&d, &["logs", "--tail", "1", "talker"]);
    same(&d, &["logs", "-n", "2", "--since", "10m", "talker"]);
    same(&d, &["logs", "nosuch"]);
    ok(d.docker(&["rm", "talker"]));
}

#[test]
fn exec_runs_in_the_container() {
    let d = daemon();
    ok(d.docker(&["run", "-d", "--name", "box", "busybox", "sleep", "300"]));
    let out = same(&d, &["exec", "box", "echo", "hi"]);
    assert_eq!(out.stdout, b"hi\n");
    let out = same(
        &d,
        &[
            "exec",
            "-e",
            "A=1",
            "-w",
            "/tmp",
            "box",
            "sh",
            "-c",
            "echo $A; pwd; exit 5",
        ],
    );
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(out.stdout, b"1\n/tmp\n");
    let input = b"through exec\n";
    let theirs = with_stdin(
        &d,
        berth_testkit::DOCKER_CLI,
        &["exec", "-i", "box", "cat"],
        input,
    );
    let ours = with_stdin(&d, BIN, &["exec", "-i", "box", "cat"], input);
    assert_eq!(ours.stdout, theirs.stdout, "{}", text(&ours));
    same(&d, &["exec", "nosuch", "true"]);
    ok(d.docker(&["rm", "-f", "box"]));
}

#[test]
fn stop_and_rm_report_like_docker() {
    let d = daemon();
    for name in ["d1", "b1"] {
        ok(d.docker(&["run", "-d", "--name", name, "busybox", "sleep", "300"]));
    }
    let theirs = d.docker(&["stop", "-t", "1", "d1", "nosuch"]);
    let ours = d.berth(&["stop", "-t", "1", "b1", "nosuch"]);
    assert_eq!(ours.status.code(), theirs.status.code());
    assert_eq!(ours.stdout, b"b1\n");
    assert_eq!(neutral_stderr(&ours), neutral_stderr(&theirs));
    let state = ok(d.docker(&["inspect", "-f", "{{.State.Status}}", "b1"]));
    assert_eq!(state.trim(), "exited");
    ok(d.docker(&["start", "b1"]));
    let refused = d.berth(&["rm", "b1"]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    let out = ok(d.berth(&["rm", "-f", "b1", "d1"]));
    assert_eq!(out, "b1\nd1\n");
    same(&d, &["rm", "nosuch"]);
    same(&d, &["rm", "-f", "nosuch"]);
    assert_eq!(ok(d.docker(&["ps", "-aq"])), "");
}
