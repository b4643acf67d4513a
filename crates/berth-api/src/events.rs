use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One line of `GET /events`: moby's `events.Message`, including the deprecated
/// `status`/`id`/`from` fields it still fills for container and image events (API ≤ 1.51).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMessage {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub from: Option<String>,
    #[serde(rename = "Type")]
    pub typ: String,
    #[serde(rename = "Action")]
    pub action: String,
    #[serde(rename = "Actor")]
    pub actor: EventActor,
    pub scope: String,
    pub time: i64,
    #[serde(rename = "timeNano")]
    pub time_nano: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventActor {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Attributes", default)]
    pub attributes: BTreeMap<String, String>,
}

/// The object types that emit events (moby's `events.Type`).
pub mod event_type {
    pub const BUILDER: &str = "builder";
    pub const CONFIG: &str = "config";
    pub const CONTAINER: &str = "container";
    pub const DAEMON: &str = "daemon";
    pub const IMAGE: &str = "image";
    pub const NETWORK: &str = "network";
    pub const NODE: &str = "node";
    pub const PLUGIN: &str = "plugin";
    pub const SECRET: &str = "secret";
    pub const SERVICE: &str = "service";
    pub const VOLUME: &str = "volume";
}

impl EventMessage {
    /// Builds a local-scope message and fills the legacy fields the way moby does.
    pub fn new(typ: &str, action: &str, actor: EventActor, time_nano: i64) -> Self {
        let legacy = matches!(typ, event_type::CONTAINER | event_type::IMAGE);
        let from = (typ == event_type::CONTAINER)
            .then(|| actor.attributes.get("image").cloned())
            .flatten();
        Self {
            status: legacy.then(|| action.to_owned()),
            id: legacy.then(|| actor.id.clone()),
            from,
            typ: typ.to_owned(),
            action: action.to_owned(),
            actor,
            scope: "local".to_owned(),
            time: time_nano.div_euclid(1_000_000_000),
            time_nano,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_events_carry_the_legacy_fields_and_daemon_events_do_not() {
        let mut actor = EventActor {
            id: "abc".into(),
            ..Default::default()
        };
        actor.attributes.insert("image".into(), "busybox".into());
        let c = EventMessage::new(
            event_type::CONTAINER,
            "start",
            actor.clone(),
            1_500_000_000_123,
        );
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["status"], "start");
        assert_eq!(json["id"], "abc");
        assert_eq!(json["from"], "busybox");
        assert_eq!(json["time"], 1500);
        assert_eq!(json["timeNano"], 1_500_000_000_123i64);
        assert_eq!(json["Actor"]["Attributes"]["image"], "busybox");

        let d = EventMessage::new(event_type::DAEMON, "reload", actor, 0);
        let json = serde_json::to_value(&d).unwrap();
        assert!(json.get("status").is_none() && json.get("from").is_none());
        assert_eq!(json["scope"], "local");
    }
}
