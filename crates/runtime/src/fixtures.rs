//! Synthetic chain states for benchmarks (the runtime's `block` bench and the node's
//! `node_bench`): one large subnet whose validators are staked and have already set their
//! weights, written straight into the state instead of through thousands of transactions.
//!
//! Nothing in the chain uses this module. The states it builds are deterministic (one fixed
//! pseudo-random sequence per shape) and keep the ledger invariant (every stake is minted
//! first), so blocks applied on top of them pass the same checks as any other.

use crate::genesis::{dev_genesis, Genesis, GenesisConfig, GenesisError, GenesisSubnet};
use crate::hash::blake2b_256;
use crate::root::StateRoot;
use crate::state::{keys, BlockInfo, HotkeyInfo, Neuron, State};
use crate::store::{MemStore, Overlay, StateChanges, StateStore, StoreError};
use crate::types::CallError;
use tensornet_primitives::{AccountId, BlockNumber, RAO_PER_TAO};

/// Why a fixture could not be built.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The genesis configuration did not build.
    #[error("genesis: {0}")]
    Genesis(#[from] GenesisError),
    /// Minting or staking failed (a shape too large for the ledger).
    #[error("ledger: {0}")]
    Ledger(#[from] CallError),
    /// The state store refused a read.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The state holds no subnet 1 (populate a store built from [`BigSubnet::genesis_config`]).
    #[error("subnet 1 is missing")]
    NoSubnet,
    /// More UIDs than a subnet can hold, or more validators than UIDs.
    #[error("bad shape: {0}")]
    Shape(String),
}

/// The shape of the synthetic subnet (netuid 1, owned by //Alice).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BigSubnet {
    /// UIDs, the owner hotkey's UID 0 included (2..=4096).
    pub uids: u16,
    /// Staked, permitted validators: UIDs `1..=validators`.
    pub validators: u16,
    /// Every validator weights every UID (`true`) or the same pseudo-random 10 % of UIDs.
    pub weights_on_all: bool,
    /// The subnet's tempo.
    pub tempo: u16,
}

/// A xorshift generator: the fixtures' only source of variety.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

impl BigSubnet {
    /// The dev genesis plus subnet 1 (owner //Alice, owner hotkey //Alice/owner) sized for
    /// this shape: `max_allowed_uids = uids`, `max_allowed_validators = validators`, activity
    /// cutoff and immunity 5000 blocks, the shape's tempo.
    pub fn genesis_config(&self) -> Result<GenesisConfig, FixtureError> {
        if !(2..=4096).contains(&self.uids) || self.validators >= self.uids {
            return Err(FixtureError::Shape(format!(
                "{} UIDs, {} validators",
                self.uids, self.validators
            )));
        }
        let mut g = dev_genesis()?;
        let uri = |u: &str| {
            tensornet_keys::Keypair::from_uri(u)
                .map(|k| k.account_id().to_hex())
                .map_err(|e| FixtureError::Shape(format!("{u}: {e}")))
        };
        let hyperparameters = serde_json::json!({
            "tempo": self.tempo,
            "max_allowed_uids": self.uids,
            "max_allowed_validators": self.validators,
            "activity_cutoff": 5000,
            "immunity_period": 5000,
        });
        g.subnets.push(GenesisSubnet {
            owner: uri("//Alice")?,
            hotkey: uri("//Alice/owner")?,
            hyperparameters: hyperparameters.as_object().cloned().unwrap_or_default(),
        });
        Ok(g)
    }

