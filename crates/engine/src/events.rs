//! `docker events`: what happened to containers and images, as Docker
//! reports it. Services publish into one bus; `GET /events` replays what
//! is still kept (the last `KEEP` events, for `since`) and follows.

use serde_json::{json, Map, Value};
use std::collections::VecDeque;
use std::sync::Mutex;
use tokio::sync::broadcast;

/// Events kept for `since`.
const KEEP: usize = 1024;

/// One event, already in the Engine API's JSON shape.
#[derive(Debug, Clone)]
pub struct Event {
    pub json: Value,
    /// Unix nanoseconds.
    pub time_nano: i64,
}

impl Event {
    fn field(&self, path: &[&str]) -> &str {
        let mut v = &self.json;
        for p in path {
            v = &v[*p];
        }
        v.as_str().unwrap_or_default()
    }

    /// Docker's event filters: `type`, `event`, `container`, `image`,
    /// `label` (`key` or `key=value`); values of one key are alternatives.
    pub fn matches(&self, filters: &crate::containers::Filters) -> bool {
        let attr = |k: &str| self.field(&["Actor", "Attributes", k]).to_string();
        let id = self.field(&["Actor", "ID"]);
        let typ = self.field(&["Type"]);
        filters.iter().all(|(k, vals)| {
            vals.is_empty()
                || vals.iter().any(|v| match k.as_str() {
                    "type" => typ == v,
                    "event" => self.field(&["Action"]).split(':').next() == Some(v.as_str()),
                    "container" => {
                        typ == "container" && (id.starts_with(v.as_str()) || attr("name") == *v)
                    }
                    "image" => {
                        attr("image") == *v || (typ == "image" && (id == v || attr("name") == *v))
                    }
                    "label" => match v.split_once('=') {
                        Some((lk, lv)) => attr(lk) == lv,
                        None => self.json["Actor"]["Attributes"].get(v).is_some(),
                    },
                    _ => true,
                })
        })
    }
}

/// The bus: a broadcast channel and a window of recent events.
pub struct EventBus {
    tx: broadcast::Sender<Event>,
    recent: Mutex<VecDeque<Event>>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus::new()
    }
}

impl EventBus {
    pub fn new() -> EventBus {
        EventBus {
            tx: broadcast::channel(256).0,
            recent: Mutex::new(VecDeque::with_capacity(KEEP)),
        }
    }

    /// Publishes an event of `typ` (`container`, `image`) and `action` about
    /// `id`, with the actor's attributes.
    pub fn publish(&self, typ: &str, action: &str, id: &str, attrs: Map<String, Value>) {
        let now = chrono::Utc::now();
        let nanos = now.timestamp_nanos_opt().unwrap_or(0);
        let mut json = json!({
            "Type": typ,
            "Action": action,
            "Actor": {"ID": id, "Attributes": attrs},
            "scope": "local",
            "time": now.timestamp(),
            "timeNano": nanos,
        });
        // API 1.50 still carries the legacy fields for containers and images.
        if typ == "container" || typ == "image" {
            json["status"] = json!(action);
            json["id"] = json!(id);
            if let Some(from) = json["Actor"]["Attributes"]["image"]
                .as_str()
                .map(str::to_string)
            {
                json["from"] = json!(from);
            }
        }
        let ev = Event {
            json,
            time_nano: nanos,
        };
        {
            let mut r = self.recent.lock().unwrap();
            if r.len() == KEEP {
                r.pop_front();
            }
            r.push_back(ev.clone());
        }
        let _ = self.tx.send(ev);
    }

    /// Kept events since `since_nano`, and a receiver for those after them.
    /// Taken under one lock, so nothing falls between the two.
    pub fn subscribe(&self, since_nano: Option<i64>) -> (Vec<Event>, broadcast::Receiver<Event>) {
        let r = self.recent.lock().unwrap();
        let rx = self.tx.subscribe();
        let past = match since_nano {
            Some(s) => r.iter().filter(|e| e.time_nano >= s).cloned().collect(),
            None => Vec::new(),
        };
        (past, rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_replay_and_filter() {
        let bus = EventBus::new();
        let t0 = chrono::Utc::now().timestamp_nanos_opt().unwrap();
        let mut attrs = Map::new();
        attrs.insert("name".into(), json!("web"));
        attrs.insert("image".into(), json!("busybox"));
        attrs.insert("tier".into(), json!("front"));
        bus.publish("container", "start", "abc123", attrs);
        bus.publish("image", "tag", "sha256:1", Map::new());
        let (past, _rx) = bus.subscribe(Some(t0));
        assert_eq!(past.len(), 2);
        let e = &past[0];
        assert_eq!(e.json["status"], "start");
        assert_eq!(e.json["from"], "busybox");
        let f = |k: &str, v: &str| {
            let mut m = crate::containers::Filters::new();
            m.insert(k.into(), vec![v.into()]);
            m
        };
        assert!(e.matches(&f("container", "web")));
        assert!(e.matches(&f("container", "abc")));
        assert!(e.matches(&f("event", "start")));
        assert!(e.matches(&f("label", "tier=front")));
        assert!(!e.matches(&f("type", "image")));
        assert!(!e.matches(&f("label", "tier=back")));
        assert!(past[1].matches(&f("type", "image")));
        let (none, _) = bus.subscribe(None);
        assert!(none.is_empty());
    }
}
