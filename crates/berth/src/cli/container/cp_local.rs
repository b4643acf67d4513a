//! The local side of `cp`: go-archive's copy rules (`CopyInfoSourcePath`,
//! `CopyInfoDestinationPath`, `PrepareArchiveCopy`, `GetRebaseName`) and the tar in and
//! out of local directories. Extraction goes through `berth-rootfs`, anchored at the
//! destination directory, so an archive from a container (whose names, links and hard
//! links are the container's choice) can never write outside it.

use std::io::{self, Read, Write};
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

use anyhow::{bail, Result};
use berth_rootfs::path::{
    base, clean, has_trailing_separator, preserve_trailing_dot_or_separator, specifies_current_dir,
    split_dir_entry,
};
use berth_rootfs::{Root, UnpackOptions};

/// What `cp` knows about one end of a copy (go-archive's `CopyInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyInfo {
    pub path: String,
    pub exists: bool,
    pub is_dir: bool,
    /// The name the archive's first element takes (a followed symlink keeps its name).
    pub rebase_name: Option<String>,
}

fn s(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// An I/O error worded as Go does (`lstat /x: no such file or directory`).
pub fn go_io(op: &str, path: &str, e: &io::Error) -> anyhow::Error {
    let text = e.to_string();
    let text = text.split(" (os error").next().unwrap_or("").to_owned();
    let mut chars = text.chars();
    let text: String = match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => text,
    };
    anyhow::anyhow!("{op} {path}: {text}")
}

/// docker's `resolveLocalPath`: absolute, cleaned, trailing `/` or `/.` kept.
pub fn resolve_local_path(p: &str) -> Result<String> {
    let abs = if p.starts_with('/') {
        p.to_owned()
    } else {
        format!("{}/{p}", std::env::current_dir()?.display())
    };
    Ok(s(&preserve_trailing_dot_or_separator(
        &clean(abs.as_bytes()),
        p.as_bytes(),
    )))
}

