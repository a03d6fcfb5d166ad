//! Wire types: calls, signed transactions, headers, blocks, events, receipts and errors.
//! All are SCALE-encoded on the wire and in storage (`parity-scale-codec`), and serde
//! (JSON) for RPC. Codec version: [`TX_VERSION`].

use crate::hash::{blake2b_256, merkle_root};
use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};
use tensornet_primitives::{AccountId, Balance, BlockNumber, Hash32, NetUid, Uid};

/// Domain separator and version of the transaction signing payload.
pub const TX_VERSION: &[u8] = b"tensornet/tx/v1";

/// A subnet hyperparameter and its new value (for `set_hyperparameter` and `sudo`).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hyperparameter {
    /// Blocks between epochs. Owner: 360..=50 400; root: any (0 = never).
    Tempo(u16),
    /// Consensus majority `/65535`. Root only.
    Kappa(u16),
    /// Bond EMA, parts per million. Owner: ≤ 975 000; root: ≤ 1 000 000.
    BondsMovingAverage(u64),
    /// Bonds penalty `/65535`. Owner.
    BondsPenalty(u16),
    /// Yuma 3 on/off. Owner.
    Yuma3Enabled(bool),
    /// Liquid alpha on/off. Owner.
    LiquidAlphaEnabled(bool),
    /// Liquid alpha (low, high) `/65535`. Owner; needs liquid alpha on, `high ≥ 1638`,
    /// `1638 ≤ low ≤ high`.
    AlphaValues(u16, u16),
    /// Liquid alpha sigmoid steepness. Owner: ≥ 0; root: any.
    AlphaSigmoidSteepness(i16),
    /// Top-k validator permits. Root only; ≤ `max_allowed_uids`.
    MaxAllowedValidators(u16),
    /// Minimum weights per submission. Owner.
    MinAllowedWeights(u16),
    /// Maximum normalized weight (65535 = no limit). Owner.
    MaxWeightLimit(u16),
    /// Activity cutoff in blocks. Owner: ≥ 1.
    ActivityCutoff(u64),
    /// Commit-reveal of weights on/off. Owner.
    CommitRevealEnabled(bool),
    /// Reveal period in epochs. Owner: 1..=100.
    RevealPeriod(u64),
    /// Blocks between weight submissions of one hotkey. Root only.
    WeightsRateLimit(u64),
    /// Minimum weights version key. Owner.
    WeightsVersionKey(u64),
    /// Blocks a new UID is immune from pruning. Owner.
    ImmunityPeriod(u16),
    /// Maximum UIDs. Root only; from the current `n` up to 4096.
    MaxAllowedUids(u16),
    /// Blocks between `serve_axon` calls of one hotkey. Owner.
    ServingRateLimit(u64),
    /// Relative share of the block emission. Root only.
    EmissionWeight(u64),
}

/// A chain-wide parameter (root only, through `sudo`).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GlobalParam {
    /// Base block emission in rao (before halving).
    BlockEmission(Balance),
    /// Flat fee of paying calls, in rao.
    TxFee(Balance),
    /// Stake (rao) a hotkey needs to set weights; also zeroes smaller stakes in the epoch.
    StakeThreshold(Balance),
    /// Minimum network lock cost.
    NetworkMinLock(Balance),
    /// Blocks over which the lock cost decays back to the minimum.
    NetworkLockReductionInterval(u64),
    /// Maximum delegate take `/65535`.
    MaxTake(u16),
    /// Blocks between take increases.
    TakeRateLimit(u64),
    /// Whether loopback/private axon addresses are accepted.
    AllowPrivateAxons(bool),
    /// Epochs that may run in one block.
    MaxEpochsPerBlock(u16),
    /// A new root key.
    Root(AccountId),
}

/// What the root key may do (`Call::Sudo`).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SudoCall {
    /// Set any subnet hyperparameter, with only the hard bounds.
    SetHyperparameter {
        /// Subnet.
        netuid: NetUid,
        /// Parameter and value.
        param: Hyperparameter,
    },
    /// Set a chain-wide parameter.
    SetGlobal(GlobalParam),
}

