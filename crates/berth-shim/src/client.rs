//! The daemon's side of a shim (tokio): spawn it, talk to it, reconnect after a restart.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

use crate::config::{ExitStatus, ShimConfig};
use crate::exit;
use crate::protocol::{Request, ShimState, CONFIG_FILE, SOCKET_FILE};

/// How long `wait` lets the shim finish its cleanup after it answered.
const GONE_LIMIT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ShimError {
    /// `berth shim` could not create the process; the message says why.
    #[error("{0}")]
    Start(String),
    /// The shim is gone and left no exit status.
    #[error("the shim is gone and left no exit status")]
    Gone,
    /// The shim refused the request.
    #[error("{0}")]
    Refused(String),
    #[error("talking to the shim: {0}")]
    Io(#[from] io::Error),
    #[error("the shim answered something unexpected: {0}")]
    Protocol(String),
}

/// A handle on one shim, by its state directory.
#[derive(Debug, Clone)]
pub struct ShimClient {
    state_dir: PathBuf,
}

/// Temp file and rename, no fsync: the state directory is runtime state under the
/// exec-root, read by a shim started right after; a daemon crash (even `kill -9`) keeps
/// the page cache, and a machine crash leaves no shim to read it.
fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, dir.join(name))
}

impl ShimClient {
    /// Writes `shim.json` and runs `berth shim <state_dir>`; returns once the process is
    /// created (an exec: checked) and the socket listens.
    pub async fn spawn(
        berth_exe: &Path,
        state_dir: &Path,
        config: &ShimConfig,
    ) -> Result<ShimClient, ShimError> {
        let json = serde_json::to_vec(config).map_err(|e| ShimError::Protocol(e.to_string()))?;
        // Two small syscalls on a runtime directory: not worth a blocking-pool thread.
        write_atomic(state_dir, CONFIG_FILE, &json)?;
        let output = tokio::process::Command::new(berth_exe)
            .arg("shim")
            .arg(state_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .await?;
        if output.status.success() {
            return Ok(Self::open(state_dir));
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let message = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.trim().to_owned())
            .unwrap_or_else(|| format!("berth shim failed ({})", output.status));
        Err(ShimError::Start(message))
    }

    /// A handle on a shim that is already running (after a daemon restart).
    pub fn open(state_dir: &Path) -> ShimClient {
        ShimClient {
            state_dir: state_dir.to_owned(),
        }
    }

    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// True if the shim's socket accepts a connection.
    pub async fn alive(&self) -> bool {
        UnixStream::connect(self.state_dir.join(SOCKET_FILE))
            .await
            .is_ok()
    }

    /// Starts the process; returns its PID.
    pub async fn start(&self) -> Result<u32, ShimError> {
        let v = self.call(&Request::Start).await?;
        field(&v, "pid")
    }

    pub async fn state(&self) -> Result<ShimState, ShimError> {
        let v = self.call(&Request::State).await?;
        serde_json::from_value(v).map_err(|e| ShimError::Protocol(e.to_string()))
    }

    pub async fn signal(&self, sig: i32) -> Result<(), ShimError> {
        self.call(&Request::Signal { signal: sig }).await.map(drop)
    }

    pub async fn resize(&self, height: u16, width: u16) -> Result<(), ShimError> {
        self.call(&Request::Resize { height, width })
            .await
            .map(drop)
    }

    /// Waits for the process to end. Returns once the shim has also finished cleaning up
    /// (the container's cgroup and state are gone). If the shim is already gone, the
    /// status it recorded; [`ShimError::Gone`] if there is none.
    pub async fn wait(&self) -> Result<ExitStatus, ShimError> {
        let fallback = || Self::read_exit(&self.state_dir).ok_or(ShimError::Gone);
        let Ok(stream) = UnixStream::connect(self.state_dir.join(SOCKET_FILE)).await else {
            return fallback();
        };
        let mut reader = BufReader::new(stream);
        if send(reader.get_mut(), &Request::Wait).await.is_err() {
            return fallback();
        }
        let mut line = String::new();
        match reader.read_line(&mut line).await {
            Ok(n) if n > 0 => {}
            // The shim ended between accepting and answering.
            _ => return fallback(),
        }
        let v = parse_reply(&line)?;
        let status: ExitStatus = field(&v, "exit")?;
        // The connection closes when the shim process ends.
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(GONE_LIMIT, reader.read_to_end(&mut rest)).await;
        Ok(status)
    }

    /// Attaches to the process's streams. Without a TTY the returned stream carries
    /// Docker's multiplexed frames; writes to it go to the process's stdin.
    pub async fn attach(
        &self,
        stdin: bool,
        stdout: bool,
        stderr: bool,
    ) -> Result<UnixStream, ShimError> {
        let mut stream = self.connect().await?;
        send(
            &mut stream,
            &Request::Attach {
                stdin,
                stdout,
                stderr,
            },
        )
        .await?;
        // Byte by byte, so nothing of the stream after the line is taken.
        let mut line = Vec::new();
        loop {
            let b = stream.read_u8().await.map_err(|e| {
                if e.kind() == io::ErrorKind::UnexpectedEof {
                    ShimError::Gone
                } else {
                    ShimError::Io(e)
                }
            })?;
            if b == b'\n' {
                break;
            }
            line.push(b);
        }
        parse_reply(&String::from_utf8_lossy(&line))?;
        Ok(stream)
    }

    /// The exit status a shim recorded in `state_dir`, if any.
    pub fn read_exit(state_dir: &Path) -> Option<ExitStatus> {
        exit::read_exit(state_dir)
    }

    async fn connect(&self) -> Result<UnixStream, ShimError> {
        UnixStream::connect(self.state_dir.join(SOCKET_FILE))
            .await
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused => ShimError::Gone,
                _ => ShimError::Io(e),
            })
    }

    async fn call(&self, request: &Request) -> Result<Value, ShimError> {
        let stream = self.connect().await?;
        let mut reader = BufReader::new(stream);
        send(reader.get_mut(), request).await?;
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Err(ShimError::Gone);
        }
        parse_reply(&line)
    }
}

