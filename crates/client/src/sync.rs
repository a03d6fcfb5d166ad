//! Metagraph sync: keep a subnet's metagraph fresh without refetching it every block.
//!
//! A refresh first reads the cheap subnet record; the full metagraph is fetched again only when
//! the subnet's epoch index or UID count changed, or the copy is older than `max_age`
//! (weights, axons and stake change between epochs too). [`MetagraphSync::spawn`] runs this in
//! a task and publishes each new metagraph on a `tokio::sync::watch` channel; it survives node
//! restarts (errors are logged and the next poll tries again).

use crate::client::Client;
use crate::error::ClientError;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tensornet_primitives::NetUid;
use tensornet_rpc_api::Metagraph;
use tokio::sync::watch;

/// A subnet's metagraph kept up to date by [`MetagraphSync::refresh`].
#[derive(Debug)]
pub struct MetagraphSync {
    netuid: NetUid,
    with_matrices: bool,
    max_age: Duration,
    current: Option<Arc<Metagraph>>,
    fetched_at: Option<Instant>,
}

impl MetagraphSync {
    /// A sync of `netuid`; `with_matrices` also fetches weights and bonds; `max_age` bounds
    /// how stale the copy may get between epochs.
    pub fn new(netuid: NetUid, with_matrices: bool, max_age: Duration) -> MetagraphSync {
        MetagraphSync {
            netuid,
            with_matrices,
            max_age,
            current: None,
            fetched_at: None,
        }
    }

    /// The latest copy, if any.
    pub fn get(&self) -> Option<Arc<Metagraph>> {
        self.current.clone()
    }

    /// Refetches if needed; returns whether the copy changed.
    pub async fn refresh(&mut self, client: &Client) -> Result<bool, ClientError> {
        if let (Some(cur), Some(at)) = (&self.current, self.fetched_at) {
            if at.elapsed() < self.max_age {
                let s = client.subnet(self.netuid).await?;
                if s.epoch_index == cur.subnet.epoch_index && s.n == cur.subnet.n {
                    return Ok(false);
                }
            }
        }
        let m = client.metagraph(self.netuid, self.with_matrices).await?;
        self.fetched_at = Some(Instant::now());
        let changed = self.current.as_deref() != Some(&m);
        self.current = Some(Arc::new(m));
        Ok(changed)
    }

    /// Runs [`MetagraphSync::refresh`] every `interval` in a task and publishes each changed
    /// metagraph. The task ends when every receiver is dropped.
    pub fn spawn(
        mut self,
        client: Arc<Client>,
        interval: Duration,
    ) -> watch::Receiver<Option<Arc<Metagraph>>> {
        let (tx, rx) = watch::channel(self.current.clone());
        tokio::spawn(async move {
            loop {
                match self.refresh(&client).await {
                    Ok(true) => {
                        if tx.send(self.get()).is_err() {
                            return;
                        }
                    }
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(netuid = self.netuid, error = %e, "metagraph refresh failed")
                    }
                }
                if tx.is_closed() {
                    return;
                }
                tokio::time::sleep(interval).await;
            }
        });
        rx
    }
}
