//! `GET /containers/json`: the `ps` view with moby's filters (daemon/list.go).

use std::sync::Arc;

use berth_api::Filters;

use super::record::{ContainerRecord, Status};
use crate::error::EngineError;
use crate::Engine;

const ACCEPTED: &[&str] = &[
    "ancestor",
    "before",
    "exited",
    "id",
    "isolation",
    "label",
    "name",
    "status",
    "health",
    "since",
    "volume",
    "network",
    "is-task",
    "publish",
    "expose",
];

pub struct ListOptions<'a> {
    pub all: bool,
    /// `limit` (≤ 0: none); implies all, as in moby.
    pub limit: i64,
    pub filters: &'a Filters,
}

fn invalid(key: &str, value: &str) -> EngineError {
    EngineError::InvalidParameter(format!("invalid filter '{key}={value}'"))
}

fn health_of(rec: &ContainerRecord) -> &str {
    match &rec.state.health {
        Some(h) => h.status.as_str(),
        None if rec
            .config
            .healthcheck
            .as_ref()
            .is_some_and(super::lifecycle::health_enabled) =>
        {
            "starting"
        }
        None => "none",
    }
}

/// The containers `ps` shows, newest first.
pub fn list(
    engine: &Arc<Engine>,
    opts: ListOptions<'_>,
) -> Result<Vec<ContainerRecord>, EngineError> {
    let f = opts.filters;
    f.validate(ACCEPTED)
        .map_err(|e| EngineError::InvalidParameter(e.to_string()))?;
    for v in f.get("status") {
        if ![
            "created",
            "running",
            "paused",
            "restarting",
            "removing",
            "exited",
            "dead",
        ]
        .contains(&v)
        {
            return Err(EngineError::InvalidParameter(format!(
                "invalid filter 'status={v}'"
            )));
        }
    }
    for v in f.get("health") {
        if !["starting", "healthy", "unhealthy", "none"].contains(&v) {
            return Err(EngineError::InvalidParameter(format!(
                "Unrecognised filter value for health: {v}"
            )));
        }
    }
    let mut exited = Vec::new();
    for v in f.get("exited") {
        exited.push(v.parse::<i64>().map_err(|_| invalid("exited", v))?);
    }
    let mut all: Vec<ContainerRecord> = engine
        .containers
        .all()
        .iter()
        .map(|c| c.snapshot())
        .collect();
    all.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| b.id.cmp(&a.id)));
    let lookup_created = |key: &str, v: &str| -> Result<String, EngineError> {
        engine
            .containers
            .get(v)
            .map(|c| c.snapshot().created)
            .map_err(|_| invalid(key, v))
    };
    let before: Option<String> = f
        .get("before")
        .next()
        .map(|v| lookup_created("before", v))
        .transpose()?;
    let since: Option<String> = f
        .get("since")
        .next()
        .map(|v| lookup_created("since", v))
        .transpose()?;
    let ancestors: Vec<String> = f
        .get("ancestor")
        .filter_map(|a| engine.images.resolve(a).ok().map(|i| i.id.to_string()))
        .collect();
    // Stopped containers only with `all`, a limit, or a status/exited filter (moby's
    // foldFilter sets All for those).
    let include_all = opts.all || opts.limit > 0 || f.contains("status") || f.contains("exited");
    let mut out = Vec::new();
    for rec in all {
        let status = rec.state.status;
        if !include_all
            && !matches!(
                status,
                Status::Running | Status::Paused | Status::Restarting
            )
        {
            continue;
        }
        if let Some(b) = &before {
            if rec.created >= *b {
                continue;
            }
        }
        if let Some(s) = &since {
            if rec.created <= *s {
                continue;
            }
        }
        if !f.fuzzy_match("id", &rec.id) {
            continue;
        }
        if f.contains("name")
            && !f.get("name").any(|n| {
                let n = n.trim_start_matches('/');
                rec.name.contains(n) || regex_like(n, &rec.name)
            })
        {
            continue;
        }
        if !f.exact_match("status", status.as_str()) {
            continue;
        }
        if !exited.is_empty()
            && (status != Status::Exited || !exited.contains(&rec.state.exit_code))
        {
            continue;
        }
        let labels = rec.config.labels.clone().unwrap_or_default();
        if !f.match_kv_list("label", |k| labels.get(k).map(String::as_str)) {
            continue;
        }
        if !f.exact_match("health", health_of(&rec)) {
            continue;
        }
        if f.contains("ancestor") {
            let img = rec.config.image.clone().unwrap_or_default();
            let hit = ancestors.contains(&rec.image)
                || f.get("ancestor").any(|a| {
                    a == img
                        || a == rec.image
                        || rec.image.trim_start_matches("sha256:").starts_with(a)
                });
            if !hit {
                continue;
            }
        }
        if f.contains("network") {
            // By name or ID of any network the container is connected to (moby matches the
            // endpoints' network names and IDs).
            let mode = rec.host_config.network_mode.clone().unwrap_or_default();
            let hit = f.get("network").any(|n| {
                n == mode
                    || rec.network.endpoints.iter().any(|e| {
                        e.network_name == n || (n.len() >= 12 && e.network_id.starts_with(n))
                    })
            });
            if !hit {
                continue;
            }
        }
        if f.contains("is-task") && f.get("is-task").any(|v| v == "true") {
            continue;
        }
        if f.contains("volume") {
            // moby: a volume's name (a bind's source) or any mount's destination.
            let hit = f.get("volume").any(|v| {
                rec.mount_points.iter().any(|m| {
                    m.destination == *v
                        || if m.name.is_empty() {
                            m.source == *v
                        } else {
                            m.name == *v
                        }
                })
            });
            if !hit {
                continue;
            }
        }
        if f.contains("publish") {
            // `publish=8080`, `8080/tcp`, or `8080-8090/tcp` against the bound host ports.
            let hit = f.get("publish").any(|spec| {
                let (ports, proto) = spec.split_once('/').unwrap_or((spec, ""));
                let (lo, hi) = match ports.split_once('-') {
                    Some((a, b)) => (a.parse().unwrap_or(0), b.parse().unwrap_or(0)),
                    None => {
                        let p = ports.parse::<u16>().unwrap_or(0);
                        (p, p)
                    }
                };
                rec.network.ports.iter().any(|p| {
                    (lo..=hi).contains(&p.host_port) && (proto.is_empty() || proto == p.proto)
                })
            });
            if !hit {
                continue;
            }
        }
        if f.contains("expose") {
            let ports = rec.config.exposed_ports.clone().unwrap_or_default();
            if !f.get("expose").any(|e| {
                ports
                    .iter()
                    .any(|p| p == e || p.split('/').next() == Some(e))
            }) {
                continue;
            }
        }
        out.push(rec);
        if opts.limit > 0 && out.len() as i64 >= opts.limit {
            break;
        }
    }
    Ok(out)
}

/// moby matches `name` as a regular expression; support the anchors people use.
fn regex_like(pattern: &str, name: &str) -> bool {
    let starts = pattern.starts_with('^');
    let ends = pattern.ends_with('$');
    let core = pattern.trim_start_matches('^').trim_end_matches('$');
    match (starts, ends) {
        (true, true) => name == core,
        (true, false) => name.starts_with(core),
        (false, true) => name.ends_with(core),
        _ => name.contains(core),
    }
}