async fn send(stream: &mut UnixStream, request: &Request) -> Result<(), ShimError> {
    let mut line = serde_json::to_vec(request).map_err(|e| ShimError::Protocol(e.to_string()))?;
    line.push(b'\n');
    stream.write_all(&line).await?;
    Ok(())
}

/// The body of an `ok` reply, or the shim's refusal.
fn parse_reply(line: &str) -> Result<Value, ShimError> {
    let v: Value = serde_json::from_str(line.trim())
        .map_err(|e| ShimError::Protocol(format!("{e}: {line}")))?;
    match v.get("ok").and_then(Value::as_bool) {
        Some(true) => Ok(v),
        Some(false) => Err(ShimError::Refused(
            v.get("error")
                .and_then(Value::as_str)
                .unwrap_or("unknown error")
                .to_owned(),
        )),
        None => Err(ShimError::Protocol(line.trim().to_owned())),
    }
}

fn field<T: DeserializeOwned>(v: &Value, name: &str) -> Result<T, ShimError> {
    let value = v
        .get(name)
        .cloned()
        .ok_or_else(|| ShimError::Protocol(format!("no {name:?} in {v}")))?;
    serde_json::from_value(value).map_err(|e| ShimError::Protocol(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_parse_into_values_or_refusals() {
        let v = parse_reply("{\"ok\":true,\"pid\":42}\n").unwrap();
        assert_eq!(field::<u32>(&v, "pid").unwrap(), 42);
        match parse_reply("{\"ok\":false,\"error\":\"nope\"}") {
            Err(ShimError::Refused(m)) => assert_eq!(m, "nope"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_reply("garbage"),
            Err(ShimError::Protocol(_))
        ));
    }

    #[tokio::test]
    async fn wait_on_a_gone_shim_reads_exit_json_or_says_gone() {
        let dir = tempfile::tempdir().unwrap();
        let client = ShimClient::open(dir.path());
        assert!(matches!(client.wait().await, Err(ShimError::Gone)));
        assert!(!client.alive().await);
        let status = ExitStatus {
            exit_code: 3,
            oom_killed: false,
            finished_at: "2024-01-01T00:00:00Z".into(),
            error: None,
        };
        exit::write_exit(dir.path(), &status).unwrap();
        assert_eq!(client.wait().await.unwrap(), status);
    }

    #[tokio::test]
    async fn spawn_failure_carries_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = ShimConfig {
            id: "x".into(),
            runtime_root: dir.path().join("root"),
            kind: crate::config::ShimKind::Container {
                bundle: dir.path().join("bundle"),
            },
            tty: false,
            open_stdin: false,
            stdin_once: false,
            console_size: None,
            log: None,
            seccomp_program: None,
        };
        // `false` stands in for the berth binary: it fails without a word.
        let err = ShimClient::spawn(Path::new("/bin/false"), dir.path(), &cfg)
            .await
            .unwrap_err();
        assert!(matches!(err, ShimError::Start(_)), "{err:?}");
        let written: ShimConfig =
            serde_json::from_slice(&std::fs::read(dir.path().join(CONFIG_FILE)).unwrap()).unwrap();
        assert_eq!(written, cfg);
    }
}
