//! # tensornet-rpc-api
//!
//! The one definition of tensornet's JSON-RPC 2.0 API (served by `tensornet-node`, used by
//! `tensornet-client`): the `TensornetApi` method trait (jsonrpsee), the wire types it
//! exchanges, the stable error codes ([`ErrorCode`]) and the transaction hex codec.
//! Method-by-method documentation with examples: `docs/rpc.md`.
//!
//! ## Features
//! - `server`: generates `TensornetApiServer` (the node implements it).
//! - `client`: generates `TensornetApiClient`, implemented for every jsonrpsee client
//!   (HTTP or WebSocket; subscriptions need WebSocket).
//!
//! Without either feature only the wire types, codes and codec are compiled.
//!
//! ## Invariants
//! - The wire types are the runtime's own types ([`tensornet_runtime`]) wherever one exists;
//!   this crate adds only views that combine them ([`HeadInfo`], [`BlockView`], [`TxStatus`], …).
//! - Transactions travel as `0x`-hex of their SCALE encoding ([`encode_transaction`],
//!   [`decode_transaction`]); at most [`MAX_TRANSACTION_BYTES`] bytes, with no trailing bytes.
//! - Every failure is a JSON-RPC error object whose `code` is one of [`ErrorCode`] (or a
//!   JSON-RPC standard code such as −32602 invalid params); codes never change meaning.
//! - Accounts and hashes are `0x` + 64 hex digits; balances are integers in rao.

use parity_scale_codec::{DecodeLimit, Encode};
use serde::{Deserialize, Serialize};
use tensornet_primitives::{AccountId, Balance, BlockNumber, Hash32, NetUid, Uid};

pub use tensornet_runtime::{
    AccountInfo, AxonInfo, Block, ChainConfig, Event, Header, HotkeyInfo, Metagraph, NeuronView,
    Receipt, SignedTransaction, SubnetInfo, SubnetParams, UidEmission,
};

/// Largest accepted SCALE-encoded transaction, bytes (a 4096-UID `reveal_weights` fits).
pub const MAX_TRANSACTION_BYTES: usize = 64 * 1024;
/// Largest accepted JSON-RPC request body, bytes (the node's server limit).
pub const MAX_REQUEST_BYTES: u32 = 512 * 1024;
/// Largest JSON-RPC response, bytes (a 4096-UID metagraph with weights and bonds fits).
pub const MAX_RESPONSE_BYTES: u32 = 256 * 1024 * 1024;
/// Default RPC listen address of a node.
pub const DEFAULT_RPC_ADDR: &str = "127.0.0.1:9944";
/// Maximum nesting depth accepted when decoding a transaction.
const DECODE_DEPTH: u32 = 16;

/// A block reference: its number (a JSON integer) or its hash (a `0x…` string).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BlockId {
    /// Block number.
    Number(BlockNumber),
    /// Block hash.
    Hash(Hash32),
}

/// A block header summary (what `chain_head` returns and `chain_subscribeNewHeads` sends).
/// Reported only once the block is durably stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadInfo {
    /// Block number.
    pub number: BlockNumber,
    /// Block hash (BLAKE2b-256 of the SCALE header).
    pub hash: Hash32,
    /// State root after the block.
    pub state_root: Hash32,
    /// Parent block hash.
    pub parent_hash: Hash32,
    /// Producer's timestamp, ms since the Unix epoch.
    pub timestamp: u64,
    /// Number of transactions in the block.
    pub tx_count: u32,
}

impl HeadInfo {
    /// The summary of a header.
    pub fn from_header(h: &Header, tx_count: u32) -> HeadInfo {
        HeadInfo {
            number: h.number,
            hash: h.hash(),
            state_root: h.state_root,
            parent_hash: h.parent_hash,
            timestamp: h.timestamp,
            tx_count,
        }
    }
}

/// Static facts about the chain a node serves, plus its current head.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainInfo {
    /// Genesis hash: the chain id every transaction signs.
    pub genesis_hash: Hash32,
    /// The current (durable) head.
    pub head: HeadInfo,
    /// The chain configuration (fees, limits, root key, new-subnet defaults).
    pub config: ChainConfig,
    /// Rao locked by `register_network` if included in the next block.
    pub network_lock_cost: Balance,
    /// Node software version.
    pub node_version: String,
}

