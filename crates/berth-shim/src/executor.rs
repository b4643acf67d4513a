//! The workload executor libcontainer calls inside the container, just before execve: it
//! checks the executable as runc does (as the container's user, from its cwd, with runc's
//! words), for an exec with a terminal sets the terminal's size first, and installs the
//! seccomp program the engine compiled once (instead of libcontainer compiling the
//! profile with libseccomp in every container, ~5 ms each).
//!
//! Installing a filter without no_new_privs needs CAP_SYS_ADMIN, and libcontainer has
//! dropped to the container's capabilities by now; so when the container may not have
//! CAP_SYS_ADMIN, the engine leaves it in the effective and permitted sets only (never in
//! the bounding set), and it is dropped here right after the filter is in. An `execve` as
//! root would clear it anyway (the new permitted set is the bounding set), and as another
//! user too (no ambient capabilities).

use std::io;
use std::os::fd::AsFd;
use std::path::Path;
use std::sync::Arc;

use caps::{CapSet, Capability};

use libcontainer::workload::default::DefaultExecutor;
use libcontainer::workload::{Executor, ExecutorError, ExecutorValidationError};
use nix::unistd::{access, AccessFlags};
use oci_spec::runtime::Spec;

use crate::lookup;
use crate::sys;

#[derive(Clone, Default)]
pub struct BerthExecutor {
    /// `[height, width]` to give the terminal before the process runs. An exec's PTY only
    /// exists as it starts, so this is the one moment the size can be right (runc applies
    /// `consoleSize` there too).
    pub terminal_size: Option<[u16; 2]>,
    /// The container's seccomp program, compiled by the engine; `None` when there is no
    /// filter or libcontainer installs it from the spec.
    pub seccomp_program: Option<Arc<Vec<u8>>>,
}

/// Installs the seccomp program, then gives up CAP_SYS_ADMIN unless the container may
/// hold it (it is in the bounding set).
fn install_seccomp(program: &[u8]) -> Result<(), ExecutorError> {
    sys::load_seccomp_program(program)
        .map_err(|e| ExecutorError::Other(format!("loading the seccomp filter: {e}")))?;
    let allowed = caps::has_cap(None, CapSet::Bounding, Capability::CAP_SYS_ADMIN)
        .map_err(|e| ExecutorError::Other(format!("reading the bounding set: {e}")))?;
    if !allowed {
        for set in [CapSet::Effective, CapSet::Permitted] {
            caps::drop(None, set, Capability::CAP_SYS_ADMIN)
                .map_err(|e| ExecutorError::Other(format!("dropping CAP_SYS_ADMIN: {e}")))?;
        }
    }
    Ok(())
}

/// An executable file the calling process may run.
fn runnable(path: &Path) -> io::Result<()> {
    if std::fs::metadata(path)?.is_dir() {
        return Err(io::Error::from_raw_os_error(libc::EACCES));
    }
    access(path, AccessFlags::X_OK).map_err(io::Error::from)
}

impl Executor for BerthExecutor {
    fn exec(&self, spec: &Spec) -> Result<(), ExecutorError> {
        // An exec into a remapped container enters its user namespace first (the filter
        // below would refuse the setns).
        let joined = crate::userns::enter_container_userns(spec)?;
        let spec = joined.as_ref().unwrap_or(spec);
        if let Some([height, width]) = self.terminal_size {
            // stdout is the terminal by now.
            let _ = sys::set_winsize(io::stdout().as_fd(), height, width);
        }
        if let Some(program) = &self.seccomp_program {
            install_seccomp(program)?;
        }
        DefaultExecutor {}.exec(spec)
    }

    fn validate(&self, spec: &Spec) -> Result<(), ExecutorValidationError> {
        let process = spec.process().as_ref().ok_or_else(|| {
            ExecutorValidationError::ArgValidationError("the spec has no process".into())
        })?;
        let name = process
            .args()
            .as_ref()
            .and_then(|a| a.first())
            .map(String::as_str)
            .unwrap_or("");
        let env = process.env().clone().unwrap_or_default();
        lookup::find_executable(name, lookup::path_var(&env), runnable)
            .map(drop)
            .map_err(ExecutorValidationError::ArgValidationError)
    }
}
