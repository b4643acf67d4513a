//! Seccomp programs compiled once per distinct profile.
//!
//! libcontainer would compile the spec's profile with libseccomp inside every container's
//! init (~5 ms of CPU on the path of each start and exec). Nearly every container has the
//! same profile, so the engine compiles it here once (berth-runtime's `seccomp_bpf`),
//! takes the section out of the spec it hands the shim, and writes the program into the
//! bundle; the shim's executor installs it just before `execve`. A profile it cannot
//! compile (filter flags, notify actions) stays in the spec for libcontainer.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use berth_core::Digest;
use oci_spec::runtime::{Capability, LinuxSeccomp, Spec};

use super::{internal, lock};
use crate::error::EngineError;

/// The programs compiled so far, by the digest of their profile's JSON.
#[derive(Default)]
pub struct SeccompPrograms {
    programs: Mutex<HashMap<Digest, Arc<Vec<u8>>>>,
}

impl SeccompPrograms {
    /// The compiled program for `seccomp`, from the cache or compiled now; `None` when it
    /// must be left to libcontainer.
    fn program_for(&self, seccomp: &LinuxSeccomp) -> Result<Option<Arc<Vec<u8>>>, EngineError> {
        let profile_json = serde_json::to_vec(seccomp).map_err(|e| internal(e.to_string()))?;
        let key = Digest::of(&profile_json);
        if let Some(p) = lock(&self.programs).get(&key) {
            return Ok(Some(p.clone()));
        }
        let Some(program) =
            berth_runtime::seccomp_bpf::compile(seccomp).map_err(|e| internal(e.to_string()))?
        else {
            return Ok(None);
        };
        let program = Arc::new(program);
        lock(&self.programs).insert(key, program.clone());
        Ok(Some(program))
    }

    /// Moves `spec`'s seccomp profile into a compiled program at `program_path` and lets
    /// the process keep CAP_SYS_ADMIN (effective and permitted only) until the executor
    /// has installed it. Returns whether it did; `false` leaves `spec` as it was.
    pub fn take_out(&self, spec: &mut Spec, program_path: &Path) -> Result<bool, EngineError> {
        let Some(seccomp) = spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()) else {
            return Ok(false);
        };
        let Some(program) = self.program_for(seccomp)? else {
            return Ok(false);
        };
        // Runtime state under the exec-root: no fsync needed.
        crate::fsutil::replace_file(program_path, &program, 0o600)
            .map_err(|e| EngineError::io("write", program_path, e))?;
        if let Some(linux) = spec.linux_mut() {
            linux.set_seccomp(None);
        }
        if let Some(process) = spec.process_mut().as_mut() {
            if let Some(mut caps) = process.capabilities().clone() {
                let bounded = caps
                    .bounding()
                    .as_ref()
                    .is_some_and(|b| b.contains(&Capability::SysAdmin));
                if !bounded {
                    let mut effective = caps.effective().clone().unwrap_or_default();
                    effective.insert(Capability::SysAdmin);
                    caps.set_effective(Some(effective));
                    let mut permitted = caps.permitted().clone().unwrap_or_default();
                    permitted.insert(Capability::SysAdmin);
                    caps.set_permitted(Some(permitted));
                    process.set_capabilities(Some(caps));
                }
            }
        }
        Ok(true)
    }
}