/// A full block with its outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockView {
    /// Block hash.
    pub hash: Hash32,
    /// Header.
    pub header: Header,
    /// Transactions in order.
    pub transactions: Vec<SignedTransaction>,
    /// One receipt per transaction, in order.
    pub receipts: Vec<Receipt>,
    /// Block-level events (emission, epochs).
    pub events: Vec<Event>,
}

/// Where a transaction is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TxStatus {
    /// In the node's pool, waiting for a block (`ready = false`: held for an earlier nonce).
    Pending {
        /// True when its nonce is the signer's next one.
        ready: bool,
    },
    /// In a durably stored block.
    Included {
        /// Block number.
        block_number: BlockNumber,
        /// Block hash.
        block_hash: Hash32,
        /// Position in the block body.
        index: u32,
        /// Its receipt (`error` set when a paying call failed its rules and only paid its fee).
        receipt: Receipt,
    },
    /// Dropped by the node (evicted, or invalid when its turn came). Not retried.
    Rejected {
        /// An [`ErrorCode`] value.
        code: i32,
        /// Why, in words.
        reason: String,
    },
    /// The node does not know this hash (never seen, or forgotten after a restart).
    Unknown,
}

/// A stake of one coldkey on one hotkey.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakeEntry {
    /// Hotkey staked on.
    pub hotkey: AccountId,
    /// Coldkey that owns the stake.
    pub coldkey: AccountId,
    /// Rao.
    pub amount: Balance,
}

/// An account (coldkey or hotkey signer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    /// The account.
    pub account: AccountId,
    /// Free balance, rao.
    pub free: Balance,
    /// Nonce of the account in the head state (the next transaction in a block must use it).
    pub nonce: u64,
    /// The nonce a new transaction should use: `nonce` plus the signer's consecutive pending
    /// transactions in the pool.
    pub next_nonce: u64,
    /// Stakes this account owns as a coldkey, by hotkey.
    pub stakes: Vec<StakeEntry>,
    /// Sum of `stakes`, rao.
    pub total_stake: Balance,
}

/// A hotkey's record and where it is registered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HotkeyView {
    /// The hotkey.
    pub hotkey: AccountId,
    /// Owner coldkey, delegate take, last take change, total stake.
    pub info: HotkeyInfo,
    /// Every `(coldkey, rao)` staked on it.
    pub stakers: Vec<StakeEntry>,
    /// `(netuid, uid)` of each subnet it holds a UID on.
    pub registrations: Vec<(NetUid, Uid)>,
}

/// One neuron looked up by hotkey.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeuronInfo {
    /// Subnet.
    pub netuid: NetUid,
    /// Block the view was read at.
    pub block: BlockNumber,
    /// The neuron (same shape as a metagraph row, without weights and bonds).
    pub neuron: NeuronView,
}

/// The registration (burn) cost and the subnet creation (lock) cost.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BurnCost {
    /// Subnet asked about (`None` when only the lock cost was asked).
    pub netuid: Option<NetUid>,
    /// Rao burned by `burned_register` on that subnet in the next block (before the block's
    /// price decay), when a subnet was given.
    pub registration: Option<Balance>,
    /// Rao locked by `register_network` in the next block.
    pub network_lock: Balance,
}

/// A subnet's epoch, as sent by `subnet_subscribeEpochs`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochNotice {
    /// Subnet.
    pub netuid: NetUid,
    /// Block the epoch ran in (durably stored).
    pub block_number: BlockNumber,
    /// Hash of that block.
    pub block_hash: Hash32,
    /// Epoch index after this epoch.
    pub epoch_index: u64,
    /// Rao handed to the epoch.
    pub rao_emission: Balance,
    /// Owner cut staked to the owner hotkey.
    pub owner_cut: Balance,
    /// Rao burned.
    pub burned: Balance,
    /// Per-UID emission (non-zero shares).
    pub emission: Vec<UidEmission>,
}

impl EpochNotice {
    /// The notice for an `EpochRan` event, `None` for any other event.
    pub fn from_event(ev: &Event, block_number: BlockNumber, block_hash: Hash32) -> Option<Self> {
        match ev {
            Event::EpochRan {
                netuid,
                epoch_index,
                rao_emission,
                owner_cut,
                burned,
                emission,
            } => Some(EpochNotice {
                netuid: *netuid,
                block_number,
                block_hash,
                epoch_index: *epoch_index,
                rao_emission: *rao_emission,
                owner_cut: *owner_cut,
                burned: *burned,
                emission: emission.clone(),
            }),
            _ => None,
        }
    }
}

