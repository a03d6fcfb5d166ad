//! Genesis: the JSON genesis file and the built-in dev genesis.
//!
//! JSON format (unknown fields are errors; accounts are SS58 or `0x` hex; amounts in rao):
//! ```json
//! {
//!   "timestamp": 1767225600000,
//!   "root": "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",
//!   "balances": [ { "account": "5Grw…", "rao": 1000000000000000 } ],
//!   "subnets": [ { "owner": "5Grw…", "hotkey": "5FHn…", "hyperparameters": { "tempo": 100 } } ],
//!   "new_subnet": { "tempo": 20, "commit_reveal_enabled": false },
//!   "params": { "tx_fee": 100000, "block_time_ms": 12000, "allow_private_axons": true }
//! }
//! ```
//! `new_subnet` overrides fields of [`SubnetParams`] (defaults: the reference's new-subnet
//! column); `params` overrides fields of [`ChainConfig`] other than `root` and `new_subnet`;
//! a subnet's `hyperparameters` override the (overridden) new-subnet values for that subnet.

use crate::calls::create_subnet;
use crate::root::StateRoot;
use crate::state::{keys, BlockInfo, ChainConfig, State, SubnetParams};
use crate::store::{MemStore, Overlay, StateChanges};
use crate::types::Header;
use serde::{Deserialize, Serialize};
use tensornet_primitives::{AccountId, Balance, Hash32, RAO_PER_TAO};

/// Why a genesis could not be built.
#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    /// Malformed JSON or a field of the wrong type.
    #[error("genesis JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// An account string is neither SS58 nor 32-byte hex.
    #[error("genesis: invalid account {0:?} (expected an SS58 address or 0x + 64 hex digits)")]
    Account(String),
    /// An override names a field that does not exist or is not settable here.
    #[error("genesis: unknown or forbidden field {0:?} in {1}")]
    Field(String, &'static str),
    /// Balances overflow u64, or another ledger error.
    #[error("genesis: {0}")]
    Ledger(String),
    /// Key derivation failed (dev genesis).
    #[error("genesis: {0}")]
    Key(String),
}

/// One genesis balance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisBalance {
    /// SS58 or hex account.
    pub account: String,
    /// Free balance, rao.
    pub rao: Balance,
}

/// One genesis subnet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisSubnet {
    /// Owner coldkey.
    pub owner: String,
    /// Owner hotkey (UID 0).
    pub hotkey: String,
    /// Overrides of this subnet's hyperparameters.
    #[serde(default)]
    pub hyperparameters: serde_json::Map<String, serde_json::Value>,
}

/// A genesis file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisConfig {
    /// Genesis timestamp, ms since the Unix epoch.
    pub timestamp: u64,
    /// Root (sudo) key.
    pub root: String,
    /// Initial free balances.
    #[serde(default)]
    pub balances: Vec<GenesisBalance>,
    /// Initial subnets, netuids 1, 2, … in order (no lock).
    #[serde(default)]
    pub subnets: Vec<GenesisSubnet>,
    /// Overrides of the new-subnet hyperparameters.
    #[serde(default)]
    pub new_subnet: serde_json::Map<String, serde_json::Value>,
    /// Overrides of chain parameters.
    #[serde(default)]
    pub params: serde_json::Map<String, serde_json::Value>,
}

/// A built genesis: its state, header and hash.
#[derive(Clone, Debug)]
pub struct Genesis {
    /// Every key of the genesis state.
    pub changes: StateChanges,
    /// The genesis header (number 0).
    pub header: Header,
    /// `header.hash()`: the chain id every transaction signs.
    pub hash: Hash32,
}

/// Parses an SS58 address or 0x-hex account id.
pub fn parse_account(s: &str) -> Result<AccountId, GenesisError> {
    let t = s.trim();
    if t.starts_with("0x") {
        AccountId::from_hex(t).map_err(|_| GenesisError::Account(s.into()))
    } else {
        tensornet_keys::ss58_decode(t).map_err(|_| GenesisError::Account(s.into()))
    }
}

fn merge<T: Serialize + for<'de> Deserialize<'de>>(
    base: &T,
    over: &serde_json::Map<String, serde_json::Value>,
    what: &'static str,
    forbidden: &[&str],
) -> Result<T, GenesisError> {
    let mut v = serde_json::to_value(base)?;
    let obj = v
        .as_object_mut()
        .ok_or_else(|| GenesisError::Field(String::new(), what))?;
    for (k, val) in over {
        if !obj.contains_key(k) || forbidden.contains(&k.as_str()) {
            return Err(GenesisError::Field(k.clone(), what));
        }
        obj.insert(k.clone(), val.clone());
    }
    Ok(serde_json::from_value(v)?)
}

