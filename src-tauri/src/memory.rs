//! Handing freed memory back to the operating system.
//!
//! glibc's allocator keeps memory it got for a burst of work (a few thousand abandoned client
//! sessions, say) after it is freed, so the gateway's resident size would stay at the burst's
//! peak for good. [`release_free_memory`] asks it to return what is free (`malloc_trim(0)`);
//! [`Trimmer`] calls it once after a burst of releases has settled. On other platforms and C
//! libraries it does nothing (their allocators return memory by themselves).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

/// How long the releases must have been quiet before trimming.
pub const SETTLE: Duration = Duration::from_secs(2);

/// Returns free heap memory to the OS where the allocator keeps it (glibc); a no-op elsewhere.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it takes no pointers from
    // us and is thread-safe (it locks each arena).
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Trims once after each burst of [`Trimmer::released`] calls has been quiet for [`SETTLE`].
/// Cheap to clone; its background task idles on the runtime until the runtime ends.
#[derive(Clone)]
pub struct Trimmer {
    released: Arc<Notify>,
}

impl Trimmer {
    /// Starts the trimmer on the current tokio runtime (without one, trimming never happens).
    pub fn start() -> Self {
        let released = Arc::new(Notify::new());
        let signal = released.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                loop {
                    signal.notified().await;
                    // Wait until the burst is over.
                    while tokio::time::timeout(SETTLE, signal.notified())
                        .await
                        .is_ok()
                    {}
                    tokio::task::spawn_blocking(release_free_memory);
                }
            });
        }
        Self { released }
    }

    /// Records that a sizable piece of memory was freed (e.g. a client session ended).
    pub fn released(&self) {
        self.released.notify_one();
    }
}
