//! Links the `berth` binary as a position-dependent executable (`-no-pie`).
//!
//! Every container has its own `berth shim` process running this binary. A PIE has
//! tens of thousands of relative relocations (vtables, string tables in `.data.rel.ro`)
//! that the dynamic loader applies at each start, copying ~600 KiB of pages per process:
//! the larger part of a shim's private memory. Linked at a fixed address, those pages
//! stay clean, shared with the page cache and with every other shim. (Upstream Docker's
//! and containerd's Go binaries are position-dependent too.) Only the bins get the flag:
//! libraries, tests and the static `--init` program (berth-daemon's build.rs) are not
//! affected.
fn main() {
    println!("cargo:rustc-link-arg-bins=-no-pie");
    println!("cargo:rerun-if-changed=build.rs");
}
