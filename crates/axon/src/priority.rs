//! The priority gate: bounded handler concurrency, waiting requests served highest priority first
//! (ties in arrival order), a per-hotkey in-flight cap and a bounded queue. The reference's
//! priority hook orders nothing (spec §7.3); this one does.

use std::cmp::Ordering as CmpOrdering;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Gate settings.
#[derive(Debug, Clone, Copy)]
pub struct GateConfig {
    /// Handlers running at once.
    pub max_concurrent: usize,
    /// Handlers of one hotkey running at once.
    pub per_hotkey: usize,
    /// Requests waiting at once; beyond it requests are refused (503).
    pub max_queue: usize,
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig {
            max_concurrent: 256,
            per_hotkey: 128,
            max_queue: 4096,
        }
    }
}

/// The queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("server busy: request queue full")]
pub struct QueueFull;

struct Waiter {
    priority: f64,
    seq: u64,
    hotkey: String,
    tx: oneshot::Sender<()>,
}

impl PartialEq for Waiter {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == CmpOrdering::Equal
    }
}
impl Eq for Waiter {}
impl PartialOrd for Waiter {
    fn partial_cmp(&self, o: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(o))
    }
}
impl Ord for Waiter {
    fn cmp(&self, o: &Self) -> CmpOrdering {
        self.priority
            .total_cmp(&o.priority)
            .then_with(|| o.seq.cmp(&self.seq))
    }
}

struct State {
    running: usize,
    per_hotkey: HashMap<String, usize>,
    queue: BinaryHeap<Waiter>,
    seq: u64,
}

/// The gate. Cheap to clone.
#[derive(Clone)]
pub struct PriorityGate {
    config: GateConfig,
    state: Arc<Mutex<State>>,
}

/// A running slot; released on drop.
pub struct Permit {
    gate: PriorityGate,
    hotkey: String,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.gate.release(&self.hotkey);
    }
}

/// Held while waiting; if dropped after being granted but before being observed, it gives the
/// slot back so cancellation (timeouts) never leaks capacity.
struct Waiting {
    gate: PriorityGate,
    hotkey: String,
    rx: Option<oneshot::Receiver<()>>,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Some(mut rx) = self.rx.take() {
            if rx.try_recv().is_ok() {
                self.gate.release(&self.hotkey);
            }
        }
    }
}

impl PriorityGate {
    /// A gate with `config` (zero limits are raised to one).
    pub fn new(config: GateConfig) -> Self {
        let config = GateConfig {
            max_concurrent: config.max_concurrent.max(1),
            per_hotkey: config.per_hotkey.max(1),
            max_queue: config.max_queue,
        };
        PriorityGate {
            config,
            state: Arc::new(Mutex::new(State {
                running: 0,
                per_hotkey: HashMap::new(),
                queue: BinaryHeap::new(),
                seq: 0,
            })),
        }
    }

    /// Handlers running now.
    pub fn running(&self) -> usize {
        self.state.lock().map(|s| s.running).unwrap_or(0)
    }

    /// Requests waiting now.
    pub fn waiting(&self) -> usize {
        self.state.lock().map(|s| s.queue.len()).unwrap_or(0)
    }

    fn eligible(&self, s: &State, hotkey: &str) -> bool {
        s.running < self.config.max_concurrent
            && s.per_hotkey.get(hotkey).copied().unwrap_or(0) < self.config.per_hotkey
    }

    fn take_slot(s: &mut State, hotkey: &str) {
        s.running += 1;
        *s.per_hotkey.entry(hotkey.to_string()).or_insert(0) += 1;
    }

    /// Waits for a slot. Cancel-safe: dropping the future gives back a slot it was granted.
    pub async fn acquire(&self, hotkey: &str, priority: f64) -> Result<Permit, QueueFull> {
        let rx = {
            let mut s = self.state.lock().map_err(|_| QueueFull)?;
            if s.queue.is_empty() && self.eligible(&s, hotkey) {
                Self::take_slot(&mut s, hotkey);
                return Ok(Permit {
                    gate: self.clone(),
                    hotkey: hotkey.to_string(),
                });
            }
            if s.queue.len() >= self.config.max_queue {
                return Err(QueueFull);
            }
            let (tx, rx) = oneshot::channel();
            s.seq += 1;
            let seq = s.seq;
            s.queue.push(Waiter {
                priority: if priority.is_nan() { 0.0 } else { priority },
                seq,
                hotkey: hotkey.to_string(),
                tx,
            });
            rx
        };
        // A request that could run now but queued behind others triggers a dispatch.
        self.dispatch();
        let mut waiting = Waiting {
            gate: self.clone(),
            hotkey: hotkey.to_string(),
            rx: Some(rx),
        };
        let result = match waiting.rx.as_mut() {
            Some(rx) => rx.await,
            None => return Err(QueueFull),
        };
        waiting.rx = None;
        match result {
            Ok(()) => Ok(Permit {
                gate: self.clone(),
                hotkey: hotkey.to_string(),
            }),
            Err(_) => Err(QueueFull),
        }
    }

    fn release(&self, hotkey: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.running = s.running.saturating_sub(1);
            if let Some(n) = s.per_hotkey.get_mut(hotkey) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    s.per_hotkey.remove(hotkey);
                }
            }
        }
        self.dispatch();
    }

    /// Grants free slots to the best eligible waiters.
    fn dispatch(&self) {
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        let mut skipped = Vec::new();
        while s.running < self.config.max_concurrent {
            let Some(w) = s.queue.pop() else {
                break;
            };
            if w.tx.is_closed() {
                continue; // the waiter gave up
            }
            if !self.eligible(&s, &w.hotkey) {
                skipped.push(w);
                continue;
            }
            Self::take_slot(&mut s, &w.hotkey);
            let hotkey = w.hotkey.clone();
            if w.tx.send(()).is_err() {
                // Gave up between the check and the send: undo.
                s.running -= 1;
                if let Some(n) = s.per_hotkey.get_mut(&hotkey) {
                    *n -= 1;
                    if *n == 0 {
                        s.per_hotkey.remove(&hotkey);
                    }
                }
            }
        }
        for w in skipped {
            s.queue.push(w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn orders_by_priority_and_caps_hotkeys() {
        let gate = PriorityGate::new(GateConfig {
            max_concurrent: 1,
            per_hotkey: 1,
            max_queue: 2,
        });
        let first = gate.acquire("a", 0.0).await.unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (hk, p) in [("low", 1.0), ("high", 5.0)] {
            let g = gate.clone();
            let o = order.clone();
            tasks.push(tokio::spawn(async move {
                let _p = g.acquire(hk, p).await.unwrap();
                o.lock().unwrap().push(hk);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(gate.waiting(), 2);
        assert_eq!(gate.acquire("x", 9.0).await.err(), Some(QueueFull));
        drop(first);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec!["high", "low"]);
        assert_eq!(gate.running(), 0);
    }

    #[tokio::test]
    async fn cancelled_waiters_do_not_leak() {
        let gate = PriorityGate::new(GateConfig {
            max_concurrent: 1,
            per_hotkey: 1,
            max_queue: 10,
        });
        let p = gate.acquire("a", 0.0).await.unwrap();
        let r = tokio::time::timeout(Duration::from_millis(10), gate.acquire("b", 0.0)).await;
        assert!(r.is_err());
        drop(p);
        let again = tokio::time::timeout(Duration::from_millis(100), gate.acquire("c", 0.0)).await;
        assert!(again.is_ok());
        drop(again);
        assert_eq!(gate.running(), 0);
    }
}