/// `ValidateOutputPath`: the parent must exist, and an existing path must be a directory
/// or a regular file.
pub fn validate_output_path(p: &str) -> Result<()> {
    let parent = berth_rootfs::path::dir(&clean(p.as_bytes()));
    if parent != b"." && !Path::new(&s(&parent)).exists() {
        bail!(
            "invalid output path: directory {:?} does not exist",
            s(&parent)
        );
    }
    match std::fs::metadata(p) {
        Ok(m) if m.is_dir() || m.is_file() => Ok(()),
        Ok(m) if m.file_type().is_block_device() || m.file_type().is_char_device() => {
            bail!("invalid output path: {p:?} must be a directory or a regular file: got a device")
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(go_io("stat", p, &e)),
    }
}

/// `GetRebaseName`: the resolved path with the original's trailing `/.` or `/`, and the
/// original's base name when resolution changed it.
pub fn rebase_name(original: &str, resolved: &str) -> (String, Option<String>) {
    let mut resolved = resolved.to_owned();
    if specifies_current_dir(original.as_bytes()) && !specifies_current_dir(resolved.as_bytes()) {
        resolved.push_str("/.");
    }
    if has_trailing_separator(original.as_bytes()) && !has_trailing_separator(resolved.as_bytes()) {
        resolved.push('/');
    }
    let name = (base(original.as_bytes()) != base(resolved.as_bytes()))
        .then(|| s(base(original.as_bytes())));
    (resolved, name)
}

/// `EvalSymlinks` with Go's error wording.
fn eval_symlinks(p: &str) -> Result<String> {
    std::fs::canonicalize(p)
        .map(|r| r.to_string_lossy().into_owned())
        .map_err(|e| go_io("lstat", p.trim_end_matches('/'), &e))
}

/// `CopyInfoSourcePath`: a local source, symlinks before the last element resolved (and
/// the last one too with `-L`). It must exist.
pub fn copy_info_source_path(p: &str, follow_link: bool) -> Result<CopyInfo> {
    let (resolved, rebase) = if follow_link {
        let target = eval_symlinks(p)?;
        rebase_name(p, &target)
    } else {
        let cut = p.rfind('/').map_or(0, |i| i + 1);
        let (dir_part, base_part) = p.split_at(cut);
        let dir = if dir_part.is_empty() {
            ".".to_owned()
        } else {
            eval_symlinks(dir_part)?
        };
        let resolved = format!("{}/{base_part}", dir.trim_end_matches('/'));
        let rebase = (has_trailing_separator(p.as_bytes())
            && base(p.as_bytes()) != base(resolved.as_bytes()))
        .then(|| s(base(p.as_bytes())));
        (resolved, rebase)
    };
    let meta = std::fs::symlink_metadata(&resolved).map_err(|e| go_io("lstat", &resolved, &e))?;
    Ok(CopyInfo {
        path: resolved,
        exists: true,
        is_dir: meta.is_dir(),
        rebase_name: rebase,
    })
}

/// `CopyInfoDestinationPath`: a local destination, a final symlink followed (up to 10
/// times); a missing destination needs an existing parent directory.
pub fn copy_info_destination_path(p: &str) -> Result<CopyInfo> {
    let mut path = p.to_owned();
    let mut hops = 0;
    loop {
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => {
                hops += 1;
                if hops > 11 {
                    bail!("too many symlinks in {p}");
                }
                let target = std::fs::read_link(&path).map_err(|e| go_io("readlink", &path, &e))?;
                let target = target.to_string_lossy().into_owned();
                path = if target.starts_with('/') {
                    target
                } else {
                    let (parent, _) = split_dir_entry(path.as_bytes());
                    s(&clean(format!("{}/{target}", s(&parent)).as_bytes()))
                };
            }
            Ok(m) => {
                return Ok(CopyInfo {
                    path,
                    exists: true,
                    is_dir: m.is_dir(),
                    rebase_name: None,
                })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let (parent, _) = split_dir_entry(path.as_bytes());
                let parent = s(&parent);
                let m = std::fs::metadata(&parent).map_err(|e| go_io("stat", &parent, &e))?;
                if !m.is_dir() {
                    bail!("not a directory");
                }
                return Ok(CopyInfo {
                    path,
                    ..Default::default()
                });
            }
            Err(e) => return Err(go_io("lstat", &path, &e)),
        }
    }
}

/// `PrepareArchiveCopy`: the directory to extract into and the rename (old first element,
/// new one) the archive needs there.
pub fn prepare_archive_copy(
    src: &CopyInfo,
    dst: &CopyInfo,
) -> Result<(String, Option<(String, String)>)> {
    let (dst_dir, dst_base) = split_dir_entry(dst.path.as_bytes());
    let (_, src_base) = split_dir_entry(src.path.as_bytes());
    let src_base = src.rebase_name.clone().unwrap_or_else(|| s(&src_base));
    let rename = Some((src_base, s(&dst_base)));
    match (dst.exists, dst.is_dir, src.is_dir) {
        (true, true, _) => Ok((dst.path.clone(), None)),
        (true, false, true) => bail!("cannot copy directory"),
        (true, false, false) | (false, _, true) => Ok((s(&dst_dir), rename)),
        (false, _, false)
            if has_trailing_separator(dst.path.as_bytes())
                || specifies_current_dir(dst.path.as_bytes()) =>
        {
            bail!("no such directory")
        }
        (false, _, false) => Ok((s(&dst_dir), rename)),
    }
}

/// go-archive's `RebaseArchiveEntries` rename: the root (`/`) as old name means "prefix".
fn rename_rule(old: &str, new: &str) -> (Vec<u8>, Vec<u8>) {
    let old = if old == "/" { "" } else { old };
    (old.as_bytes().to_vec(), new.as_bytes().to_vec())
}