/// Everything a transaction can ask for. See the crate docs for each call's rules and fee.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Call {
    /// Move free balance (coldkey).
    Transfer {
        /// Recipient.
        dest: AccountId,
        /// Rao.
        amount: Balance,
    },
    /// Create a subnet owned by the signer (coldkey), `hotkey` takes UID 0.
    RegisterNetwork {
        /// The owner hotkey.
        hotkey: AccountId,
    },
    /// Register `hotkey` on a subnet for the current burn price (coldkey pays).
    BurnedRegister {
        /// Subnet.
        netuid: NetUid,
        /// Hotkey to register (must be new or owned by the signer).
        hotkey: AccountId,
        /// Reject if the price is above this.
        max_price: Option<Balance>,
    },
    /// Publish the signer hotkey's axon endpoint (free).
    ServeAxon {
        /// Subnet.
        netuid: NetUid,
        /// IPv4 (in the low 32 bits) or IPv6 address.
        ip: u128,
        /// Port (non-zero).
        port: u16,
        /// 4 or 6.
        ip_type: u8,
        /// Protocol number.
        protocol: u8,
        /// Axon software version.
        version: u32,
    },
    /// Set the signer hotkey's weights (free; commit-reveal off only).
    SetWeights {
        /// Subnet.
        netuid: NetUid,
        /// Target UIDs.
        uids: Vec<Uid>,
        /// Weights, any scale (max-upscaled to u16).
        values: Vec<u16>,
        /// Weights version key.
        version_key: u64,
    },
    /// Commit a weights hash (free; commit-reveal on only).
    CommitWeights {
        /// Subnet.
        netuid: NetUid,
        /// [`commit_hash`] of the later reveal.
        hash: Hash32,
    },
    /// Reveal committed weights (free).
    RevealWeights {
        /// Subnet.
        netuid: NetUid,
        /// Target UIDs.
        uids: Vec<Uid>,
        /// Weights.
        values: Vec<u16>,
        /// Salt used in the commit.
        salt: Vec<u16>,
        /// Weights version key.
        version_key: u64,
    },
    /// Move free balance to stake on a hotkey (coldkey).
    AddStake {
        /// Registered hotkey.
        hotkey: AccountId,
        /// Rao.
        amount: Balance,
    },
    /// Move stake back to free balance (coldkey).
    RemoveStake {
        /// Hotkey staked on.
        hotkey: AccountId,
        /// Rao.
        amount: Balance,
    },
    /// Raise a hotkey's delegate take (its owner coldkey; rate-limited).
    IncreaseTake {
        /// Hotkey owned by the signer.
        hotkey: AccountId,
        /// New take `/65535`.
        take: u16,
    },
    /// Lower a hotkey's delegate take (its owner coldkey).
    DecreaseTake {
        /// Hotkey owned by the signer.
        hotkey: AccountId,
        /// New take `/65535`.
        take: u16,
    },
    /// Subnet owner sets an owner-settable hyperparameter.
    SetHyperparameter {
        /// Subnet.
        netuid: NetUid,
        /// Parameter and value.
        param: Hyperparameter,
    },
    /// Root key only.
    Sudo(SudoCall),
}

impl Call {
    /// The free, hotkey-signed calls: no fee, and never includable if they fail.
    pub fn is_free(&self) -> bool {
        matches!(
            self,
            Call::ServeAxon { .. }
                | Call::SetWeights { .. }
                | Call::CommitWeights { .. }
                | Call::RevealWeights { .. }
        )
    }
}

/// The hash a `commit_weights` commits to: BLAKE2b-256 of the SCALE encoding of
/// `(hotkey, netuid, uids, values, salt, version_key)`.
pub fn commit_hash(
    hotkey: &AccountId,
    netuid: NetUid,
    uids: &[Uid],
    values: &[u16],
    salt: &[u16],
    version_key: u64,
) -> Hash32 {
    let enc = (
        hotkey.0,
        netuid,
        uids.to_vec(),
        values.to_vec(),
        salt.to_vec(),
        version_key,
    )
        .encode();
    blake2b_256(&enc)
}

/// The bytes a transaction's signature covers:
/// `TX_VERSION ‖ genesis_hash ‖ SCALE(nonce) ‖ SCALE(call)`.
pub fn signing_payload(genesis_hash: &Hash32, nonce: u64, call: &Call) -> Vec<u8> {
    let mut v = Vec::with_capacity(64 + 64);
    v.extend_from_slice(TX_VERSION);
    v.extend_from_slice(&genesis_hash.0);
    nonce.encode_to(&mut v);
    call.encode_to(&mut v);
    v
}

