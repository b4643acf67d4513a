//! Copying between the local terminal and a hijacked attach/exec connection, as docker's
//! `hijackedIOStreamer` does: stdin goes up (raw, and watched for the detach keys, when a
//! TTY is attached) and is half-closed at its end; output comes down raw with a TTY, or
//! demultiplexed to stdout/stderr without one.

use anyhow::Result;
use berth_client::stdcopy;
use berth_client::Hijacked;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use super::tty::RawMode;

/// ctrl-p ctrl-q.
pub const DEFAULT_DETACH_KEYS: &[u8] = &[16, 17];

/// moby's `term.ToBytes`: `ctrl-<c>` names, `DEL`, or single characters, comma-separated.
pub fn parse_detach_keys(keys: &str) -> Result<Vec<u8>, String> {
    const CTRL: &str = "@abcdefghijklmnopqrstuvwxyz[\\]^_";
    let mut codes = Vec::new();
    for key in keys.split(',') {
        if key.len() == 1 {
            codes.push(key.as_bytes()[0]);
            continue;
        }
        if let Some(c) = key.strip_prefix("ctrl-").filter(|c| c.len() == 1) {
            if let Some(i) = CTRL.find(c) {
                codes.push(i as u8);
                continue;
            }
        }
        if key == "DEL" {
            codes.push(127);
            continue;
        }
        return Err(format!("Unknown character: '{key}'"));
    }
    Ok(codes)
}

/// moby's `escapeProxy`: passes input through, holding back a partial match of the
/// escape sequence (released if the match breaks) and stopping at a full match.
pub struct EscapeDetector {
    keys: Vec<u8>,
    matched: usize,
}

/// What one chunk of input became.
#[derive(Debug, PartialEq, Eq)]
pub struct Escaped {
    /// Bytes to forward.
    pub forward: Vec<u8>,
    /// The whole sequence was typed: detach.
    pub detach: bool,
}

impl EscapeDetector {
    pub fn new(keys: Vec<u8>) -> Self {
        Self { keys, matched: 0 }
    }

    pub fn feed(&mut self, input: &[u8]) -> Escaped {
        let mut forward = Vec::with_capacity(input.len());
        if self.keys.is_empty() {
            forward.extend_from_slice(input);
            return Escaped {
                forward,
                detach: false,
            };
        }
        for &b in input {
            if b == self.keys[self.matched] {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    return Escaped {
                        forward,
                        detach: true,
                    };
                }
                continue;
            }
            // The held-back prefix was ordinary input after all.
            forward.extend_from_slice(&self.keys[..self.matched]);
            self.matched = 0;
            if b == self.keys[0] {
                self.matched = 1;
                if self.keys.len() == 1 {
                    return Escaped {
                        forward,
                        detach: true,
                    };
                }
            } else {
                forward.push(b);
            }
        }
        Escaped {
            forward,
            detach: false,
        }
    }
}

/// Which streams are attached, and how.
#[derive(Debug, Clone, Default)]
pub struct StreamOptions {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
    pub detach_keys: Option<String>,
}

/// How the streaming ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    /// The output ended (the process exited), or the input ended with no output attached.
    Finished,
    /// The user typed the detach sequence.
    Detached,
}

/// Reads stdin on a thread of its own: a blocking read of a terminal cannot be cancelled,
/// and must not keep the runtime from shutting down once the container is gone.
fn stdin_chunks() -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel(16);
    std::thread::spawn(move || {
        use std::io::Read;
        let mut stdin = std::io::stdin();
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    if tx.blocking_send(buf[..n].to_vec()).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return,
            }
        }
    });
    rx
}

