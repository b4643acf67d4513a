//! Execs into a container that runs in a user namespace (`--userns-remap`).
//!
//! libcontainer 0.7 joins an exec to every namespace of the container's init except its
//! user namespace, which would leave an exec as the host's root. So the daemon runs such an
//! exec as root (which owns the container's user namespace, and so may enter it whatever
//! capabilities it holds) and names the exec's real user in [`EXEC_USER_ENV`]; here, just
//! before execve, the process enters the container's user namespace (its PID 1's, seen
//! through the container's own /proc), becomes that user, and takes the spec's capability
//! sets back, as libcontainer's init does for a container's first process.

use std::fs::File;

use libcontainer::capabilities::{drop_privileges, reset_effective};
use libcontainer::syscall::syscall::create_syscall;
use libcontainer::workload::ExecutorError;
use nix::sched::{setns, CloneFlags};
use nix::unistd::{setgroups, setresgid, setresuid, Gid, Uid};
use oci_spec::runtime::Spec;

/// `uid:gid:gid1,gid2`: the user an exec runs as once inside the container's user
/// namespace. The daemon sets it; it never reaches the exec's environment.
pub const EXEC_USER_ENV: &str = "BERTH_USERNS_EXEC_USER";

fn failed(what: &str, e: impl std::fmt::Display) -> ExecutorError {
    ExecutorError::Other(format!(
        "entering the container's user namespace: {what}: {e}"
    ))
}

/// Parses [`EXEC_USER_ENV`]'s value.
fn parse_user(value: &str) -> Option<(u32, u32, Vec<u32>)> {
    let mut parts = value.splitn(3, ':');
    let uid = parts.next()?.parse().ok()?;
    let gid = parts.next()?.parse().ok()?;
    let groups = parts
        .next()
        .unwrap_or("")
        .split(',')
        .filter(|g| !g.is_empty())
        .map(|g| g.parse().ok())
        .collect::<Option<Vec<u32>>>()?;
    Some((uid, gid, groups))
}

/// Enters the container's user namespace when the spec asks for it ([`EXEC_USER_ENV`]),
/// and returns the spec without that variable; `None` when there is nothing to do.
pub fn enter_container_userns(spec: &Spec) -> Result<Option<Spec>, ExecutorError> {
    let Some(process) = spec.process() else {
        return Ok(None);
    };
    let mut env = process.env().clone().unwrap_or_default();
    let prefix = format!("{EXEC_USER_ENV}=");
    let Some(pos) = env.iter().position(|e| e.starts_with(&prefix)) else {
        return Ok(None);
    };
    let value = env.remove(pos);
    let (uid, gid, groups) =
        parse_user(&value[prefix.len()..]).ok_or_else(|| failed("malformed user", &value))?;

    // PID 1 of the container's PID namespace is its init, in its user namespace.
    let ns = File::open("/proc/1/ns/user").map_err(|e| failed("open /proc/1/ns/user", e))?;
    setns(&ns, CloneFlags::CLONE_NEWUSER).map_err(|e| failed("setns", e))?;
    // Entering gave every capability in the namespace; keep them across the user change,
    // then narrow them to the spec's, as libcontainer's init does.
    nix::sys::prctl::set_keepcaps(true).map_err(|e| failed("keepcaps", e))?;
    let gids: Vec<Gid> = groups.into_iter().map(Gid::from_raw).collect();
    setgroups(&gids).map_err(|e| failed("setgroups", e))?;
    let (g, u) = (Gid::from_raw(gid), Uid::from_raw(uid));
    setresgid(g, g, g).map_err(|e| failed("setresgid", e))?;
    setresuid(u, u, u).map_err(|e| failed("setresuid", e))?;
    nix::sys::prctl::set_keepcaps(false).map_err(|e| failed("keepcaps", e))?;
    let syscall = create_syscall();
    reset_effective(syscall.as_ref()).map_err(|e| failed("capabilities", e))?;
    if let Some(caps) = process.capabilities() {
        drop_privileges(caps, syscall.as_ref()).map_err(|e| failed("capabilities", e))?;
    }

    let mut process = process.clone();
    process.set_env(Some(env));
    let mut spec = spec.clone();
    spec.set_process(Some(process));
    Ok(Some(spec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_parses_with_or_without_groups() {
        assert_eq!(parse_user("0:0:"), Some((0, 0, vec![])));
        assert_eq!(parse_user("1000:50:4,27"), Some((1000, 50, vec![4, 27])));
        assert_eq!(parse_user("1000:50"), Some((1000, 50, vec![])));
        assert_eq!(parse_user("x:0:"), None);
        assert_eq!(parse_user("1:2:a"), None);
    }

    #[test]
    fn a_spec_without_the_variable_is_left_alone() {
        let spec = Spec::default();
        assert!(enter_container_userns(&spec).unwrap().is_none());
    }
}
