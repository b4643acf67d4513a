//! `berth-bench`: the timing loops `bench/run` drives. Prints `key=value` lines (times in
//! microseconds) for the harness to read.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use berth_bench::stats::Summary;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "berth-bench", about = "Timing loops for bench/run")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Time GET requests over one keep-alive HTTP/1.1 connection to a unix socket
    Http {
        /// The daemon's unix socket
        #[arg(long)]
        socket: PathBuf,
        /// Request path
        #[arg(long, default_value = "/_ping")]
        path: String,
        /// Untimed requests first
        #[arg(long, default_value_t = 200)]
        warmup: usize,
        /// Timed requests
        #[arg(long, default_value_t = 2000)]
        requests: usize,
    },
    /// Time whole runs of a command (spawn to exit)
    Exec {
        /// Untimed runs first
        #[arg(long, default_value_t = 3)]
        warmup: usize,
        /// Timed runs
        #[arg(long, default_value_t = 30)]
        runs: usize,
        /// The command and its arguments
        #[arg(trailing_var_arg = true, required = true, num_args = 1..)]
        argv: Vec<String>,
    },
    /// Time one round of copies of a command started at once
    Parallel {
        /// Untimed rounds first
        #[arg(long, default_value_t = 1)]
        warmup: usize,
        /// Copies started together
        #[arg(long, default_value_t = 20)]
        jobs: usize,
        /// The command and its arguments
        #[arg(trailing_var_arg = true, required = true, num_args = 1..)]
        argv: Vec<String>,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let mut wall = None;
    let samples = match cli.command {
        Cmd::Http {
            socket,
            path,
            warmup,
            requests,
        } => berth_bench::http::time_gets(&socket, &path, warmup, requests)
            .with_context(|| format!("timing GET {path} on {}", socket.display()))?,
        Cmd::Exec { warmup, runs, argv } => berth_bench::command::time_runs(&argv, warmup, runs)
            .with_context(|| format!("timing {}", argv.join(" ")))?,
        Cmd::Parallel { warmup, jobs, argv } => {
            let round = berth_bench::command::time_parallel(&argv, warmup, jobs)
                .with_context(|| format!("timing {jobs} parallel {}", argv.join(" ")))?;
            wall = Some(round.wall);
            round.runs
        }
    };
    let Some(summary) = Summary::of(&samples) else {
        bail!("no timed samples (count was 0)");
    };
    print!("{}", render(&summary));
    if let Some(wall) = wall {
        // First spawn to last exit of the whole round.
        println!("wall_us={:.3}", wall.as_secs_f64() * 1e6);
    }
    Ok(())
}

fn render(s: &Summary) -> String {
    let us = |d: Duration| format!("{:.3}", d.as_secs_f64() * 1e6);
    format!(
        "count={}\nmean_us={}\nmin_us={}\np50_us={}\np90_us={}\np99_us={}\nmax_us={}\n",
        s.count,
        us(s.mean),
        us(s.min),
        us(s.p50),
        us(s.p90),
        us(s.p99),
        us(s.max)
    )
}
