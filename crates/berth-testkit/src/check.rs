//! The small checks every end-to-end test file uses on a CLI's output and a daemon's
//! state, kept here once.

use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::TestDaemon;

/// A command's exit code, stdout and stderr, for an assertion message.
pub fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The stdout of a command that must have succeeded.
pub fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// `docker inspect NAME` as JSON (the one object, not the array).
pub fn inspect(d: &TestDaemon, name: &str) -> Value {
    let out = ok(d.docker(&["inspect", name]));
    serde_json::from_str::<Value>(&out).unwrap()[0].clone()
}

/// Polls `f` every 50 ms until it holds; fails the test after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