/// `CopyTo`: extracts `archive` (the container's tar of `src`) to the local `dst`.
pub fn copy_to_local(archive: impl Read, src: &CopyInfo, dst: &str) -> Result<()> {
    let dst_info = copy_info_destination_path(dst)?;
    let mut renames = Vec::new();
    if let Some(name) = &src.rebase_name {
        let (_, src_base) = split_dir_entry(src.path.as_bytes());
        renames.push(rename_rule(&s(&src_base), name));
    }
    let (dst_dir, rename) = prepare_archive_copy(src, &dst_info)?;
    if let Some((old, new)) = rename {
        renames.push(rename_rule(&old, &new));
    }
    let root = Root::open(&dst_dir).map_err(|e| go_io("open", &dst_dir, &e))?;
    let opts = UnpackOptions {
        no_overwrite_dir_non_dir: true,
        no_chown: true,
        rebase: renames,
        dest_display: dst_dir.clone(),
        ..Default::default()
    };
    berth_rootfs::unpack(&root, archive, &opts)?;
    Ok(())
}

/// `TarResource`: writes the tar of the local `src`, its first element named `name`.
pub fn pack_local(src: &CopyInfo, name: &str, out: impl Write) -> io::Result<()> {
    let (dir, entry) = split_dir_entry(src.path.as_bytes());
    let root = Root::open(s(&dir))?;
    let abs = [b"/".as_slice(), &entry].concat();
    berth_rootfs::pack::archive_path_named(&root, &abs, name.as_bytes(), out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(path: &str, exists: bool, is_dir: bool) -> CopyInfo {
        CopyInfo {
            path: path.into(),
            exists,
            is_dir,
            rebase_name: None,
        }
    }

    #[test]
    fn prepare_follows_go_archive() {
        let file = info("/src/f", true, false);
        let dir = info("/src/d", true, true);
        assert_eq!(
            prepare_archive_copy(&file, &info("/dst", true, true)).unwrap(),
            ("/dst".into(), None)
        );
        assert_eq!(
            prepare_archive_copy(&file, &info("/dst/g", false, false)).unwrap(),
            ("/dst".into(), Some(("f".into(), "g".into())))
        );
        assert_eq!(
            prepare_archive_copy(&dir, &info("/dst/new", false, false)).unwrap(),
            ("/dst".into(), Some(("d".into(), "new".into())))
        );
        assert_eq!(
            prepare_archive_copy(&dir, &info("/dst/f", true, false))
                .unwrap_err()
                .to_string(),
            "cannot copy directory"
        );
        assert_eq!(
            prepare_archive_copy(&file, &info("/dst/new/", false, false))
                .unwrap_err()
                .to_string(),
            "no such directory"
        );
    }

    #[test]
    fn rebase_names_keep_what_the_user_asked_for() {
        assert_eq!(
            rebase_name("/a/link", "/a/target"),
            ("/a/target".into(), Some("link".into()))
        );
        assert_eq!(
            rebase_name("/a/link/", "/a/target"),
            ("/a/target/".into(), Some("link".into()))
        );
        assert_eq!(rebase_name("/a/d/.", "/b/d"), ("/b/d/.".into(), None));
        assert_eq!(rebase_name("/a/x", "/b/x"), ("/b/x".into(), None));
    }

    #[test]
    fn local_extraction_stays_in_the_destination() {
        let host = tempfile::tempdir().unwrap();
        let dst = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(host.path(), dst.path().join("link")).unwrap();
        let mut b = tar::Builder::new(Vec::new());
        let (name, data) = ("f/../../x", &b"evil"[..]);
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        b.append(&h, data).unwrap();
        let evil = b.into_inner().unwrap();
        let src = info("/f", true, true);
        let dst_path = dst.path().to_str().unwrap();
        assert!(copy_to_local(&evil[..], &src, dst_path).is_err());
        assert_eq!(std::fs::read_dir(host.path()).unwrap().count(), 0);
    }
}