/// A signed transaction.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct SignedTransaction {
    /// sr25519 public key of the signer (coldkey or hotkey).
    pub signer: AccountId,
    /// Must equal the signer's account nonce.
    pub nonce: u64,
    /// The call.
    pub call: Call,
    /// sr25519 signature (context `substrate`) over [`signing_payload`].
    #[serde(with = "sig_hex")]
    pub signature: [u8; 64],
}

mod sig_hex {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("0x{}", hex_encode(v)))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 64], D::Error> {
        let s = String::deserialize(d)?;
        let v = tensornet_primitives::decode_hex(&s).map_err(serde::de::Error::custom)?;
        v.as_slice()
            .try_into()
            .map_err(|_| serde::de::Error::custom("signature must be 64 bytes"))
    }
    fn hex_encode(v: &[u8]) -> String {
        v.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl SignedTransaction {
    /// Signs `call` with `keypair`.
    pub fn sign(
        keypair: &tensornet_keys::Keypair,
        genesis_hash: &Hash32,
        nonce: u64,
        call: Call,
    ) -> SignedTransaction {
        let sig = keypair.sign(&signing_payload(genesis_hash, nonce, &call));
        SignedTransaction {
            signer: keypair.account_id(),
            nonce,
            call,
            signature: sig.0,
        }
    }

    /// BLAKE2b-256 of the SCALE encoding.
    pub fn hash(&self) -> Hash32 {
        blake2b_256(&self.encode())
    }

    /// Checks the signature alone.
    pub fn verify(&self, genesis_hash: &Hash32) -> bool {
        tensornet_keys::verify(
            &self.signer,
            &signing_payload(genesis_hash, self.nonce, &self.call),
            &tensornet_keys::Signature(self.signature),
        )
    }
}

/// A block header. Its hash is BLAKE2b-256 of its SCALE encoding.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Header {
    /// Hash of the parent header (zero for genesis).
    pub parent_hash: Hash32,
    /// Height (0 for genesis).
    pub number: BlockNumber,
    /// Milliseconds since the Unix epoch, set by the producer; never below the parent's.
    pub timestamp: u64,
    /// [`crate::StateRoot`] after the block.
    pub state_root: Hash32,
    /// [`merkle_root`] of the transaction hashes.
    pub tx_root: Hash32,
}

impl Header {
    /// The block hash.
    pub fn hash(&self) -> Hash32 {
        blake2b_256(&self.encode())
    }
}

/// A block: header and transactions.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Block {
    /// Header.
    pub header: Header,
    /// Transactions, applied in order.
    pub body: Vec<SignedTransaction>,
}

/// Transactions root of a body.
pub fn tx_root(body: &[SignedTransaction]) -> Hash32 {
    let hashes: Vec<Hash32> = body.iter().map(|t| t.hash()).collect();
    merkle_root(&hashes)
}

/// One UID's payout in an epoch.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct UidEmission {
    /// UID.
    pub uid: Uid,
    /// Its hotkey.
    pub hotkey: AccountId,
    /// Server (miner) emission, rao.
    pub server: Balance,
    /// Validator emission, rao.
    pub validator: Balance,
}