    /// Fills subnet 1 of the state in `store` as of block `block` and returns the changed
    /// keys (nothing is written). UIDs `1..uids` get random-looking hotkeys and coldkeys,
    /// registered at `block − 990` (or 0) and last updated within the 300 blocks before
    /// `block` but after their registration (block 1 for a populated genesis); the validators get 1,000–10,000 TAO of minted stake, a permit and a weight row
    /// of random values. The block number in the state becomes `block` and the subnet's epoch
    /// is due at `block + 1`.
    pub fn populate(
        &self,
        store: &dyn StateStore,
        block: BlockNumber,
    ) -> Result<StateChanges, FixtureError> {
        let (n, v) = (self.uids, self.validators);
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ u64::from(v) ^ u64::from(self.weights_on_all));
        let mut st = State::new(Overlay::new(store));
        let mut sub = st.subnet(1).ok_or(FixtureError::NoSubnet)?;
        let shared: Vec<u16> = if self.weights_on_all {
            (0..n).collect()
        } else {
            let mut cols: Vec<u16> = (1..n).collect();
            for i in (1..cols.len()).rev() {
                let j = rng.below(i as u64 + 1) as usize;
                cols.swap(i, j);
            }
            let mut c = cols[..usize::from(n) / 10].to_vec();
            c.sort_unstable();
            c
        };
        let registered = block.saturating_sub(990);
        for uid in 1..n {
            // Random-looking keys, as real ones are (not in UID order in the store).
            let hk = AccountId(blake2b_256(&[&b"hot"[..], &uid.to_le_bytes()].concat()).0);
            let cold = AccountId(blake2b_256(&[&b"cold"[..], &uid.to_le_bytes()].concat()).0);
            st.put(keys::hotkey(&hk), &HotkeyInfo::new(cold, 11_796));
            let mut nr = Neuron::new(hk, registered);
            // After the registration, or the target's weights would be masked as outdated.
            nr.last_update = block.saturating_sub(rng.below(300)).max(registered + 1);
            if uid <= v {
                nr.validator_permit = true;
                let amount = 1000 * RAO_PER_TAO + rng.below(9000 * RAO_PER_TAO);
                st.mint_free(&cold, amount)?;
                st.stake_from_free(&cold, &hk, amount)?;
                let row: Vec<(u16, u16)> = shared
                    .iter()
                    .map(|j| (*j, 1 + rng.below(65535) as u16))
                    .collect();
                st.set_weights(1, uid, &row);
            }
            st.set_neuron(1, uid, &nr);
            st.put(keys::uid(1, &hk), &uid);
            st.commit_tx();
        }
        sub.n = n;
        sub.pending_epoch_at = block + 1;
        sub.last_epoch_block = block.saturating_sub(u64::from(self.tempo));
        st.set_subnet(&sub);
        let timestamp = st
            .get::<BlockInfo>(keys::BLOCK)
            .unwrap_or_default()
            .timestamp;
        st.put(
            keys::BLOCK.to_vec(),
            &BlockInfo {
                number: block,
                timestamp,
            },
        );
        Ok(st.into_changes()?)
    }

    /// A genesis whose state already holds the populated subnet (as of block 0, so its first
    /// epoch runs in block 1); the header's state root and the genesis hash cover it. For a
    /// node store that starts with a large subnet.
    pub fn genesis(&self) -> Result<Genesis, FixtureError> {
        let mut g = self.genesis_config()?.build()?;
        let mut base = MemStore::new();
        base.commit(&g.changes);
        for (k, v) in self.populate(&base, 0)? {
            match v {
                Some(v) => g.changes.insert(k, Some(v)),
                None => g.changes.remove(&k),
            };
        }
        g.header.state_root = StateRoot::new().apply(&g.changes);
        g.hash = g.header.hash();
        Ok(g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::execute_block_unchecked;
    use crate::types::Event;

    const SMALL: BigSubnet = BigSubnet {
        uids: 64,
        validators: 4,
        weights_on_all: false,
        tempo: 9,
    };

    #[test]
    fn a_populated_genesis_runs_its_epoch_in_block_one_and_pays_the_miners() {
        let g = SMALL.genesis().expect("genesis");
        let mut store = MemStore::new();
        store.commit(&g.changes);
        assert_eq!(
            StateRoot::from_store(&store).expect("root").root(),
            g.header.state_root,
            "the header commits to the populated state"
        );
        let o = execute_block_unchecked(&store, 1, g.header.timestamp, &[]).expect("block");
        let emission = o
            .events
            .iter()
            .find_map(|e| match e {
                Event::EpochRan {
                    netuid: 1,
                    emission,
                    ..
                } => Some(emission.clone()),
                _ => None,
            })
            .expect("the epoch of block 1 ran");
        // Miners earn incentive on the validators' shared 10 % of UIDs (6 of 64), and the
        // 4 validators earn dividends.
        let miners = emission.iter().filter(|e| e.server > 0).count();
        let validators = emission.iter().filter(|e| e.validator > 0).count();
        assert!(miners >= 5, "{miners} miners paid");
        assert_eq!(validators, 4);
    }

    #[test]
    fn populating_is_deterministic_and_rejects_bad_shapes() {
        let cfg = SMALL
            .genesis_config()
            .expect("config")
            .build()
            .expect("build");
        let mut store = MemStore::new();
        store.commit(&cfg.changes);
        let a = SMALL.populate(&store, 1000).expect("populate");
        let b = SMALL.populate(&store, 1000).expect("populate");
        assert_eq!(a, b);
        let bad = BigSubnet {
            validators: 64,
            ..SMALL
        };
        assert!(matches!(bad.genesis_config(), Err(FixtureError::Shape(_))));
        assert!(matches!(
            SMALL.populate(&MemStore::new(), 0),
            Err(FixtureError::NoSubnet)
        ));
    }
}
