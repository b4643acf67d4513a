//! `--sig-proxy`: signals the CLI receives are sent on to the container with
//! `POST /containers/{id}/kill`, as docker's `ForwardAllSignals` does (all but SIGCHLD,
//! SIGPIPE and the ones that cannot be caught).

use berth_client::Client;
use http::Method;
use tokio::signal::unix::{signal, SignalKind};
use tokio::task::JoinHandle;

use super::encode_id;

/// The signals forwarded, with the names the API takes.
const FORWARDED: &[(i32, &str)] = &[
    (nix::libc::SIGHUP, "HUP"),
    (nix::libc::SIGINT, "INT"),
    (nix::libc::SIGQUIT, "QUIT"),
    (nix::libc::SIGTRAP, "TRAP"),
    (nix::libc::SIGABRT, "ABRT"),
    (nix::libc::SIGBUS, "BUS"),
    (nix::libc::SIGUSR1, "USR1"),
    (nix::libc::SIGUSR2, "USR2"),
    (nix::libc::SIGALRM, "ALRM"),
    (nix::libc::SIGTERM, "TERM"),
    (nix::libc::SIGSTKFLT, "STKFLT"),
    (nix::libc::SIGCONT, "CONT"),
    (nix::libc::SIGTSTP, "TSTP"),
    (nix::libc::SIGTTIN, "TTIN"),
    (nix::libc::SIGTTOU, "TTOU"),
    (nix::libc::SIGXCPU, "XCPU"),
    (nix::libc::SIGXFSZ, "XFSZ"),
    (nix::libc::SIGVTALRM, "VTALRM"),
    (nix::libc::SIGPROF, "PROF"),
    (nix::libc::SIGWINCH, "WINCH"),
    (nix::libc::SIGIO, "IO"),
    (nix::libc::SIGPWR, "PWR"),
    (nix::libc::SIGSYS, "SYS"),
];

/// Forwards signals until the returned handles are aborted (dropping them does not stop
/// them; the process exit does).
pub fn forward_all(client: &Client, id: &str) -> Vec<JoinHandle<()>> {
    let mut tasks = Vec::new();
    for &(signo, name) in FORWARDED {
        let Ok(mut stream) = signal(SignalKind::from_raw(signo)) else {
            continue;
        };
        let mut client = client.clone();
        let path = format!("/containers/{}/kill?signal={name}", encode_id(id));
        tasks.push(tokio::spawn(async move {
            while stream.recv().await.is_some() {
                // As docker: a failed forward is not worth stopping for.
                let _ = client.request(Method::POST, &path, None).await;
            }
        }));
    }
    tasks
}

/// Without `--sig-proxy`, docker still catches the first SIGINT or SIGTERM (it only
/// cancels its context, which the streams of `run` ignore) and dies of the second.
pub fn survive_first_termination() -> JoinHandle<()> {
    tokio::spawn(async move {
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            return;
        };
        let mut last = 0;
        for _ in 0..2 {
            last = tokio::select! {
                _ = int.recv() => nix::libc::SIGINT,
                _ = term.recv() => nix::libc::SIGTERM,
            };
        }
        // The status the default action would have given.
        std::process::exit(128 + last);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_of(signo: i32) -> Option<&'static str> {
        FORWARDED.iter().find(|(n, _)| *n == signo).map(|(_, s)| *s)
    }

    #[test]
    fn names_follow_the_api() {
        assert_eq!(name_of(nix::libc::SIGINT), Some("INT"));
        assert_eq!(name_of(nix::libc::SIGTERM), Some("TERM"));
        assert_eq!(name_of(nix::libc::SIGCHLD), None);
        assert_eq!(name_of(nix::libc::SIGPIPE), None);
        assert_eq!(name_of(nix::libc::SIGKILL), None);
    }
}
