//! The workload executor libcontainer calls inside the container, just before execve: it
//! checks the executable as runc does (as the container's user, from its cwd, with runc's
//! words) and, for an exec with a terminal, sets the terminal's size first.

use std::io;
use std::os::fd::AsFd;
use std::path::Path;

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
        if let Some([height, width]) = self.terminal_size {
            // stdout is the terminal by now.
            let _ = sys::set_winsize(io::stdout().as_fd(), height, width);
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
