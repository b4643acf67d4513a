//! A spec's seccomp section compiled to the BPF program the kernel loads.
//!
//! libcontainer compiles the filter with libseccomp inside every container's init, which
//! costs ~5 ms of CPU on the path of each start; the profile is the same for nearly every
//! container, so the engine compiles it once here, keeps the program, and the shim's
//! executor loads it just before `execve` (see `berth-shim`'s executor).
//!
//! The rules are turned into libseccomp calls the way libcontainer does (same actions,
//! default errno EPERM, a syscall this libseccomp cannot name skipped, several conditions
//! on one argument split into separate rules as runc does), so the program is the one
//! libcontainer would have built. Profiles with filter flags or notify actions are left to
//! libcontainer ([`compile`] answers `None`).

use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom};
use std::str::FromStr;

use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};
use oci_spec::runtime::{Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompOperator};

/// Why a profile could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("seccomp: {0}")]
    Libseccomp(#[from] libseccomp::error::SeccompError),
    #[error("seccomp: exporting the filter: {0}")]
    Io(#[from] std::io::Error),
    #[error("seccomp: unknown architecture {0:?}")]
    Arch(String),
    #[error("seccomp: invalid errno {0} for a trace action")]
    TraceErrno(u32),
}

/// An OCI architecture as libseccomp's: both use the `SCMP_ARCH_*` names.
fn arch(a: Arch) -> Result<ScmpArch, CompileError> {
    let name = serde_json::to_value(a)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    ScmpArch::from_str(&name).map_err(|_| CompileError::Arch(name))
}

fn action(a: LinuxSeccompAction, errno: Option<u32>) -> Result<ScmpAction, CompileError> {
    let errno_value = errno.unwrap_or(libc::EPERM as u32);
    Ok(match a {
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => {
            ScmpAction::KillThread
        }
        LinuxSeccompAction::ScmpActKillProcess => ScmpAction::KillProcess,
        LinuxSeccompAction::ScmpActTrap => ScmpAction::Trap,
        LinuxSeccompAction::ScmpActErrno => ScmpAction::Errno(errno_value as i32),
        LinuxSeccompAction::ScmpActTrace => ScmpAction::Trace(
            u16::try_from(errno_value).map_err(|_| CompileError::TraceErrno(errno_value))?,
        ),
        LinuxSeccompAction::ScmpActAllow => ScmpAction::Allow,
        LinuxSeccompAction::ScmpActLog => ScmpAction::Log,
        LinuxSeccompAction::ScmpActNotify => ScmpAction::Notify,
    })
}

fn op(o: LinuxSeccompOperator, value_two: Option<u64>) -> ScmpCompareOp {
    match o {
        LinuxSeccompOperator::ScmpCmpNe => ScmpCompareOp::NotEqual,
        LinuxSeccompOperator::ScmpCmpLt => ScmpCompareOp::Less,
        LinuxSeccompOperator::ScmpCmpLe => ScmpCompareOp::LessOrEqual,
        LinuxSeccompOperator::ScmpCmpEq => ScmpCompareOp::Equal,
        LinuxSeccompOperator::ScmpCmpGe => ScmpCompareOp::GreaterEqual,
        LinuxSeccompOperator::ScmpCmpGt => ScmpCompareOp::Greater,
        LinuxSeccompOperator::ScmpCmpMaskedEq => ScmpCompareOp::MaskedEqual(value_two.unwrap_or(0)),
    }
}

/// Whether [`compile`] can take this profile: no filter flags (they change how the
/// program is loaded) and no notify action (that needs libcontainer's listener).
pub fn precompilable(seccomp: &LinuxSeccomp) -> bool {
    seccomp.flags().as_ref().is_none_or(|f| f.is_empty())
        && seccomp.default_action() != LinuxSeccompAction::ScmpActNotify
        && seccomp
            .syscalls()
            .iter()
            .flatten()
            .all(|s| s.action() != LinuxSeccompAction::ScmpActNotify)
}

/// The profile as a BPF program (`struct sock_filter` array, native endianness), or
/// `None` when it must be left to libcontainer (see [`precompilable`]).
pub fn compile(seccomp: &LinuxSeccomp) -> Result<Option<Vec<u8>>, CompileError> {
    if !precompilable(seccomp) {
        return Ok(None);
    }
    let default = action(seccomp.default_action(), seccomp.default_errno_ret())?;
    let mut ctx = ScmpFilterContext::new(default)?;
    for &a in seccomp.architectures().iter().flatten() {
        ctx.add_arch(arch(a)?)?;
    }
    // Loading sets no_new_privs only when the spec asks for it (libcontainer's choice too).
    ctx.set_ctl_nnp(false)?;
    for rule in seccomp.syscalls().iter().flatten() {
        let act = action(rule.action(), rule.errno_ret())?;
        if act == default {
            continue;
        }
        for name in rule.names() {
            let Ok(sc) = ScmpSyscall::from_name(name) else {
                continue;
            };
            let Some(args) = rule.args() else {
                ctx.add_rule(act, sc)?;
                continue;
            };
            let cmps: Vec<ScmpArgCompare> = args
                .iter()
                .map(|a| {
                    ScmpArgCompare::new(a.index() as u32, op(a.op(), a.value_two()), a.value())
                })
                .collect();
            let mut seen = HashSet::new();
            if args.iter().all(|a| seen.insert(a.index())) {
                ctx.add_rule_conditional(act, sc, &cmps)?;
            } else {
                for c in &cmps {
                    ctx.add_rule_conditional(act, sc, std::slice::from_ref(c))?;
                }
            }
        }
    }
    let mut file = tempfile::tempfile()?;
    ctx.export_bpf(&file)?;
    file.seek(SeekFrom::Start(0))?;
    let mut program = Vec::new();
    file.read_to_end(&mut program)?;
    Ok(Some(program))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_profile() -> LinuxSeccomp {
        let caps: Vec<String> = crate::defaults::CAPABILITIES
            .iter()
            .map(|c| c.to_string())
            .collect();
        serde_json::from_value(crate::seccomp::default_profile(&caps)).unwrap()
    }

    #[test]
    fn the_default_profile_compiles_to_whole_instructions() {
        let program = compile(&default_profile()).unwrap().expect("precompilable");
        // struct sock_filter is 8 bytes; Docker's profile is hundreds of instructions.
        assert_eq!(program.len() % 8, 0);
        assert!(
            program.len() / 8 > 100,
            "{} instructions",
            program.len() / 8
        );
        // Deterministic: the same profile gives the same program (it is cached by profile).
        assert_eq!(compile(&default_profile()).unwrap().unwrap(), program);
    }

    #[test]
    fn flags_and_notify_are_left_to_libcontainer() {
        let mut with_flags = default_profile();
        with_flags.set_flags(Some(vec![
            oci_spec::runtime::LinuxSeccompFilterFlag::SeccompFilterFlagLog,
        ]));
        assert!(compile(&with_flags).unwrap().is_none());

        let mut notify = default_profile();
        let mut rules = notify.syscalls().clone().unwrap();
        rules[0].set_action(LinuxSeccompAction::ScmpActNotify);
        notify.set_syscalls(Some(rules));
        assert!(compile(&notify).unwrap().is_none());
    }
}