impl GenesisConfig {
    /// Parses a genesis JSON document.
    pub fn from_json(text: &str) -> Result<GenesisConfig, GenesisError> {
        Ok(serde_json::from_str(text)?)
    }

    /// The chain configuration this genesis sets.
    pub fn chain_config(&self) -> Result<ChainConfig, GenesisError> {
        let root = parse_account(&self.root)?;
        let mut cfg = merge(
            &ChainConfig::with_root(root),
            &self.params,
            "params",
            &["root", "new_subnet"],
        )?;
        cfg.new_subnet = merge(
            &SubnetParams::default(),
            &self.new_subnet,
            "new_subnet",
            &[],
        )?;
        Ok(cfg)
    }

    /// Builds the genesis state and header.
    pub fn build(&self) -> Result<Genesis, GenesisError> {
        let cfg = self.chain_config()?;
        let empty = MemStore::new();
        let mut st = State::new(Overlay::new(&empty));
        st.put(keys::CONFIG.to_vec(), &cfg);
        st.put(
            keys::BLOCK.to_vec(),
            &BlockInfo {
                number: 0,
                timestamp: self.timestamp,
            },
        );
        for b in &self.balances {
            let a = parse_account(&b.account)?;
            st.mint_free(&a, b.rao)
                .map_err(|e| GenesisError::Ledger(format!("balance of {}: {e}", b.account)))?;
        }
        let mut ev = Vec::new();
        for (i, s) in self.subnets.iter().enumerate() {
            let netuid = u16::try_from(i + 1)
                .map_err(|_| GenesisError::Ledger("too many subnets".into()))?;
            let owner = parse_account(&s.owner)?;
            let hotkey = parse_account(&s.hotkey)?;
            create_subnet(&mut st, netuid, &owner, &hotkey, 0, 0, &mut ev)
                .map_err(|e| GenesisError::Ledger(format!("subnet {netuid}: {e}")))?;
            let mut sub = st
                .subnet(netuid)
                .ok_or_else(|| GenesisError::Ledger("subnet vanished".into()))?;
            sub.params = merge(
                &sub.params,
                &s.hyperparameters,
                "subnet hyperparameters",
                &[],
            )?;
            st.set_subnet(&sub);
        }
        st.totals().check().map_err(GenesisError::Ledger)?;
        let changes = st
            .into_changes()
            .map_err(|e| GenesisError::Ledger(e.to_string()))?;
        let mut root = StateRoot::new();
        let state_root = root.apply(&changes);
        let header = Header {
            parent_hash: Hash32([0; 32]),
            number: 0,
            timestamp: self.timestamp,
            state_root,
            tx_root: Hash32([0; 32]),
        };
        let hash = header.hash();
        Ok(Genesis {
            changes,
            header,
            hash,
        })
    }
}

/// The dev accounts' secret URIs, in order.
pub const DEV_ACCOUNTS: [&str; 6] = [
    "//Alice",
    "//Bob",
    "//Charlie",
    "//Dave",
    "//Eve",
    "//Ferdie",
];
/// The dev genesis timestamp (2026-01-01T00:00:00Z), fixed so the genesis hash is too.
pub const DEV_TIMESTAMP: u64 = 1_767_225_600_000;

/// The built-in dev genesis: //Alice … //Ferdie with 1,000,000 TAO each, //Alice is root,
/// loopback axons allowed, network lock minimum 1 TAO, and new subnets with tempo 20, weights
/// rate limit 5, commit-reveal off, immunity 100 blocks, activity cutoff 1000 blocks.
pub fn dev_genesis() -> Result<GenesisConfig, GenesisError> {
    let mut balances = Vec::new();
    let mut root = String::new();
    for uri in DEV_ACCOUNTS {
        let kp =
            tensornet_keys::Keypair::from_uri(uri).map_err(|e| GenesisError::Key(e.to_string()))?;
        let acc = kp.account_id().to_hex();
        if root.is_empty() {
            root = acc.clone();
        }
        balances.push(GenesisBalance {
            account: acc,
            rao: 1_000_000 * RAO_PER_TAO,
        });
    }
    let obj = |v: serde_json::Value| v.as_object().cloned().unwrap_or_default();
    Ok(GenesisConfig {
        timestamp: DEV_TIMESTAMP,
        root,
        balances,
        subnets: Vec::new(),
        new_subnet: obj(serde_json::json!({
            "tempo": 20,
            "weights_rate_limit": 5,
            "commit_reveal_enabled": false,
            "immunity_period": 100,
            "activity_cutoff": 1000,
        })),
        params: obj(serde_json::json!({
            "allow_private_axons": true,
            "network_min_lock": RAO_PER_TAO,
            "network_last_lock": RAO_PER_TAO,
        })),
    })
}
