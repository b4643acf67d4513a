//! What the daemon tells a shim (`<state_dir>/shim.json`) and what the shim leaves behind
//! (`<state_dir>/exit.json`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `<state_dir>/shim.json`, written by the daemon before it runs `berth shim <state_dir>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShimConfig {
    /// libcontainer's container id (container) or the exec id (exec).
    pub id: String,
    /// libcontainer's state root, shared by all containers.
    pub runtime_root: PathBuf,
    pub kind: ShimKind,
    pub tty: bool,
    pub open_stdin: bool,
    pub stdin_once: bool,
    /// `[height, width]` of the terminal at creation.
    pub console_size: Option<[u16; 2]>,
    /// Where the output goes; only for containers; `None` is the "none" driver.
    pub log: Option<LogTarget>,
    /// The seccomp program (BPF, compiled by the engine) the process gets just before it
    /// runs; `None` when the spec has no filter or libcontainer installs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seccomp_program: Option<PathBuf>,
}

/// What the shim runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ShimKind {
    /// A container's init process; `bundle/config.json` is its OCI spec.
    Container { bundle: PathBuf },
    /// A process run inside the running container `container_id`; `process` is an OCI
    /// Process JSON file (args, env, cwd, user, terminal, capabilities…).
    Exec {
        container_id: String,
        process: PathBuf,
    },
}

/// A log file and its rotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogTarget {
    /// `"json-file"` or `"local"`.
    pub driver: String,
    pub path: PathBuf,
    pub max_size: Option<u64>,
    pub max_file: u32,
    /// Extra attributes stored with every entry (`--log-opt labels=…,env=…,tag=…`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub attrs: std::collections::BTreeMap<String, String>,
}

/// How the process ended, as the daemon reports it (`State.ExitCode`, `OOMKilled`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitStatus {
    /// The exit code, or 128 + the signal that killed it (Docker's convention).
    pub exit_code: i32,
    pub oom_killed: bool,
    /// RFC 3339 with nanoseconds, UTC (Go's `RFC3339Nano`).
    pub finished_at: String,
    /// Why the process could not run at all, if that is how it ended.
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ShimConfig {
        ShimConfig {
            id: "abc".into(),
            runtime_root: "/run/berth/runtime".into(),
            kind: ShimKind::Exec {
                container_id: "c1".into(),
                process: "/run/berth/exec/e1/process.json".into(),
            },
            tty: true,
            open_stdin: true,
            stdin_once: false,
            console_size: Some([24, 80]),
            log: Some(LogTarget {
                driver: "json-file".into(),
                path: "/var/lib/berth/containers/abc/abc-json.log".into(),
                max_size: Some(1 << 20),
                max_file: 3,
                attrs: [("a".to_owned(), "1".to_owned())].into_iter().collect(),
            }),
            seccomp_program: Some("/run/berth/containers/c1/bundle/seccomp.bpf".into()),
        }
    }

    #[test]
    fn config_round_trips_with_a_type_tag() {
        let cfg = sample();
        let json = serde_json::to_value(&cfg).unwrap();
        assert_eq!(json["kind"]["type"], "Exec");
        assert_eq!(json["kind"]["container_id"], "c1");
        assert_eq!(json["console_size"], serde_json::json!([24, 80]));
        let back: ShimConfig = serde_json::from_value(json).unwrap();
        assert_eq!(back, cfg);
    }

    #[test]
    fn container_kind_parses_from_the_daemons_json() {
        let text = r#"{"id":"c","runtime_root":"/r","kind":{"type":"Container","bundle":"/b"},
            "tty":false,"open_stdin":false,"stdin_once":false,"console_size":null,"log":null}"#;
        let cfg: ShimConfig = serde_json::from_str(text).unwrap();
        assert_eq!(
            cfg.kind,
            ShimKind::Container {
                bundle: "/b".into()
            }
        );
        assert!(cfg.log.is_none());
    }
}
