//! `berth events`: the daemon's event stream, printed as `docker events` prints it.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use berth_api::events::EventMessage;
use berth_api::Filters;
use berth_client::JsonLines;
use chrono::{Local, TimeZone};
use http::Method;

use super::query::Query;
use super::timestamp::to_api_timestamp;
use super::{output, GlobalOptions};

#[derive(clap::Args, Debug)]
pub struct EventsArgs {
    /// Show all events created since timestamp
    #[arg(long)]
    pub since: Option<String>,
    /// Stream events until this timestamp
    #[arg(long)]
    pub until: Option<String>,
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter", value_name = "FILTER")]
    pub filters: Vec<String>,
    /// Format output using a custom template: 'json' or a Go template
    #[arg(long)]
    pub format: Option<String>,
}

fn query(args: &EventsArgs) -> Result<Query> {
    let now = Local::now();
    let mut q = Query::new();
    if let Some(s) = &args.since {
        q.push("since", &to_api_timestamp(s, now)?);
    }
    if let Some(u) = &args.until {
        q.push("until", &to_api_timestamp(u, now)?);
    }
    let filters = Filters::from_cli_args(args.filters.iter().map(String::as_str))
        .map_err(anyhow::Error::msg)?;
    if !filters.is_empty() {
        q.push("filters", &filters.to_json());
    }
    Ok(q)
}

/// `2024-01-02T03:04:05.000000000Z container start ID (k=v, ...)`, docker's layout.
pub fn pretty(ev: &EventMessage) -> String {
    let t = Local.timestamp_nanos(ev.time_nano);
    let zone = if t.offset().local_minus_utc() == 0 {
        "Z".to_owned()
    } else {
        t.format("%:z").to_string()
    };
    let mut line = format!(
        "{}{zone} {} {} {}",
        t.format("%Y-%m-%dT%H:%M:%S%.9f"),
        ev.typ,
        ev.action,
        ev.actor.id
    );
    if !ev.actor.attributes.is_empty() {
        let attrs: Vec<String> = ev
            .actor
            .attributes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        line.push_str(&format!(" ({})", attrs.join(", ")));
    }
    line
}

pub async fn run(g: &GlobalOptions, args: EventsArgs) -> Result<ExitCode> {
    let q = query(&args)?;
    let mut client = g.client()?;
    let res = client
        .request(Method::GET, &q.path("/events"), None)
        .await?;
    let mut lines = JsonLines::new(res);
    let mut out = std::io::stdout();
    while let Some(ev) = lines.next::<EventMessage>().await? {
        let mut lock = out.lock();
        match args.format.as_deref() {
            Some(f) => output::render_one(&mut lock, f, &serde_json::to_value(&ev)?)?,
            None => writeln!(lock, "{}", pretty(&ev))?,
        }
        lock.flush()?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_api::events::EventActor;

    #[test]
    fn pretty_lists_attributes_sorted() {
        let mut actor = EventActor {
            id: "abc".into(),
            ..Default::default()
        };
        actor.attributes.insert("name".into(), "web".into());
        actor.attributes.insert("image".into(), "busybox".into());
        let ev = EventMessage::new("container", "start", actor, 1_700_000_000_000_000_001);
        let line = pretty(&ev);
        assert!(
            line.ends_with(" container start abc (image=busybox, name=web)"),
            "{line}"
        );
        assert!(line.contains(".000000001"), "{line}");
    }

    #[test]
    fn query_encodes_filters_in_the_cli_shape() {
        let args = EventsArgs {
            since: Some("1700000000".into()),
            until: None,
            filters: vec!["type=container".into()],
            format: None,
        };
        let q = query(&args).unwrap().encode();
        assert_eq!(
            q,
            "since=1700000000&filters=%7B%22type%22%3A%7B%22container%22%3Atrue%7D%7D"
        );
    }
}
