//! `berth`: one binary for the CLI commands and the daemon. The CLI side is a thin client
//! of the Engine API (`berth-client`); it never touches the engine directly.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // The hidden `berth shim <state_dir>` runs before anything else (no clap, no runtime):
    // it forks, and a shim must start cheap and single-threaded.
    let mut argv = std::env::args_os().skip(1);
    if argv.next().is_some_and(|a| a == "shim") {
        return match argv.next() {
            Some(state_dir) => berth_shim::main(std::path::Path::new(&state_dir)),
            None => {
                eprintln!("usage: berth shim STATE_DIR");
                ExitCode::from(2)
            }
        };
    }
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        // A closed pipe (`berth info | head`) is the reader's choice, not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e:#}");
            ExitCode::from(1)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
