//! The app's session bus, seen and driven as a desktop would: a notification service that
//! records what the app shows (`org.freedesktop.Notifications`, the service
//! tauri-plugin-notification talks to on Linux), and the tray menu the app exports over
//! D-Bus (libayatana-appindicator's `com.canonical.dbusmenu`), clicked as a panel would.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zbus::blocking::Connection;
use zbus::zvariant::{OwnedValue, Value};

/// One notification the app sent: its summary and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// Title.
    pub summary: String,
    /// Text.
    pub body: String,
}

struct Service {
    shown: Arc<Mutex<Vec<Shown>>>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Service {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        _app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        _actions: Vec<String>,
        _hints: HashMap<String, OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut shown = self.shown.lock().unwrap();
        shown.push(Shown { summary, body });
        shown.len() as u32
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "loopgate-test".into(),
            "loopgate".into(),
            "1".into(),
            "1.2".into(),
        )
    }

    fn close_notification(&self, _id: u32) {}
}

/// A notification service on the bus at `address`, recording every notification.
pub struct Notifications {
    shown: Arc<Mutex<Vec<Shown>>>,
    _conn: Connection,
}

impl Notifications {
    /// Owns `org.freedesktop.Notifications` on the bus at `address`.
    pub fn serve(address: &str) -> Notifications {
        let shown = Arc::new(Mutex::new(Vec::new()));
        let conn = zbus::blocking::connection::Builder::address(address)
            .unwrap()
            .name("org.freedesktop.Notifications")
            .unwrap()
            .serve_at(
                "/org/freedesktop/Notifications",
                Service {
                    shown: shown.clone(),
                },
            )
            .unwrap()
            .build()
            .expect("the notification service takes its name on the app's bus");
        Notifications { shown, _conn: conn }
    }

    /// Everything shown so far.
    pub fn shown(&self) -> Vec<Shown> {
        self.shown.lock().unwrap().clone()
    }

    /// Waits (up to `secs`) until `n` notifications were shown; returns them.
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Shown> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while self.shown().len() < n {
            assert!(
                Instant::now() < deadline,
                "expected {n} notifications, got {:?}",
                self.shown()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        self.shown()
    }
}

/// One item of the tray menu.
#[derive(Debug, Clone)]
pub struct Item {
    /// Its dbusmenu id.
    pub id: i32,
    /// Its label.
    pub label: String,
    /// For check items: checked or not.
    pub checked: Option<bool>,
}

/// The tray icon's menu as the app exports it on its bus.
pub struct Tray {
    conn: Connection,
    owner: String,
    menu: String,
}

impl Tray {
    /// Finds the tray icon (`/org/ayatana/NotificationItem/<id>`) on the bus at `address`,
    /// waiting up to 30 s for the app to export it.
    pub fn find(address: &str) -> Tray {
        let conn = zbus::blocking::connection::Builder::address(address)
            .unwrap()
            .method_timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let dbus = zbus::blocking::fdo::DBusProxy::new(&conn).unwrap();
        let me = conn.unique_name().map(|n| n.to_string());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            for name in dbus.list_names().unwrap() {
                if !name.starts_with(':') || Some(name.to_string()) == me {
                    continue;
                }
                let Ok(xml) = introspect(&conn, &name, "/org/ayatana/NotificationItem") else {
                    continue;
                };
                if let Some(item) = xml
                    .split("<node name=\"")
                    .nth(1)
                    .and_then(|r| r.split('"').next())
                {
                    return Tray {
                        menu: format!("/org/ayatana/NotificationItem/{item}/Menu"),
                        owner: name.to_string(),
                        conn,
                    };
                }
            }
            assert!(Instant::now() < deadline, "no tray icon on the app's bus");
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// The menu's items, in order (separators have no label).
    pub fn items(&self) -> Vec<Item> {
        let reply = self
            .conn
            .call_method(
                Some(self.owner.as_str()),
                self.menu.as_str(),
                Some("com.canonical.dbusmenu"),
                "GetLayout",
                &(0i32, -1i32, Vec::<String>::new()),
            )
            .expect("GetLayout");
        type Layout = (i32, HashMap<String, OwnedValue>, Vec<OwnedValue>);
        let (_revision, (_root, _props, children)): (u32, Layout) =
            reply.body().deserialize().unwrap();
        let mut items = Vec::new();
        for child in &children {
            walk(child, &mut items);
        }
        items.retain(|i| !i.label.is_empty());
        items
    }

    /// The item labelled `label`, or the server row of server `label` (`memory — 9 tools`);
    /// panics when there is none.
    pub fn item(&self, label: &str) -> Item {
        let items = self.items();
        items
            .iter()
            .find(|i| {
                i.label == label
                    || i.label
                        .strip_prefix(label)
                        .is_some_and(|rest| rest.starts_with(" — "))
            })
            .cloned()
            .unwrap_or_else(|| panic!("no tray item {label:?} in {items:#?}"))
    }

    /// Clicks the item labelled `label`, as a panel does.
    pub fn click(&self, label: &str) {
        let id = self.item(label).id;
        self.conn
            .call_method(
                Some(self.owner.as_str()),
                self.menu.as_str(),
                Some("com.canonical.dbusmenu"),
                "Event",
                &(id, "clicked", Value::from(0i32), 0u32),
            )
            .expect("Event clicked");
    }

    /// Waits (up to 10 s) until the check item `label` is `checked`.
    pub async fn wait_checked(&self, label: &str, checked: bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.item(label).checked != Some(checked) {
            assert!(
                Instant::now() < deadline,
                "{label} did not become {checked}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn introspect(conn: &Connection, dest: &str, path: &str) -> zbus::Result<String> {
    zbus::blocking::fdo::IntrospectableProxy::builder(conn)
        .destination(dest)?
        .path(path)?
        .build()?
        .introspect()
        .map_err(Into::into)
}

/// Collects the items of a dbusmenu layout `(ia{sv}av)`, children depth first.
fn walk(v: &Value, out: &mut Vec<Item>) {
    let fields = match v {
        Value::Value(inner) => return walk(inner, out),
        Value::Structure(s) => s.fields(),
        _ => return,
    };
    let Some(Value::I32(id)) = fields.first() else {
        return;
    };
    let mut item = Item {
        id: *id,
        label: String::new(),
        checked: None,
    };
    if let Some(Value::Dict(props)) = fields.get(1) {
        for (k, v) in props.iter() {
            let v = match v {
                Value::Value(inner) => &**inner,
                v => v,
            };
            match (k, v) {
                (Value::Str(k), Value::Str(s)) if k.as_str() == "label" => {
                    item.label = s.to_string()
                }
                (Value::Str(k), Value::I32(n)) if k.as_str() == "toggle-state" => {
                    item.checked = Some(*n == 1)
                }
                _ => {}
            }
        }
    }
    out.push(item);
    if let Some(Value::Array(children)) = fields.get(2) {
        for c in children.inner() {
            walk(c, out);
        }
    }
}
