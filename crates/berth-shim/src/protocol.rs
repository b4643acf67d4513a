//! The shim socket's protocol: one JSON request line per connection, one JSON response
//! line (`{"ok":true,…}` or `{"ok":false,"error":…}`); after `attach` the connection
//! becomes the byte stream.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::config::ExitStatus;

/// The socket in the state directory.
pub const SOCKET_FILE: &str = "shim.sock";
/// The monitor's pidfile in the state directory.
pub const PID_FILE: &str = "shim.pid";
/// The daemon's configuration for the shim.
pub const CONFIG_FILE: &str = "shim.json";

/// One request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Request {
    Start,
    State,
    Signal {
        signal: i32,
    },
    Resize {
        height: u16,
        width: u16,
    },
    Wait,
    Attach {
        stdin: bool,
        stdout: bool,
        stderr: bool,
    },
}

/// Where the process is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProcessStatus {
    Created,
    Running,
    Exited,
}

/// The answer to `state`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShimState {
    pub status: ProcessStatus,
    /// The process's PID on the host; 0 for an exec not yet started.
    pub pid: u32,
    pub exit: Option<ExitStatus>,
}

/// A success line with the given fields (an object) merged in.
pub fn ok_line(fields: Value) -> Vec<u8> {
    let mut obj = serde_json::Map::new();
    obj.insert("ok".into(), Value::Bool(true));
    if let Value::Object(extra) = fields {
        obj.extend(extra);
    }
    let mut line = serde_json::to_vec(&Value::Object(obj)).expect("JSON values serialize");
    line.push(b'\n');
    line
}

/// A failure line.
pub fn error_line(message: &str) -> Vec<u8> {
    let mut line =
        serde_json::to_vec(&json!({"ok": false, "error": message})).expect("JSON serializes");
    line.push(b'\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_use_the_op_tag() {
        let r: Request = serde_json::from_str(r#"{"op":"signal","signal":15}"#).unwrap();
        assert_eq!(r, Request::Signal { signal: 15 });
        let r: Request =
            serde_json::from_str(r#"{"op":"attach","stdin":true,"stdout":true,"stderr":false}"#)
                .unwrap();
        assert_eq!(
            r,
            Request::Attach {
                stdin: true,
                stdout: true,
                stderr: false
            }
        );
        assert_eq!(
            serde_json::to_string(&Request::Wait).unwrap(),
            r#"{"op":"wait"}"#
        );
        assert!(serde_json::from_str::<Request>(r#"{"op":"explode"}"#).is_err());
    }

    #[test]
    fn response_lines_are_single_json_lines() {
        let line = ok_line(json!({"pid": 7}));
        assert_eq!(line.last(), Some(&b'\n'));
        let v: Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(v, json!({"ok": true, "pid": 7}));
        let v: Value = serde_json::from_slice(&error_line("no \"such\"\nthing")).unwrap();
        assert_eq!(v, json!({"ok": false, "error": "no \"such\"\nthing"}));
    }

    #[test]
    fn state_parses_with_status_words() {
        let v = json!({"ok": true, "status": "running", "pid": 12, "exit": null});
        let s: ShimState = serde_json::from_value(v).unwrap();
        assert_eq!(s.status, ProcessStatus::Running);
        assert_eq!(s.pid, 12);
        assert!(s.exit.is_none());
    }
}
