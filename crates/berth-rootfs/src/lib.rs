//! File operations anchored at a directory descriptor: a container's root (or, on the CLI
//! side, the local directory `docker cp` writes into). Every path is resolved by the kernel
//! inside that root (`openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`) and every final
//! component is used through `*at` calls that do not follow it, so neither a symlink
//! planted in the container nor one swapped in mid-operation (CVE-2018-15664) can make us
//! read or write a host file. Nothing from the root is executed or loaded.
//!
//! Owns: [`Root`] (open, stat, resolve, mkdir), [`stat_path`] (the archive API's path
//! stat, Go `os.FileMode` bits), [`archive_path`] (tar out, moby's naming rules),
//! [`unpack`] (tar in, go-archive's rules), and [`in_private_mount_namespace`] /
//! [`mount_into`] to assemble a view of a root with its mounts on a throwaway thread.
//!
//! It must not know about containers, images, the daemon or HTTP: callers hand it a root
//! directory and plain mount descriptions; decompression is the caller's (it gets plain
//! tar streams).

pub mod pack;
pub mod path;
mod root;
pub mod stat;
pub mod unpack;
pub mod view;

pub use pack::{archive_path, archive_path_mapped, archive_path_named, Packer};
pub use root::{is_missing, Root};
pub use stat::{go_file_mode, stat_path, PathStat};
pub use unpack::{unpack, UnpackError, UnpackOptions};
pub use view::{
    in_private_mount_namespace, is_mount_root, make_read_only, mount_id, mount_into,
    on_read_only_mount, unmount_detach, ViewMount,
};