/// Something that happened.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// Block emission minted and credited to subnets' pending pools.
    Emission {
        /// Rao minted this block.
        minted: Balance,
    },
    /// Free balance moved.
    Transfer {
        /// From.
        from: AccountId,
        /// To.
        to: AccountId,
        /// Rao.
        amount: Balance,
    },
    /// A subnet was created.
    NetworkRegistered {
        /// Its netuid.
        netuid: NetUid,
        /// Owner coldkey.
        owner: AccountId,
        /// Owner hotkey (UID 0).
        hotkey: AccountId,
        /// Rao locked.
        lock: Balance,
    },
    /// A hotkey took a UID.
    NeuronRegistered {
        /// Subnet.
        netuid: NetUid,
        /// UID.
        uid: Uid,
        /// Hotkey.
        hotkey: AccountId,
        /// Rao burned.
        price: Balance,
    },
    /// A UID's previous hotkey was replaced.
    NeuronPruned {
        /// Subnet.
        netuid: NetUid,
        /// UID.
        uid: Uid,
        /// The hotkey that lost the UID.
        hotkey: AccountId,
    },
    /// An axon was published.
    AxonServed {
        /// Subnet.
        netuid: NetUid,
        /// Hotkey.
        hotkey: AccountId,
    },
    /// Weights stored (by `set_weights` or a reveal).
    WeightsSet {
        /// Subnet.
        netuid: NetUid,
        /// UID.
        uid: Uid,
    },
    /// A weights commit was stored.
    WeightsCommitted {
        /// Subnet.
        netuid: NetUid,
        /// Hotkey.
        hotkey: AccountId,
        /// Commit hash.
        hash: Hash32,
    },
    /// A commit was revealed and its weights stored.
    WeightsRevealed {
        /// Subnet.
        netuid: NetUid,
        /// Hotkey.
        hotkey: AccountId,
        /// Commit hash.
        hash: Hash32,
    },
    /// Stake added.
    StakeAdded {
        /// Coldkey.
        coldkey: AccountId,
        /// Hotkey.
        hotkey: AccountId,
        /// Rao.
        amount: Balance,
    },
    /// Stake removed.
    StakeRemoved {
        /// Coldkey.
        coldkey: AccountId,
        /// Hotkey.
        hotkey: AccountId,
        /// Rao.
        amount: Balance,
    },
    /// Delegate take changed.
    TakeSet {
        /// Hotkey.
        hotkey: AccountId,
        /// New take `/65535`.
        take: u16,
    },
    /// A subnet hyperparameter changed.
    HyperparameterSet {
        /// Subnet.
        netuid: NetUid,
        /// New value.
        param: Hyperparameter,
    },
    /// A chain-wide parameter changed.
    GlobalParamSet(GlobalParam),
    /// A subnet's epoch ran and its emission was paid.
    EpochRan {
        /// Subnet.
        netuid: NetUid,
        /// Epoch index after this epoch.
        epoch_index: u64,
        /// Rao handed to the epoch (pending server + validator).
        rao_emission: Balance,
        /// Owner cut staked to the owner hotkey.
        owner_cut: Balance,
        /// Rao burned: owner-coldkey incentive plus rounding dust.
        burned: Balance,
        /// Per-UID emission (UIDs with a non-zero share).
        emission: Vec<UidEmission>,
    },
    /// A due epoch was deferred to the next block (per-block epoch cap).
    EpochDeferred {
        /// Subnet.
        netuid: NetUid,
    },
    /// The epoch function failed; the pending emission keeps accumulating.
    EpochFailed {
        /// Subnet.
        netuid: NetUid,
        /// The epoch's error.
        error: String,
    },
}

/// Why a call failed. A failing paying call still pays its fee; a failing free call makes
/// its block invalid.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum CallError {
    /// Not enough free balance for the amount (after the fee).
    #[error("insufficient free balance")]
    InsufficientBalance,
    /// Not enough stake.
    #[error("insufficient stake")]
    InsufficientStake,
    /// Amount is zero.
    #[error("amount must be non-zero")]
    ZeroAmount,
    /// Arithmetic overflow.
    #[error("arithmetic overflow")]
    Overflow,
    /// No such subnet.
    #[error("subnet does not exist")]
    SubnetNotFound,
    /// Too many subnets.
    #[error("no free netuid")]
    TooManySubnets,
    /// The hotkey belongs to another coldkey.
    #[error("hotkey is owned by another coldkey")]
    HotkeyOwnedByOther,
    /// The hotkey has never been registered.
    #[error("hotkey is not registered")]
    HotkeyNotFound,
    /// The hotkey already has a UID on this subnet.
    #[error("hotkey is already registered on this subnet")]
    AlreadyRegistered,
    /// The signer hotkey has no UID on this subnet.
    #[error("hotkey is not registered on this subnet")]
    NotRegistered,
    /// Price above `max_price`.
    #[error("registration price {price} exceeds max price")]
    PriceTooHigh {
        /// Current price.
        price: Balance,
    },
    /// Subnet full and no UID can be pruned.
    #[error("subnet is full and no UID can be pruned")]
    NoPrunableUid,
    /// Invalid IP address, type or port.
    #[error("invalid axon address")]
    InvalidAxon,
    /// Loopback or private address not allowed.
    #[error("loopback/private axon addresses are not allowed")]
    PrivateAddress,
    /// Called again before the rate limit passed.
    #[error("rate limited")]
    RateLimited,
    /// `uids` and `values` differ in length, or more uids than UIDs.
    #[error("weights length mismatch")]
    WeightsLengthMismatch,
    /// Stake below the threshold.
    #[error("stake below the weights threshold")]
    StakeBelowThreshold,
    /// Version key below the subnet's.
    #[error("weights version key too old")]
    IncorrectVersionKey,
    /// No validator permit and not a self-weight or the owner.
    #[error("no validator permit")]
    NoValidatorPermit,
    /// Duplicate UIDs.
    #[error("duplicate uids")]
    DuplicateUids,
    /// A UID does not exist.
    #[error("uid does not exist")]
    UidNotFound,
    /// Fewer weights than `min_allowed_weights`.
    #[error("too few weights")]
    TooFewWeights,
    /// A weight above `max_weight_limit`.
    #[error("weight above the max weight limit")]
    MaxWeightExceeded,
    /// `set_weights` while commit-reveal is on.
    #[error("commit-reveal is enabled: commit and reveal instead")]
    CommitRevealEnabled,
    /// commit/reveal while commit-reveal is off.
    #[error("commit-reveal is disabled")]
    CommitRevealDisabled,
    /// 10 pending commits already.
    #[error("too many unrevealed commits")]
    TooManyUnrevealedCommits,
    /// No pending commit matches the reveal.
    #[error("no commit matches this reveal")]
    InvalidReveal,
    /// The matching commit's reveal epoch has not come yet.
    #[error("reveal too early")]
    RevealTooEarly,
    /// The matching commit has expired.
    #[error("commit expired")]
    ExpiredCommit,
    /// The signer does not own this hotkey.
    #[error("signer does not own the hotkey")]
    NotHotkeyOwner,
    /// Take must increase (increase_take) or decrease (decrease_take).
    #[error("invalid take")]
    InvalidTake,
    /// Signer is not the subnet owner.
    #[error("signer is not the subnet owner")]
    NotSubnetOwner,
    /// Signer is not the root key.
    #[error("signer is not the root key")]
    NotRoot,
    /// This hyperparameter is root-only.
    #[error("hyperparameter is root-only")]
    RootOnlyParameter,
    /// Value out of the allowed range.
    #[error("value out of range")]
    OutOfRange,
    /// Liquid alpha must be enabled to set alpha values.
    #[error("liquid alpha is disabled")]
    LiquidAlphaDisabled,
}

