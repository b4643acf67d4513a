//! `logs`: the container's output, raw for a TTY and demultiplexed to stdout/stderr
//! otherwise; `--since`/`--until` take times or durations as docker's do.

use std::process::ExitCode;

use anyhow::Result;
use berth_client::stdcopy;
use clap::ArgAction;
use http::Method;

use super::stream::copy_flushing;
use super::{encode_id, inspect_container, values};
use crate::cli::query::Query;
use crate::cli::timestamp::to_api_timestamp;
use crate::cli::GlobalOptions;

#[derive(clap::Args, Debug)]
pub struct LogsArgs {
    /// Show extra details provided to logs
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub details: bool,
    /// Follow log output
    #[arg(short = 'f', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub follow: bool,
    /// Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)
    #[arg(long)]
    pub since: Option<String>,
    /// Number of lines to show from the end of the logs
    #[arg(short = 'n', long, default_value = "all", allow_hyphen_values = true)]
    pub tail: String,
    /// Show timestamps
    #[arg(short = 't', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub timestamps: bool,
    /// Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)
    #[arg(long)]
    pub until: Option<String>,
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

/// The logs query, as the Go client builds it.
pub fn logs_query(args: &LogsArgs, now: chrono::DateTime<chrono::Local>) -> Result<Query> {
    let mut q = Query::new();
    q.push("stdout", "1");
    q.push("stderr", "1");
    if let Some(s) = args.since.as_deref().filter(|s| !s.is_empty()) {
        let ts = to_api_timestamp(s, now)
            .map_err(|e| anyhow::anyhow!("invalid value for \"since\": {e}"))?;
        q.push("since", &ts);
    }
    if let Some(u) = args.until.as_deref().filter(|s| !s.is_empty()) {
        let ts = to_api_timestamp(u, now)
            .map_err(|e| anyhow::anyhow!("invalid value for \"until\": {e}"))?;
        q.push("until", &ts);
    }
    if args.timestamps {
        q.push("timestamps", "1");
    }
    if args.details {
        q.push("details", "1");
    }
    if args.follow {
        q.push("follow", "1");
    }
    q.push("tail", &args.tail);
    Ok(q)
}

pub async fn logs(g: &GlobalOptions, args: LogsArgs) -> Result<ExitCode> {
    let mut client = g.client()?;
    let c = inspect_container(&mut client, &args.container).await?;
    let id = c["Id"].as_str().unwrap_or_default();
    let q = logs_query(&args, chrono::Local::now())?;
    let res = client
        .request(
            Method::GET,
            &q.path(&format!("/containers/{}/logs", encode_id(id))),
            None,
        )
        .await?;
    let body = berth_client::body_reader(res);
    let mut stdout = tokio::io::stdout();
    if c["Config"]["Tty"].as_bool().unwrap_or(false) {
        copy_flushing(body, &mut stdout).await?;
    } else {
        let mut stderr = tokio::io::stderr();
        stdcopy::demux(body, &mut stdout, &mut stderr).await?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        a: LogsArgs,
    }

    fn query(args: &[&str]) -> Result<String> {
        let w = Wrapper::try_parse_from(std::iter::once("logs").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{e}"));
        let now = chrono::Local.timestamp_opt(1_700_000_000, 0).unwrap();
        logs_query(&w.a, now).map(|q| q.encode())
    }

    #[test]
    fn flags_become_the_query() {
        assert_eq!(query(&["c"]).unwrap(), "stdout=1&stderr=1&tail=all");
        assert_eq!(
            query(&["-f", "-t", "--details", "-n", "5", "--since", "10m", "c"]).unwrap(),
            "stdout=1&stderr=1&since=1699999400&timestamps=1&details=1&follow=1&tail=5"
        );
        assert_eq!(
            query(&["--until", "2023-11-14T22:13:20Z", "c"]).unwrap(),
            "stdout=1&stderr=1&until=1700000000.000000000&tail=all"
        );
        assert_eq!(
            query(&["--since", "yesterday", "c"])
                .unwrap_err()
                .to_string(),
            "invalid value for \"since\": failed to parse value as time or duration: \"yesterday\""
        );
    }
}
