//! Builders for crafted layer tars (names the tar crate's safe setters would refuse).
#![allow(dead_code)]

use std::path::Path;

pub enum Kind<'a> {
    File(&'a [u8]),
    Dir,
    Symlink(&'a str),
    Hardlink(&'a str),
    Char(u32, u32),
    Fifo,
}

pub struct LayerTar {
    b: tar::Builder<Vec<u8>>,
}

impl Default for LayerTar {
    fn default() -> Self {
        Self::new()
    }
}

impl LayerTar {
    pub fn new() -> Self {
        Self {
            b: tar::Builder::new(Vec::new()),
        }
    }

    /// Appends an entry with `name` written raw into the header.
    pub fn entry(mut self, name: &str, kind: Kind<'_>, mode: u32) -> Self {
        let mut h = tar::Header::new_gnu();
        let (data, ty): (&[u8], _) = match kind {
            Kind::File(d) => (d, tar::EntryType::Regular),
            Kind::Dir => (&[], tar::EntryType::Directory),
            Kind::Symlink(t) => {
                raw_link(&mut h, t);
                (&[], tar::EntryType::Symlink)
            }
            Kind::Hardlink(t) => {
                raw_link(&mut h, t);
                (&[], tar::EntryType::Link)
            }
            Kind::Char(ma, mi) => {
                h.set_device_major(ma).unwrap();
                h.set_device_minor(mi).unwrap();
                (&[], tar::EntryType::Char)
            }
            Kind::Fifo => (&[], tar::EntryType::Fifo),
        };
        h.set_entry_type(ty);
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_600_000_000);
        let nb = &mut h.as_old_mut().name;
        nb.fill(0);
        nb[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        self.b.append(&h, data).unwrap();
        self
    }

    pub fn file(self, name: &str, data: &[u8]) -> Self {
        self.entry(name, Kind::File(data), 0o644)
    }

    pub fn dir(self, name: &str) -> Self {
        self.entry(name, Kind::Dir, 0o755)
    }

    pub fn finish(self) -> Vec<u8> {
        self.b.into_inner().unwrap()
    }
}

fn raw_link(h: &mut tar::Header, target: &str) {
    let lb = &mut h.as_old_mut().linkname;
    lb.fill(0);
    lb[..target.len()].copy_from_slice(target.as_bytes());
}

/// Every path under `root` with its type, mode, size and content, for comparing trees.
pub fn snapshot_tree(root: &Path) -> Vec<(String, String)> {
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            let content = if m.is_file() {
                format!("{:?}", std::fs::read(&p).unwrap())
            } else if m.file_type().is_symlink() {
                std::fs::read_link(&p).unwrap().display().to_string()
            } else {
                String::new()
            };
            out.push((
                rel,
                format!(
                    "mode={:o} uid={} gid={} rdev={} {content}",
                    m.mode(),
                    m.uid(),
                    m.gid(),
                    m.rdev()
                ),
            ));
            if m.is_dir() {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}
