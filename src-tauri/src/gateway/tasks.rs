//! Which server owns each task (the tasks extension, `io.modelcontextprotocol/tasks`, SEP-2663).
//!
//! A server may answer a `tools/call` with a task (`resultType: "task"`, a `taskId`) instead of
//! the result; the client then asks `tasks/get`, `tasks/update` and `tasks/cancel` by that id.
//! The task id is the routing key: when a task passes through, [`Tasks::record`] notes which
//! server made it and for which caller; a later request by id goes to that server, and only for
//! that caller (another credential is told the task is unknown, as the server itself would say
//! of a task that is not its client's).
//!
//! Task ids are the servers' own, passed through unchanged. Two servers could pick the same id:
//! the second task is refused with an error rather than taking over the first one's route.
//! Records live as long as the server said the task would (`ttlMs`, at most
//! [`MAX_TTL`]; [`DEFAULT_TTL`] when it said nothing), and at most [`MAX_TASKS`] are kept.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::caller::Caller;

/// How long a task's route is kept when its server gave no `ttlMs`.
pub const DEFAULT_TTL: Duration = Duration::from_secs(60 * 60);
/// The longest a task's route is kept, whatever its server said.
pub const MAX_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// Most task routes kept; the oldest goes first.
pub const MAX_TASKS: usize = 10_000;

/// Where one task lives.
#[derive(Debug, Clone)]
struct Owner {
    server: String,
    caller: Caller,
    created: Instant,
    expires: Instant,
}

/// The routes of the tasks clients have open.
#[derive(Default)]
pub struct Tasks {
    owners: Mutex<HashMap<String, Owner>>,
}

/// Why a task could not be recorded.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("server \"{server}\" returned task id \"{task_id}\", which another server's task already uses; the task cannot be reached through Loopgate")]
pub struct Collision {
    /// The server that returned the id.
    pub server: String,
    /// The id.
    pub task_id: String,
}

impl Tasks {
    /// Notes that `server` made task `task_id` for `caller`, kept for `ttl` (the server's
    /// `ttlMs`, capped at [`MAX_TTL`]). A repeat of a known task by its own server and caller is
    /// fine; an id another server or caller holds is a [`Collision`].
    pub fn record(
        &self,
        server: &str,
        task_id: &str,
        caller: &Caller,
        ttl: Option<Duration>,
    ) -> Result<(), Collision> {
        let now = Instant::now();
        let ttl = ttl.unwrap_or(DEFAULT_TTL).min(MAX_TTL);
        let mut owners = self.owners.lock().unwrap_or_else(|e| e.into_inner());
        if owners.len() >= MAX_TASKS {
            owners.retain(|_, o| o.expires > now);
        }
        if let Some(o) = owners.get(task_id).filter(|o| o.expires > now) {
            if o.server != server || &o.caller != caller {
                return Err(Collision {
                    server: server.to_string(),
                    task_id: task_id.to_string(),
                });
            }
        }
        if owners.len() >= MAX_TASKS && !owners.contains_key(task_id) {
            if let Some(oldest) = owners
                .iter()
                .min_by_key(|(_, o)| o.created)
                .map(|(id, _)| id.clone())
            {
                owners.remove(&oldest);
            }
        }
        owners.insert(
            task_id.to_string(),
            Owner {
                server: server.to_string(),
                caller: caller.clone(),
                created: now,
                expires: now + ttl,
            },
        );
        Ok(())
    }

    /// The server that owns task `task_id`, when `caller` made it and it has not expired.
    pub fn owner(&self, task_id: &str, caller: &Caller) -> Option<String> {
        let owners = self.owners.lock().unwrap_or_else(|e| e.into_inner());
        owners
            .get(task_id)
            .filter(|o| &o.caller == caller && o.expires > Instant::now())
            .map(|o| o.server.clone())
    }

    /// How many task routes are kept.
    pub fn len(&self) -> usize {
        self.owners.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether no task route is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_is_reached_by_its_caller_only() {
        let tasks = Tasks::default();
        let me = Caller::Client("cursor".into());
        tasks.record("a", "t1", &me, None).unwrap();
        assert_eq!(tasks.owner("t1", &me), Some("a".into()));
        assert_eq!(tasks.owner("t1", &Caller::Client("other".into())), None);
        assert_eq!(tasks.owner("t2", &me), None);
        // Its own server repeating it is fine; another server taking it over is not.
        tasks.record("a", "t1", &me, None).unwrap();
        let err = tasks.record("b", "t1", &me, None).unwrap_err();
        assert_eq!(err.server, "b");
        assert_eq!(
            tasks.owner("t1", &me),
            Some("a".into()),
            "the first keeps it"
        );
        assert_eq!(tasks.len(), 1);
    }

    #[test]
    fn routes_expire_with_the_task_and_are_bounded() {
        let tasks = Tasks::default();
        let me = Caller::Gateway;
        tasks
            .record("a", "short", &me, Some(Duration::from_millis(1)))
            .unwrap();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(tasks.owner("short", &me), None);
        for i in 0..MAX_TASKS + 5 {
            tasks.record("a", &format!("t{i}"), &me, None).unwrap();
        }
        assert_eq!(tasks.len(), MAX_TASKS);
        assert_eq!(tasks.owner("t0", &me), None, "the oldest went first");
        assert!(tasks.owner(&format!("t{}", MAX_TASKS + 4), &me).is_some());
    }
}