/// Stable application error codes (JSON-RPC `error.code`). JSON-RPC's own codes are used as
/// usual: −32700 parse error, −32600 invalid request, −32601 method not found, −32602 invalid
/// params, −32603 internal, −32007 request too big (jsonrpsee).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum ErrorCode {
    /// The transaction is not valid hex or not a valid SCALE `SignedTransaction`.
    InvalidTransactionEncoding = 1001,
    /// The encoded transaction exceeds [`MAX_TRANSACTION_BYTES`].
    TransactionTooLarge = 1002,
    /// The signature does not verify for this chain's genesis hash.
    BadSignature = 1003,
    /// The nonce is below the signer's account nonce (already used).
    StaleNonce = 1004,
    /// The nonce is too far ahead of the signer's account nonce to be held.
    NonceTooFar = 1005,
    /// The signer cannot pay the fee.
    CannotPayFee = 1006,
    /// The call would fail its rules now (data: the runtime's `CallError`).
    CallWouldFail = 1007,
    /// The same transaction (same hash) is already pending or included.
    DuplicateTransaction = 1008,
    /// The pool is full and this transaction may not evict another.
    PoolFull = 1009,
    /// The signer has the maximum number of pending transactions.
    SenderLimit = 1010,
    /// Another pending transaction of this signer has the same nonce.
    NonceConflict = 1011,
    /// No subnet with this netuid.
    SubnetNotFound = 2001,
    /// The store failed; the node keeps serving what it can.
    Internal = 3001,
    /// The node is shutting down.
    Unavailable = 3002,
}

impl ErrorCode {
    /// Every code, for documentation and tests.
    pub const ALL: [ErrorCode; 14] = [
        ErrorCode::InvalidTransactionEncoding,
        ErrorCode::TransactionTooLarge,
        ErrorCode::BadSignature,
        ErrorCode::StaleNonce,
        ErrorCode::NonceTooFar,
        ErrorCode::CannotPayFee,
        ErrorCode::CallWouldFail,
        ErrorCode::DuplicateTransaction,
        ErrorCode::PoolFull,
        ErrorCode::SenderLimit,
        ErrorCode::NonceConflict,
        ErrorCode::SubnetNotFound,
        ErrorCode::Internal,
        ErrorCode::Unavailable,
    ];

    /// The numeric code.
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The code with this number, if it is one of ours.
    pub fn from_code(code: i32) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.code() == code)
    }

    /// A JSON-RPC error object with this code.
    pub fn error(
        self,
        message: impl Into<String>,
        data: Option<serde_json::Value>,
    ) -> jsonrpsee::types::ErrorObjectOwned {
        jsonrpsee::types::ErrorObject::owned(self.code(), message.into(), data)
    }
}

/// Why a transaction hex string could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxCodecError {
    /// Not hex.
    #[error("transaction is not valid hex: {0}")]
    Hex(String),
    /// Too many bytes.
    #[error("transaction is {0} bytes; the limit is {MAX_TRANSACTION_BYTES}")]
    TooLarge(usize),
    /// Not a SCALE `SignedTransaction`.
    #[error("transaction does not decode: {0}")]
    Scale(String),
    /// Bytes left over after the transaction.
    #[error("transaction has {0} trailing bytes")]
    Trailing(usize),
}

impl TxCodecError {
    /// The stable code of this failure.
    pub fn code(&self) -> ErrorCode {
        match self {
            TxCodecError::TooLarge(_) => ErrorCode::TransactionTooLarge,
            _ => ErrorCode::InvalidTransactionEncoding,
        }
    }
}

/// `0x`-hex of the SCALE encoding of a transaction (what `tx_submit` takes).
pub fn encode_transaction(tx: &SignedTransaction) -> String {
    format!("0x{}", hex::encode(tx.encode()))
}

/// Decodes [`encode_transaction`]'s output, enforcing [`MAX_TRANSACTION_BYTES`] before
/// decoding and rejecting trailing bytes.
pub fn decode_transaction(text: &str) -> Result<SignedTransaction, TxCodecError> {
    let t = text.trim();
    let t = t.strip_prefix("0x").unwrap_or(t);
    if t.len() / 2 > MAX_TRANSACTION_BYTES {
        return Err(TxCodecError::TooLarge(t.len() / 2));
    }
    let bytes = hex::decode(t).map_err(|e| TxCodecError::Hex(e.to_string()))?;
    let mut input = bytes.as_slice();
    let tx = SignedTransaction::decode_with_depth_limit(DECODE_DEPTH, &mut input)
        .map_err(|e| TxCodecError::Scale(e.to_string()))?;
    if !input.is_empty() {
        return Err(TxCodecError::Trailing(input.len()));
    }
    Ok(tx)
}