/// Why a block (or a transaction offered to a block) is invalid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// A signature does not verify.
    #[error("transaction {index}: bad signature")]
    BadSignature {
        /// Position in the body.
        index: usize,
    },
    /// Nonce differs from the account's.
    #[error("transaction {index}: nonce {got}, expected {expected}")]
    BadNonce {
        /// Position in the body.
        index: usize,
        /// Account nonce.
        expected: u64,
        /// Transaction nonce.
        got: u64,
    },
    /// A paying transaction whose signer cannot pay the fee.
    #[error("transaction {index}: cannot pay the fee")]
    CannotPayFee {
        /// Position in the body.
        index: usize,
    },
    /// A free call that fails its rules.
    #[error("transaction {index}: free call not includable: {error}")]
    FreeCallFailed {
        /// Position in the body.
        index: usize,
        /// Why.
        error: CallError,
    },
    /// Block number is not parent + 1.
    #[error("block number {got}, expected {expected}")]
    BadNumber {
        /// Expected.
        expected: BlockNumber,
        /// Got.
        got: BlockNumber,
    },
    /// Timestamp below the parent's.
    #[error("timestamp {got} below parent's {parent}")]
    BadTimestamp {
        /// Parent's.
        parent: u64,
        /// Got.
        got: u64,
    },
    /// Parent hash mismatch.
    #[error("parent hash mismatch")]
    BadParent,
    /// Transactions root mismatch.
    #[error("transactions root mismatch")]
    BadTxRoot,
    /// State root mismatch.
    #[error("state root mismatch: header {header}, computed {computed}")]
    BadStateRoot {
        /// In the header.
        header: Hash32,
        /// Computed.
        computed: Hash32,
    },
    /// The ledger does not add up (a bug; the block is rejected).
    #[error("ledger invariant violated: {0}")]
    Ledger(String),
    /// The state store failed or holds undecodable data.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// The outcome of one transaction.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
pub struct Receipt {
    /// Transaction hash.
    pub tx_hash: Hash32,
    /// Signer.
    pub signer: AccountId,
    /// Nonce used.
    pub nonce: u64,
    /// Fee burned (0 for free calls).
    pub fee: Balance,
    /// `None` on success, the call's error otherwise (then only the fee and nonce changed).
    pub error: Option<CallError>,
    /// Events of the call.
    pub events: Vec<Event>,
}
