//! Finding a process's executable the way runc does (Go's `exec.LookPath`), with runc's
//! wording when it is not there, so errors read as Docker's.

use std::io;
use std::path::{Path, PathBuf};

/// Used when a process's environment has no `PATH` (runc's fallback).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// `PATH` from an OCI process environment, or the default.
pub fn path_var(env: &[String]) -> &str {
    env.iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH)
}

/// Finds `name` (searched in `path_var` unless it holds a `/`). `check` says whether a
/// path is an executable file: `Ok`, not found (`NotFound`, `ENOTDIR`), or anything
/// else for "exists but cannot be executed".
pub fn find_executable(
    name: &str,
    path_var: &str,
    check: impl Fn(&Path) -> io::Result<()>,
) -> Result<PathBuf, String> {
    if name.is_empty() {
        return Err("exec: no command given".to_owned());
    }
    if name.contains('/') {
        return match check(Path::new(name)) {
            Ok(()) => Ok(PathBuf::from(name)),
            Err(e) if is_missing(&e) => Err(format!(
                "exec: \"{name}\": stat {name}: no such file or directory"
            )),
            Err(_) => Err(format!("exec: \"{name}\": permission denied")),
        };
    }
    path_var
        .split(':')
        .map(|dir| Path::new(if dir.is_empty() { "." } else { dir }).join(name))
        .find(|candidate| check(candidate).is_ok())
        .ok_or_else(|| format!("exec: \"{name}\": executable file not found in $PATH"))
}

fn is_missing(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ENOTDIR)
}

/// The message for a start failure, cut to runc's `exec: "…": …` part when there is one
/// (libcontainer wraps it in its own layers).
pub fn core_message(text: &str) -> &str {
    text.find("exec: \"").map_or(text, |i| &text[i..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only(existing: &'static [&'static str]) -> impl Fn(&Path) -> io::Result<()> {
        move |p: &Path| {
            if existing.iter().any(|e| Path::new(e) == p) {
                Ok(())
            } else if p == Path::new("/etc") {
                Err(io::Error::from_raw_os_error(libc::EACCES))
            } else {
                Err(io::Error::from(io::ErrorKind::NotFound))
            }
        }
    }

    #[test]
    fn names_are_searched_in_path_order() {
        let found = find_executable("sh", "/usr/bin:/bin", only(&["/bin/sh", "/usr/bin/sh"]));
        assert_eq!(found.unwrap(), PathBuf::from("/usr/bin/sh"));
        let found = find_executable("sh", "/usr/bin::/bin", only(&["./sh"]));
        assert_eq!(found.unwrap(), PathBuf::from("./sh"));
    }

    #[test]
    fn failures_use_runc_s_words() {
        assert_eq!(
            find_executable("nope", "/bin", only(&[])).unwrap_err(),
            "exec: \"nope\": executable file not found in $PATH"
        );
        assert_eq!(
            find_executable("/bin/nope", "/bin", only(&[])).unwrap_err(),
            "exec: \"/bin/nope\": stat /bin/nope: no such file or directory"
        );
        assert_eq!(
            find_executable("/etc", "/bin", only(&[])).unwrap_err(),
            "exec: \"/etc\": permission denied"
        );
        assert_eq!(
            find_executable("./x", "/bin", only(&["./x"])).unwrap(),
            PathBuf::from("./x")
        );
    }

    #[test]
    fn path_falls_back_to_the_default() {
        assert_eq!(path_var(&["A=1".into(), "PATH=/x".into()]), "/x");
        assert_eq!(path_var(&[]), DEFAULT_PATH);
    }

    #[test]
    fn core_message_keeps_runc_s_part() {
        let wrapped = "failed to create container: exec process failed with error error in \
                       executing process : exec: \"x\": executable file not found in $PATH";
        assert_eq!(
            core_message(wrapped),
            "exec: \"x\": executable file not found in $PATH"
        );
        assert_eq!(core_message("something else"), "something else");
    }
}
