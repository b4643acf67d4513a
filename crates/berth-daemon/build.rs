//! Records the compiler and commit the daemon was built with, for `/version`, and builds
//! the static `--init` program (init/main.rs) that the daemon embeds.
use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rustc_version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.split_whitespace().nth(1).unwrap_or("unknown").to_owned())
        .unwrap_or_else(|| "unknown".into());
    let commit = Command::new("git")
        .args(["rev-parse", "--short=7", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    // The commit's time, not the wall clock, so builds are reproducible.
    let build_time = Command::new("git")
        .args(["log", "-1", "--format=%cI"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=BERTH_RUSTC_VERSION={rustc_version}");
    println!("cargo:rustc-env=BERTH_BUILD_TIME={build_time}");
    println!("cargo:rustc-env=BERTH_GIT_COMMIT={commit}");
    println!("cargo:rerun-if-changed=build.rs");
    build_init();
}

/// init/main.rs → `$OUT_DIR/berth-init`, statically linked so it runs in any image.
fn build_init() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let target = std::env::var("TARGET").expect("TARGET");
    let status = Command::new(rustc)
        .args([
            "--edition",
            "2021",
            "-O",
            "-C",
            "panic=abort",
            "-C",
            "target-feature=+crt-static",
        ])
        .args([
            "-C",
            "strip=symbols",
            "--crate-type",
            "bin",
            "--target",
            &target,
        ])
        .arg("-o")
        .arg(out.join("berth-init"))
        .arg("init/main.rs")
        .status()
        .expect("run rustc for the init program");
    assert!(status.success(), "building init/main.rs failed");
    println!("cargo:rerun-if-changed=init/main.rs");
}
