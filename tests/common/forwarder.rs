//! A TCP forwarder that counts the connections it accepts: put between the gateway and a real
//! server, it tells how many connections the gateway opened to that server. It forwards bytes
//! both ways unchanged and reads nothing of them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A running forwarder from 127.0.0.1:[`Forwarder::port`] to another address.
pub struct Forwarder {
    /// The port it listens on.
    pub port: u16,
    accepted: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Forwarder {
    /// Listens on a free port and forwards every connection to `to` (`host:port`).
    pub async fn start(to: &str) -> Forwarder {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let (count, to) = (accepted.clone(), to.to_string());
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let to = to.clone();
                tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&to).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Forwarder {
            port,
            accepted,
            task,
        }
    }

    /// How many connections it has accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.task.abort();
    }
}
