//! The in-daemon events bus: every object change is published here once, kept in a bounded
//! history (so `events --since` can look back) and fanned out to live subscribers.

mod filter;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use berth_api::events::{EventActor, EventMessage};
use tokio::sync::broadcast;

pub use filter::{matches, validate_filters, ACCEPTED_FILTERS};

/// How many past events `since` can reach (moby keeps 256; a larger window costs little).
pub const HISTORY_LEN: usize = 1024;
/// How far a slow live subscriber may fall behind before it misses events.
const LIVE_BUFFER: usize = 1024;

pub struct EventsBus {
    history: Mutex<VecDeque<Arc<EventMessage>>>,
    live: broadcast::Sender<Arc<EventMessage>>,
}

/// What a new subscriber gets: the past events it asked for, then the live feed, with
/// nothing lost or repeated between the two.
pub struct Subscription {
    pub backlog: Vec<Arc<EventMessage>>,
    pub live: broadcast::Receiver<Arc<EventMessage>>,
}

impl Default for EventsBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventsBus {
    pub fn new() -> Self {
        Self {
            history: Mutex::new(VecDeque::with_capacity(HISTORY_LEN)),
            live: broadcast::channel(LIVE_BUFFER).0,
        }
    }

    /// Publishes an event stamped with the current time, and returns it.
    pub fn publish(
        &self,
        typ: &str,
        action: &str,
        id: impl Into<String>,
        attributes: BTreeMap<String, String>,
    ) -> Arc<EventMessage> {
        let actor = EventActor {
            id: id.into(),
            attributes,
        };
        let mut history = self.history.lock().unwrap_or_else(|p| p.into_inner());
        // Stamp under the lock so history stays ordered by time.
        let now = unix_nanos_now().max(history.back().map_or(0, |e| e.time_nano));
        let event = Arc::new(EventMessage::new(typ, action, actor, now));
        if history.len() == HISTORY_LEN {
            history.pop_front();
        }
        history.push_back(event.clone());
        // No receivers is fine: nobody is listening right now.
        let _ = self.live.send(event.clone());
        event
    }

    /// Subscribes to live events; with `since_nanos`, also returns past events at or after it.
    pub fn subscribe(&self, since_nanos: Option<i64>) -> Subscription {
        let history = self.history.lock().unwrap_or_else(|p| p.into_inner());
        let backlog = match since_nanos {
            Some(since) => history
                .iter()
                .filter(|e| e.time_nano >= since)
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        // Subscribing while holding the history lock means no event falls between the two.
        let live = self.live.subscribe();
        Subscription { backlog, live }
    }

    /// Number of live subscribers (`NEventsListener` in `info`).
    pub fn listeners(&self) -> usize {
        self.live.receiver_count()
    }
}

pub fn unix_nanos_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[tokio::test]
    async fn subscriber_gets_backlog_since_then_live_events_in_order() {
        let bus = EventsBus::new();
        let first = bus.publish("daemon", "reload", "d1", attrs(&[]));
        bus.publish("daemon", "reload", "d2", attrs(&[]));
        let mut sub = bus.subscribe(Some(first.time_nano));
        assert_eq!(sub.backlog.len(), 2);
        assert_eq!(sub.backlog[0].actor.id, "d1");
        bus.publish("image", "tag", "i1", attrs(&[("name", "x:1")]));
        let live = sub.live.recv().await.unwrap();
        assert_eq!(live.actor.id, "i1");
        assert!(live.time_nano >= sub.backlog[1].time_nano);
    }

    #[test]
    fn without_since_there_is_no_backlog() {
        let bus = EventsBus::new();
        bus.publish("daemon", "reload", "d1", attrs(&[]));
        assert!(bus.subscribe(None).backlog.is_empty());
    }

    #[test]
    fn history_is_bounded() {
        let bus = EventsBus::new();
        for i in 0..HISTORY_LEN + 10 {
            bus.publish("daemon", "reload", format!("d{i}"), attrs(&[]));
        }
        let sub = bus.subscribe(Some(0));
        assert_eq!(sub.backlog.len(), HISTORY_LEN);
        assert_eq!(sub.backlog[0].actor.id, "d10");
    }
}
