//! youki's libcontainer as the shim drives it: create a container's init (left waiting
//! for `start`), start it, delete it, and run an exec process in a running container.

use std::fs;
use std::os::fd::AsFd;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use libcontainer::container::builder::ContainerBuilder;
use libcontainer::container::{Container, ContainerStatus};
use libcontainer::error::LibcontainerError;
use libcontainer::syscall::syscall::SyscallType;
use nix::unistd::Pid;
use oci_spec::runtime::Process;

use crate::executor::BerthExecutor;
use crate::lookup;
use crate::stdio::ChildEnds;
use crate::sys;

/// A libcontainer error as one readable line: the error and the causes it wraps.
pub fn describe(err: &LibcontainerError) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text.replace('\n', " ")
}

fn builder(
    id: &str,
    runtime_root: &Path,
    ends: ChildEnds,
    console: Option<&Path>,
    executor: BerthExecutor,
) -> Result<ContainerBuilder, String> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(runtime_root)
        .map_err(|e| format!("creating {}: {e}", runtime_root.display()))?;
    let mut b = ContainerBuilder::new(id.to_owned(), SyscallType::default())
        .with_executor(executor)
        .with_root_path(runtime_root)
        .map_err(|e| describe(&e))?
        .with_console_socket(console);
    if let Some(fd) = ends.stdin {
        b = b.with_stdin(fd);
    }
    if let Some(fd) = ends.stdout {
        b = b.with_stdout(fd);
    }
    if let Some(fd) = ends.stderr {
        b = b.with_stderr(fd);
    }
    Ok(b)
}

/// Creates the container: its init is left waiting for [`start`]. The init is a child of
/// this process. `seccomp_program` is installed just before the process runs.
pub fn create(
    id: &str,
    runtime_root: &Path,
    bundle: &Path,
    ends: ChildEnds,
    console: Option<&Path>,
    seccomp_program: Option<Arc<Vec<u8>>>,
) -> Result<Container, String> {
    let state_dir = runtime_root.join(id);
    let existed = state_dir.exists();
    let executor = BerthExecutor {
        seccomp_program,
        ..Default::default()
    };
    let result = builder(id, runtime_root, ends, console, executor)?
        .as_init(bundle)
        .with_systemd(false)
        .with_detach(true)
        .build();
    result.map_err(|e| {
        // libcontainer removes what it made when the init fails, but not when it fails
        // before that (a bad spec); never touch a container that was there before.
        if !existed {
            let _ = fs::remove_dir_all(&state_dir);
        }
        lookup::core_message(&describe(&e)).to_owned()
    })
}

/// Lets the created init run the container's process.
pub fn start(container: &mut Container) -> Result<(), String> {
    container.start().map_err(|e| describe(&e))
}

/// Removes the container's cgroup and libcontainer state (killing what is left in it).
pub fn delete(container: &mut Container) -> Result<(), String> {
    // libcontainer gives the killed processes ~100 ms to leave the cgroup before it gives
    // up; a loaded (or emulated) host can need longer, and a failed delete would leak the
    // cgroup and the state for good (a restart under the same ID would then fail). Its
    // delete stops before the state is removed, so trying again is safe.
    let mut result = container.delete(true);
    for _ in 0..30 {
        if result.is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        result = container.delete(true);
    }
    result.map_err(|e| describe(&e))
}

/// An exec checked against the running container, ready to start.
#[derive(Debug, Clone)]
pub struct ExecTarget {
    container_id: String,
    runtime_root: PathBuf,
    process: PathBuf,
    seccomp_program: Option<Arc<Vec<u8>>>,
}

/// Checks that the container runs and that the process's executable exists in it, so a
/// bad exec fails before anyone attaches to it.
pub fn prepare_exec(
    runtime_root: &Path,
    container_id: &str,
    process_file: &Path,
    seccomp_program: Option<Arc<Vec<u8>>>,
) -> Result<ExecTarget, String> {
    let container = Container::load(runtime_root.join(container_id))
        .map_err(|_| format!("container {container_id} is not running"))?;
    let pid = match (container.status(), container.pid()) {
        (ContainerStatus::Running, Some(pid)) => pid,
        _ => return Err(format!("container {container_id} is not running")),
    };
    let text =
        fs::read(process_file).map_err(|e| format!("reading {}: {e}", process_file.display()))?;
    let process: Process = serde_json::from_slice(&text)
        .map_err(|e| format!("invalid exec process {}: {e}", process_file.display()))?;
    check_executable(pid, &process)?;
    Ok(ExecTarget {
        container_id: container_id.to_owned(),
        runtime_root: runtime_root.to_owned(),
        process: process_file.to_owned(),
        seccomp_program,
    })
}

/// Starts the exec process (a child of this process); returns once it has called execve.
/// With a terminal (`console`), `console_size` is set on it before the process runs.
pub fn start_exec(
    target: &ExecTarget,
    ends: ChildEnds,
    console: Option<&Path>,
    console_size: Option<[u16; 2]>,
) -> Result<Pid, String> {
    let executor = BerthExecutor {
        terminal_size: console.and(console_size),
        seccomp_program: target.seccomp_program.clone(),
    };
    builder(
        &target.container_id,
        &target.runtime_root,
        ends,
        console,
        executor,
    )?
    .as_tenant()
    .with_detach(true)
    .with_process(Some(&target.process))
    .build()
    .map_err(|e| lookup::core_message(&describe(&e)).to_owned())
}

/// Looks the executable up as the container's process would (its root, cwd and `PATH`).
/// As root from outside, so only existence and execute bits are checked here; the
/// container's own check, as its user, comes at start.
fn check_executable(init: Pid, process: &Process) -> Result<(), String> {
    let name = process
        .args()
        .as_ref()
        .and_then(|a| a.first())
        .map(String::as_str)
        .unwrap_or("");
    let root = fs::File::open(format!("/proc/{}/root", init.as_raw()))
        .map_err(|e| format!("opening the container's root: {e}"))?;
    let cwd = process.cwd();
    let runnable = |path: &Path| -> std::io::Result<()> {
        let fd = sys::open_in_root(root.as_fd(), &cwd.join(path))?;
        let meta = fs::File::from(fd).metadata()?;
        if meta.is_dir() || meta.permissions().mode() & 0o111 == 0 {
            return Err(std::io::Error::from_raw_os_error(libc::EACCES));
        }
        Ok(())
    };
    let env = process.env().clone().unwrap_or_default();
    lookup::find_executable(name, lookup::path_var(&env), runnable).map(drop)
}
