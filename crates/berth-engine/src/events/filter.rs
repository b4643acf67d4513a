//! Which events a `filters` value selects, with moby's rules (`daemon/events/filter.go`):
//! every key must match; names match by prefix, images also without their tag, labels as
//! `k` or `k=v`.

use berth_api::events::{event_type, EventMessage};
use berth_api::{FilterError, Filters};

pub const ACCEPTED_FILTERS: &[&str] = &[
    "config",
    "container",
    "daemon",
    "event",
    "image",
    "label",
    "network",
    "node",
    "plugin",
    "scope",
    "secret",
    "service",
    "type",
    "volume",
];

const EVENT_TYPES: &[&str] = &[
    event_type::BUILDER,
    event_type::CONFIG,
    event_type::CONTAINER,
    event_type::DAEMON,
    event_type::IMAGE,
    event_type::NETWORK,
    event_type::NODE,
    event_type::PLUGIN,
    event_type::SECRET,
    event_type::SERVICE,
    event_type::VOLUME,
];

/// Rejects unknown keys, and `type`/`scope` values no event can have.
pub fn validate_filters(filters: &Filters) -> Result<(), FilterError> {
    filters.validate(ACCEPTED_FILTERS)?;
    let check = |key: &str, allowed: &[&str]| {
        filters
            .get(key)
            .find(|v| !allowed.contains(v))
            .map(|v| FilterError::InvalidValue {
                key: key.to_owned(),
                value: v.to_owned(),
            })
    };
    match check("type", EVENT_TYPES).or_else(|| check("scope", &["local", "swarm"])) {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

pub fn matches(filters: &Filters, ev: &EventMessage) -> bool {
    match_action(filters, ev)
        && filters.exact_match("type", &ev.typ)
        && filters.exact_match("scope", &ev.scope)
        && [
            event_type::DAEMON,
            event_type::CONTAINER,
            event_type::PLUGIN,
            event_type::VOLUME,
            event_type::NETWORK,
            event_type::NODE,
            event_type::SERVICE,
            event_type::SECRET,
            event_type::CONFIG,
        ]
        .iter()
        .all(|typ| match_name(filters, ev, typ))
        && match_image(filters, ev)
        && filters.match_kv_list("label", |k| ev.actor.attributes.get(k).map(String::as_str))
}

/// `event=health_status` selects `health_status: healthy` too (moby#25798).
fn match_action(filters: &Filters, ev: &EventMessage) -> bool {
    let prefixed = ["health_status", "exec_create", "exec_start"];
    if filters.get("event").any(|v| prefixed.contains(&v)) {
        filters.fuzzy_match("event", &ev.action)
    } else {
        filters.exact_match("event", &ev.action)
    }
}

/// A `container=x` style filter matches the actor's ID or `name` attribute by prefix.
fn match_name(filters: &Filters, ev: &EventMessage, typ: &str) -> bool {
    if !filters.contains(typ) {
        return true;
    }
    let name = ev.actor.attributes.get("name").map_or("", String::as_str);
    filters.fuzzy_match(typ, &ev.actor.id) || (!name.is_empty() && filters.fuzzy_match(typ, name))
}

fn match_image(filters: &Filters, ev: &EventMessage) -> bool {
    if !filters.contains("image") {
        return true;
    }
    let attr = if ev.typ == event_type::IMAGE {
        "name"
    } else {
        "image"
    };
    let name = ev.actor.attributes.get(attr).map_or("", String::as_str);
    [ev.actor.id.as_str(), name]
        .iter()
        .filter(|s| !s.is_empty())
        .any(|s| filters.exact_match("image", s) || filters.exact_match("image", strip_tag(s)))
}

/// `busybox:latest` → `busybox`; leaves `host:5000/x` and digests alone.
fn strip_tag(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    match image.rfind(':') {
        Some(i) if !image[i..].contains('/') => &image[..i],
        _ => image,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_api::events::EventActor;

    fn ev(typ: &str, action: &str, id: &str, attrs: &[(&str, &str)]) -> EventMessage {
        let actor = EventActor {
            id: id.into(),
            attributes: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        EventMessage::new(typ, action, actor, 1)
    }

    fn f(args: &[&str]) -> Filters {
        Filters::from_cli_args(args.iter().copied()).unwrap()
    }

    #[test]
    fn type_event_and_label_filters() {
        let start = ev(
            "container",
            "start",
            "abc123",
            &[
                ("name", "web"),
                ("image", "busybox:latest"),
                ("tier", "front"),
            ],
        );
        assert!(matches(&f(&[]), &start));
        assert!(matches(&f(&["type=container", "event=start"]), &start));
        assert!(!matches(&f(&["type=image"]), &start));
        assert!(!matches(&f(&["event=stop"]), &start));
        assert!(matches(&f(&["label=tier=front"]), &start));
        assert!(!matches(&f(&["label=tier=back"]), &start));
        assert!(matches(&f(&["label=tier"]), &start));
    }

    #[test]
    fn names_match_by_prefix_and_images_without_tag() {
        let start = ev(
            "container",
            "start",
            "abc123",
            &[("name", "web"), ("image", "busybox:latest")],
        );
        assert!(matches(&f(&["container=abc"]), &start));
        assert!(matches(&f(&["container=web"]), &start));
        assert!(!matches(&f(&["container=db"]), &start));
        assert!(matches(&f(&["image=busybox"]), &start));
        assert!(matches(&f(&["image=busybox:latest"]), &start));
        assert!(!matches(&f(&["image=alpine"]), &start));
        let tag = ev(
            "image",
            "tag",
            "sha256:1",
            &[("name", "localhost:5000/x:1")],
        );
        assert!(matches(&f(&["image=localhost:5000/x"]), &tag));
        // A container filter excludes events of other objects.
        assert!(!matches(&f(&["container=web"]), &tag));
    }

    #[test]
    fn health_status_matches_by_prefix() {
        let h = ev("container", "health_status: healthy", "c1", &[]);
        assert!(matches(&f(&["event=health_status"]), &h));
        assert!(!matches(&f(&["event=health"]), &h));
    }

    #[test]
    fn validation_rejects_unknown_keys_and_types() {
        assert!(validate_filters(&f(&["type=container", "label=a"])).is_ok());
        assert_eq!(
            validate_filters(&f(&["colour=red"]))
                .unwrap_err()
                .to_string(),
            "invalid filter 'colour'"
        );
        assert_eq!(
            validate_filters(&f(&["type=bogus"]))
                .unwrap_err()
                .to_string(),
            "invalid filter 'type=bogus'"
        );
    }

    #[test]
    fn strip_tag_keeps_registry_ports() {
        assert_eq!(strip_tag("busybox:latest"), "busybox");
        assert_eq!(strip_tag("host:5000/x"), "host:5000/x");
        assert_eq!(strip_tag("host:5000/x:1"), "host:5000/x");
        assert_eq!(strip_tag("x@sha256:abc"), "x");
    }
}
