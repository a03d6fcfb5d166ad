//! The block-agreement interface. The node builds and executes a proposal; the engine decides
//! when a slot opens and whether the proposal is final. Today: [`SingleAuthority`] (this node
//! alone, fixed block time). A BFT engine (e.g. simplex consensus) implements the same trait
//! in its own crate; the runtime and storage never see engine types.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tensornet_runtime::{Block, Header};

/// Why an engine refused a proposal.
#[derive(Debug, thiserror::Error)]
#[error("engine: {0}")]
pub struct EngineError(pub String);

/// Block agreement as seen by the node's producer loop.
pub trait Engine: Send + 'static {
    /// Blocks until this node may propose a child of `parent` or `deadline` passes;
    /// returns the proposal timestamp (ms since the Unix epoch, never below the parent's),
    /// or `None` if no slot opened before the deadline (the caller checks for shutdown and
    /// asks again).
    fn wait_for_slot(&mut self, parent: &Header, deadline: Instant) -> Option<u64>;

    /// Agrees on a proposal. `Ok` means the block is final and the node stores it; a BFT
    /// engine broadcasts it and waits for a quorum here.
    fn finalize(&mut self, proposal: &Block) -> Result<(), EngineError>;
}

/// One authority producing a block every `block_time`.
#[derive(Debug)]
pub struct SingleAuthority {
    block_time: Duration,
    next: Option<Instant>,
}

impl SingleAuthority {
    /// An authority with this block time.
    pub fn new(block_time: Duration) -> SingleAuthority {
        SingleAuthority {
            block_time,
            next: None,
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Engine for SingleAuthority {
    fn wait_for_slot(&mut self, parent: &Header, deadline: Instant) -> Option<u64> {
        let next = *self
            .next
            .get_or_insert_with(|| Instant::now() + self.block_time);
        let now = Instant::now();
        if next > now {
            let until = next.min(deadline);
            std::thread::sleep(until.saturating_duration_since(now));
            if until < next {
                return None;
            }
        }
        // Schedule the following slot from this one (no drift), but never in the past.
        let after = next + self.block_time;
        self.next = Some(after.max(Instant::now()));
        Some(now_ms().max(parent.timestamp))
    }

    fn finalize(&mut self, _proposal: &Block) -> Result<(), EngineError> {
        Ok(())
    }
}