/// Streams until the output ends, or the user detaches.
pub async fn stream(conn: Hijacked, opts: &StreamOptions) -> Result<StreamEnd> {
    let mut escape = None;
    let mut raw = None;
    if opts.stdin && opts.tty {
        raw = RawMode::enable().map_err(|e| {
            anyhow::anyhow!(
                "unable to setup input stream: unable to set IO streams as raw terminal: {e}"
            )
        })?;
        let keys = match opts.detach_keys.as_deref().filter(|k| !k.is_empty()) {
            None => DEFAULT_DETACH_KEYS.to_vec(),
            Some(k) => parse_detach_keys(k).unwrap_or_else(|e| {
                eprintln!("invalid detach escape keys, using default: {e}");
                DEFAULT_DETACH_KEYS.to_vec()
            }),
        };
        escape = Some(EscapeDetector::new(keys));
    }
    let (reader, mut writer) = tokio::io::split(conn);

    let has_output = opts.stdout || opts.stderr;
    let tty = opts.tty;
    let (stdout_on, stderr_on) = (opts.stdout, opts.stderr);
    let mut output = tokio::spawn(async move {
        if !has_output {
            return std::future::pending::<Result<()>>().await;
        }
        if tty {
            return copy_flushing(reader, &mut tokio::io::stdout()).await;
        }
        let mut out = writer_or_sink(stdout_on, tokio::io::stdout());
        let mut err = writer_or_sink(stderr_on, tokio::io::stderr());
        stdcopy::demux(reader, &mut out, &mut err).await?;
        Ok(())
    });

    let stdin_on = opts.stdin;
    let mut input = tokio::spawn(async move {
        if stdin_on {
            let mut chunks = stdin_chunks();
            while let Some(chunk) = chunks.recv().await {
                let (data, detach) = match escape.as_mut() {
                    Some(e) => {
                        let r = e.feed(&chunk);
                        (r.forward, r.detach)
                    }
                    None => (chunk, false),
                };
                if !data.is_empty() && writer.write_all(&data).await.is_err() {
                    break;
                }
                if detach {
                    return StreamEnd::Detached;
                }
            }
        }
        // stdin ended (or is not attached): tell the daemon with a half-close.
        let _ = writer.shutdown().await;
        StreamEnd::Finished
    });

    let end = tokio::select! {
        out = &mut output => {
            input.abort();
            flatten(out)?;
            StreamEnd::Finished
        }
        end = &mut input => {
            match end.unwrap_or(StreamEnd::Finished) {
                StreamEnd::Detached => {
                    output.abort();
                    StreamEnd::Detached
                }
                StreamEnd::Finished if has_output => {
                    flatten(output.await)?;
                    StreamEnd::Finished
                }
                StreamEnd::Finished => StreamEnd::Finished,
            }
        }
    };
    drop(raw);
    Ok(end)
}

/// `w` when that stream is attached; otherwise its frames go nowhere.
fn writer_or_sink<W>(attached: bool, w: W) -> Box<dyn tokio::io::AsyncWrite + Unpin + Send>
where
    W: tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    if attached {
        Box::new(w)
    } else {
        Box::new(tokio::io::sink())
    }
}

fn flatten(r: Result<Result<()>, tokio::task::JoinError>) -> Result<()> {
    match r {
        Ok(inner) => inner,
        Err(e) if e.is_cancelled() => Ok(()),
        Err(e) => Err(anyhow::anyhow!("output stream: {e}")),
    }
}

/// Copies `from` to `to`, flushing each chunk so a terminal shows it at once.
pub async fn copy_flushing<R, W>(mut from: R, to: &mut W) -> Result<()>
where
    R: tokio::io::AsyncRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin + ?Sized,
{
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            to.flush().await?;
            return Ok(());
        }
        to.write_all(&buf[..n]).await?;
        to.flush().await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys_parse_like_moby() {
        assert_eq!(parse_detach_keys("ctrl-p,ctrl-q").unwrap(), vec![16, 17]);
        assert_eq!(
            parse_detach_keys("ctrl-@,a,DEL").unwrap(),
            vec![0, b'a', 127]
        );
        assert_eq!(parse_detach_keys("ctrl-\\").unwrap(), vec![28]);
        assert_eq!(parse_detach_keys("ctrl-_").unwrap(), vec![31]);
        assert_eq!(
            parse_detach_keys("ctrl-P").unwrap_err(),
            "Unknown character: 'ctrl-P'"
        );
        assert_eq!(
            parse_detach_keys("foo").unwrap_err(),
            "Unknown character: 'foo'"
        );
    }

    #[test]
    fn escape_sequence_detaches_and_is_not_forwarded() {
        let mut d = EscapeDetector::new(vec![16, 17]);
        assert_eq!(
            d.feed(b"ls\x10\x11rest"),
            Escaped {
                forward: b"ls".to_vec(),
                detach: true
            }
        );
    }

    #[test]
    fn partial_matches_are_held_then_released() {
        let mut d = EscapeDetector::new(vec![16, 17]);
        let first = d.feed(b"a\x10");
        assert_eq!(first.forward, b"a");
        assert!(!first.detach);
        // The sequence breaks: the held ctrl-p goes out before the next byte.
        let second = d.feed(b"b");
        assert_eq!(second.forward, b"\x10b");
        // Split across reads it still detaches.
        assert_eq!(d.feed(b"\x10").forward, b"");
        assert!(d.feed(b"\x11").detach);
    }

    #[test]
    fn repeated_first_key_restarts_the_match() {
        let mut d = EscapeDetector::new(vec![16, 17]);
        let r = d.feed(b"\x10\x10\x11");
        assert_eq!(r.forward, b"\x10");
        assert!(r.detach);
    }
}