/// Decodes a transaction from raw SCALE bytes (same checks as [`decode_transaction`]).
pub fn decode_transaction_bytes(bytes: &[u8]) -> Result<SignedTransaction, TxCodecError> {
    if bytes.len() > MAX_TRANSACTION_BYTES {
        return Err(TxCodecError::TooLarge(bytes.len()));
    }
    let mut input = bytes;
    let tx = SignedTransaction::decode_with_depth_limit(DECODE_DEPTH, &mut input)
        .map_err(|e| TxCodecError::Scale(e.to_string()))?;
    if !input.is_empty() {
        return Err(TxCodecError::Trailing(input.len()));
    }
    Ok(tx)
}

/// The JSON-RPC result type of every method.
pub type RpcResult<T> = Result<T, jsonrpsee::types::ErrorObjectOwned>;

#[cfg(any(feature = "server", feature = "client"))]
mod api {
    use super::*;
    use jsonrpsee::proc_macros::rpc;

    /// The tensornet JSON-RPC API. Method names are the `name = "…"` strings; see
    /// `docs/rpc.md` for parameters, results, errors and examples.
    #[cfg_attr(all(feature = "server", feature = "client"), rpc(server, client))]
    #[cfg_attr(all(feature = "server", not(feature = "client")), rpc(server))]
    #[cfg_attr(all(feature = "client", not(feature = "server")), rpc(client))]
    pub trait TensornetApi {
        /// `chain_info`: genesis hash, head, chain configuration, lock cost, node version.
        #[method(name = "chain_info")]
        async fn chain_info(&self) -> RpcResult<ChainInfo>;

        /// `chain_head`: the latest durably stored block.
        #[method(name = "chain_head")]
        async fn chain_head(&self) -> RpcResult<HeadInfo>;

        /// `chain_block`: a stored block by number or hash; `null` if there is none.
        #[method(name = "chain_block")]
        async fn chain_block(&self, at: BlockId) -> RpcResult<Option<BlockView>>;

        /// `tx_submit`: validates and pools a `0x`-hex SCALE transaction; returns its hash.
        #[method(name = "tx_submit")]
        async fn tx_submit(&self, tx: String) -> RpcResult<Hash32>;

        /// `tx_status`: pending / included (with receipt) / rejected (with reason) / unknown.
        #[method(name = "tx_status")]
        async fn tx_status(&self, hash: Hash32) -> RpcResult<TxStatus>;

        /// `state_account`: free balance, nonce, next usable nonce, stakes.
        #[method(name = "state_account")]
        async fn state_account(&self, account: AccountId) -> RpcResult<AccountView>;

        /// `state_hotkey`: a hotkey's owner, take, stakers and registrations; `null` if never
        /// registered.
        #[method(name = "state_hotkey")]
        async fn state_hotkey(&self, hotkey: AccountId) -> RpcResult<Option<HotkeyView>>;

        /// `subnet_list`: every subnet, ascending netuid.
        #[method(name = "subnet_list")]
        async fn subnet_list(&self) -> RpcResult<Vec<SubnetInfo>>;

        /// `subnet_info`: one subnet (error 2001 if unknown).
        #[method(name = "subnet_info")]
        async fn subnet_info(&self, netuid: NetUid) -> RpcResult<SubnetInfo>;

        /// `subnet_hyperparameters`: one subnet's hyperparameters (error 2001 if unknown).
        #[method(name = "subnet_hyperparameters")]
        async fn subnet_hyperparameters(&self, netuid: NetUid) -> RpcResult<SubnetParams>;

        /// `subnet_metagraph`: the whole metagraph of a subnet in one call; weights and bonds
        /// rows when `with_matrices` is true (error 2001 if unknown).
        #[method(name = "subnet_metagraph")]
        async fn subnet_metagraph(
            &self,
            netuid: NetUid,
            with_matrices: Option<bool>,
        ) -> RpcResult<Metagraph>;

        /// `subnet_neuron`: the neuron of `hotkey` on a subnet; `null` if it holds no UID there
        /// (error 2001 if the subnet is unknown).
        #[method(name = "subnet_neuron")]
        async fn subnet_neuron(
            &self,
            netuid: NetUid,
            hotkey: AccountId,
        ) -> RpcResult<Option<NeuronInfo>>;

        /// `subnet_burnCost`: registration price on `netuid` (if given) and the network lock
        /// cost (error 2001 if the subnet is unknown).
        #[method(name = "subnet_burnCost")]
        async fn subnet_burn_cost(&self, netuid: Option<NetUid>) -> RpcResult<BurnCost>;

        /// `chain_subscribeNewHeads`: a [`HeadInfo`] per durably stored block
        /// (notifications `chain_newHead`, unsubscribe `chain_unsubscribeNewHeads`).
        #[subscription(
            name = "chain_subscribeNewHeads" => "chain_newHead",
            unsubscribe = "chain_unsubscribeNewHeads",
            item = HeadInfo
        )]
        async fn subscribe_new_heads(&self) -> jsonrpsee::core::SubscriptionResult;

        /// `subnet_subscribeEpochs`: an [`EpochNotice`] per epoch of `netuid` in a durably
        /// stored block (notifications `subnet_epoch`, unsubscribe `subnet_unsubscribeEpochs`).
        #[subscription(
            name = "subnet_subscribeEpochs" => "subnet_epoch",
            unsubscribe = "subnet_unsubscribeEpochs",
            item = EpochNotice
        )]
        async fn subscribe_epochs(&self, netuid: NetUid) -> jsonrpsee::core::SubscriptionResult;
    }
}

#[cfg(feature = "client")]
pub use api::TensornetApiClient;
#[cfg(feature = "server")]
pub use api::TensornetApiServer;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use tensornet_runtime::Call;

    fn sample_tx(nonce: u64, amount: u64) -> SignedTransaction {
        let kp = tensornet_keys::Keypair::from_uri("//Alice").unwrap();
        SignedTransaction::sign(
            &kp,
            &Hash32([7; 32]),
            nonce,
            Call::Transfer {
                dest: AccountId([2; 32]),
                amount,
            },
        )
    }

    #[test]
    fn tx_hex_roundtrip_and_rejections() {
        let tx = sample_tx(3, 5);
        let hex = encode_transaction(&tx);
        assert!(hex.starts_with("0x"));
        assert_eq!(decode_transaction(&hex).unwrap(), tx);
        assert!(matches!(
            decode_transaction("0xzz"),
            Err(TxCodecError::Hex(_))
        ));
        assert!(matches!(
            decode_transaction("0x00"),
            Err(TxCodecError::Scale(_))
        ));
        let trailing = format!("{hex}00");
        assert_eq!(
            decode_transaction(&trailing),
            Err(TxCodecError::Trailing(1))
        );
        let huge = format!("0x{}", "00".repeat(MAX_TRANSACTION_BYTES + 1));
        let e = decode_transaction(&huge).unwrap_err();
        assert_eq!(e.code(), ErrorCode::TransactionTooLarge);
    }

    #[test]
    fn block_id_json_forms() {
        let n: BlockId = serde_json::from_str("12").unwrap();
        assert_eq!(n, BlockId::Number(12));
        let h: BlockId =
            serde_json::from_value(serde_json::json!(Hash32([1; 32]).to_hex())).unwrap();
        assert_eq!(h, BlockId::Hash(Hash32([1; 32])));
        assert!(serde_json::from_str::<BlockId>("\"0x12\"").is_err());
    }

    #[test]
    fn tx_status_json_is_tagged() {
        let v = serde_json::to_value(TxStatus::Pending { ready: true }).unwrap();
        assert_eq!(v, serde_json::json!({"status": "pending", "ready": true}));
        let v = serde_json::to_value(TxStatus::Unknown).unwrap();
        assert_eq!(v, serde_json::json!({"status": "unknown"}));
    }

    #[test]
    fn error_codes_are_unique_and_roundtrip() {
        let mut seen = std::collections::BTreeSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.code()), "duplicate code {}", c.code());
            assert_eq!(ErrorCode::from_code(c.code()), Some(c));
            assert!(c.code() > 0, "application codes are positive");
        }
        assert_eq!(ErrorCode::from_code(-32602), None);
        let e = ErrorCode::SubnetNotFound.error("subnet 9 does not exist", None);
        assert_eq!(e.code(), 2001);
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode_transaction_bytes(&bytes);
            let _ = decode_transaction(&hex::encode(&bytes));
        }

        #[test]
        fn roundtrip_any_transfer(nonce in any::<u64>(), amount in any::<u64>()) {
            let tx = sample_tx(nonce, amount);
            prop_assert_eq!(decode_transaction(&encode_transaction(&tx)).unwrap(), tx);
        }
    }
}
