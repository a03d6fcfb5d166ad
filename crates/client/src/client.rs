//! [`Client`]: the typed RPC client over HTTP (jsonrpsee), with signing, nonces, inclusion
//! waits and reconnects.
//!
//! Connections: HTTP requests need no session, so a node that restarts on the same address is
//! simply reached again by the next request. [`Reconnect`] decides what a request does while the
//! node is down: fail at once (one-shot commands, the default) or keep retrying with backoff
//! up to a deadline (daemons: miners and validators).

use crate::error::ClientError;
use crate::nonce::NonceTracker;
use jsonrpsee_http_client::{HttpClient, HttpClientBuilder};
use std::future::Future;
use std::time::{Duration, Instant};
use tensornet_keys::Keypair;
use tensornet_primitives::{AccountId, Hash32, NetUid};
use tensornet_rpc_api::{
    encode_transaction, AccountView, BlockId, BlockView, BurnCost, ChainInfo, EpochNotice,
    ErrorCode, HeadInfo, HotkeyView, Metagraph, NeuronInfo, Receipt, SignedTransaction, SubnetInfo,
    SubnetParams, TensornetApiClient, TxStatus, MAX_RESPONSE_BYTES,
};
use tensornet_runtime::Call;

/// What a request does when the node cannot be reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reconnect {
    /// Fail at once with [`ClientError::Unreachable`].
    Never,
    /// Retry with backoff (100 ms doubling to 2 s) for at most this long.
    For(Duration),
}

/// How to connect.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Limit for the first contact (`chain_info`); one-shot commands use ~1 s.
    pub connect_timeout: Duration,
    /// Limit for each later request.
    pub request_timeout: Duration,
    /// Behaviour while the node is down.
    pub reconnect: Reconnect,
    /// Poll interval while waiting for inclusion.
    pub poll_interval: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(30),
            reconnect: Reconnect::Never,
            poll_interval: Duration::from_millis(100),
        }
    }
}

/// A transaction included in a durably stored block.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Inclusion {
    /// Transaction hash.
    pub tx_hash: Hash32,
    /// Block number.
    pub block_number: u64,
    /// Block hash.
    pub block_hash: Hash32,
    /// Position in the block.
    pub index: u32,
    /// Receipt (its `error` is set when a paying call failed its rules and only paid the fee).
    pub receipt: Receipt,
}

/// The typed client of one node.
#[derive(Debug)]
pub struct Client {
    url: String,
    http: HttpClient,
    genesis_hash: Hash32,
    opts: ClientOptions,
    nonces: NonceTracker,
}

/// Maps a jsonrpsee error: call errors keep their code, transport errors mean unreachable.
fn map_call_err(url: &str, e: jsonrpsee::core::ClientError) -> ClientError {
    use jsonrpsee::core::ClientError as E;
    match e {
        E::Call(obj) => ClientError::Rpc {
            code: obj.code(),
            message: match obj.data() {
                Some(d) => format!("{} ({})", obj.message(), d.get()),
                None => obj.message().to_string(),
            },
        },
        E::Transport(t) => ClientError::Unreachable {
            url: url.to_string(),
            reason: t.to_string(),
        },
        E::RequestTimeout => ClientError::Unreachable {
            url: url.to_string(),
            reason: "request timed out".into(),
        },
        E::RestartNeeded(r) => ClientError::Unreachable {
            url: url.to_string(),
            reason: r.to_string(),
        },
        other => ClientError::Protocol(other.to_string()),
    }
}

fn build_http(url: &str, timeout: Duration) -> Result<HttpClient, ClientError> {
    HttpClientBuilder::default()
        .request_timeout(timeout)
        .max_response_size(MAX_RESPONSE_BYTES)
        .build(url)
        .map_err(|e| ClientError::InvalidInput(format!("invalid RPC URL {url:?}: {e}")))
}

impl Client {
    /// Connects to the node at `url` (`http://HOST:PORT`) and learns its genesis hash. Fails
    /// within `opts.connect_timeout` (plus retries under [`Reconnect::For`]) when unreachable.
    pub async fn connect(url: &str, opts: ClientOptions) -> Result<Client, ClientError> {
        let url = url.trim().to_string();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(ClientError::InvalidInput(format!(
                "invalid RPC URL {url:?}: expected http://HOST:PORT"
            )));
        }
        let first = build_http(&url, opts.connect_timeout)?;
        let deadline = match opts.reconnect {
            Reconnect::Never => None,
            Reconnect::For(d) => Some(Instant::now() + d),
        };
        let mut backoff = Duration::from_millis(100);
        let info = loop {
            match first.chain_info().await {
                Ok(i) => break i,
                Err(e) => {
                    let err = map_call_err(&url, e);
                    match (&err, deadline) {
                        (ClientError::Unreachable { .. }, Some(d)) if Instant::now() < d => {
                            tokio::time::sleep(backoff).await;
                            backoff = (backoff * 2).min(Duration::from_secs(2));
                        }
                        _ => return Err(err),
                    }
                }
            }
        };
        let http = build_http(&url, opts.request_timeout)?;
        Ok(Client {
            url,
            http,
            genesis_hash: info.genesis_hash,
            opts,
            nonces: NonceTracker::new(),
        })
    }

    /// The RPC URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The chain id transactions are signed for.
    pub fn genesis_hash(&self) -> Hash32 {
        self.genesis_hash
    }

    /// Runs one request, retrying transport failures as [`Reconnect`] allows.
    async fn call<T, F, Fut>(&self, f: F) -> Result<T, ClientError>
    where
        F: Fn(HttpClient) -> Fut,
        Fut: Future<Output = Result<T, jsonrpsee::core::ClientError>>,
    {
        let deadline = match self.opts.reconnect {
            Reconnect::Never => None,
            Reconnect::For(d) => Some(Instant::now() + d),
        };
        let mut backoff = Duration::from_millis(100);
        loop {
            match f(self.http.clone()).await {
                Ok(v) => return Ok(v),
                Err(e) => {
                    let err = map_call_err(&self.url, e);
                    match (&err, deadline) {
                        (ClientError::Unreachable { .. }, Some(d)) if Instant::now() < d => {
                            tracing::debug!(url = %self.url, error = %err, "node unreachable, retrying");
                            tokio::time::sleep(backoff).await;
                            backoff = (backoff * 2).min(Duration::from_secs(2));
                        }
                        _ => return Err(err),
                    }
                }
            }
        }
    }

    /// Genesis hash, head, configuration, lock cost and node version.
    pub async fn chain_info(&self) -> Result<ChainInfo, ClientError> {
        self.call(|c| async move { c.chain_info().await }).await
    }

    /// The latest durably stored block.
    pub async fn head(&self) -> Result<HeadInfo, ClientError> {
        self.call(|c| async move { c.chain_head().await }).await
    }

    /// A block by number or hash.
    pub async fn block(&self, at: BlockId) -> Result<Option<BlockView>, ClientError> {
        self.call(|c| async move { c.chain_block(at).await }).await
    }

    /// An account: free balance, nonces, stakes.
    pub async fn account(&self, account: AccountId) -> Result<AccountView, ClientError> {
        self.call(|c| async move { c.state_account(account).await })
            .await
    }

    /// A hotkey's record and registrations (`None` if never registered).
    pub async fn hotkey(&self, hotkey: AccountId) -> Result<Option<HotkeyView>, ClientError> {
        self.call(|c| async move { c.state_hotkey(hotkey).await })
            .await
    }

    /// Every subnet.
    pub async fn subnets(&self) -> Result<Vec<SubnetInfo>, ClientError> {
        self.call(|c| async move { c.subnet_list().await }).await
    }

    /// One subnet.
    pub async fn subnet(&self, netuid: NetUid) -> Result<SubnetInfo, ClientError> {
        self.call(|c| async move { c.subnet_info(netuid).await })
            .await
    }

    /// One subnet's hyperparameters.
    pub async fn hyperparameters(&self, netuid: NetUid) -> Result<SubnetParams, ClientError> {
        self.call(|c| async move { c.subnet_hyperparameters(netuid).await })
            .await
    }

    /// A subnet's full metagraph in one call (with weight and bond rows if asked).
    pub async fn metagraph(
        &self,
        netuid: NetUid,
        with_matrices: bool,
    ) -> Result<Metagraph, ClientError> {
        self.call(|c| async move { c.subnet_metagraph(netuid, Some(with_matrices)).await })
            .await
    }

    /// The neuron of `hotkey` on a subnet.
    pub async fn neuron(
        &self,
        netuid: NetUid,
        hotkey: AccountId,
    ) -> Result<Option<NeuronInfo>, ClientError> {
        self.call(|c| async move { c.subnet_neuron(netuid, hotkey).await })
            .await
    }

    /// Registration price on `netuid` (if given) and the network lock cost.
    pub async fn burn_cost(&self, netuid: Option<NetUid>) -> Result<BurnCost, ClientError> {
        self.call(|c| async move { c.subnet_burn_cost(netuid).await })
            .await
    }

    /// A transaction's status.
    pub async fn tx_status(&self, hash: Hash32) -> Result<TxStatus, ClientError> {
        self.call(|c| async move { c.tx_status(hash).await }).await
    }

    /// Submits an already signed transaction; returns its hash.
    pub async fn submit_signed(&self, tx: &SignedTransaction) -> Result<Hash32, ClientError> {
        let hex = encode_transaction(tx);
        self.call(|c| {
            let hex = hex.clone();
            async move { c.tx_submit(hex).await }
        })
        .await
    }

    /// Signs `call` with the next nonce of `signer` and submits it. A nonce the node calls
    /// stale or conflicting is re-read from the node and the call signed once more.
    pub async fn submit(
        &self,
        signer: &Keypair,
        call: Call,
    ) -> Result<SignedTransaction, ClientError> {
        let who = signer.account_id();
        let mut attempt = 0;
        loop {
            let chain_next = self.account(who).await?.next_nonce;
            let nonce = self.nonces.next(&who, chain_next);
            let tx = SignedTransaction::sign(signer, &self.genesis_hash, nonce, call.clone());
            match self.submit_signed(&tx).await {
                Ok(_) => return Ok(tx),
                Err(ClientError::Rpc { code, message }) => {
                    self.nonces.forget(&who);
                    let retry = code == ErrorCode::StaleNonce.code()
                        || code == ErrorCode::NonceConflict.code();
                    if retry && attempt == 0 {
                        attempt += 1;
                        continue;
                    }
                    return Err(ClientError::Rpc { code, message });
                }
                Err(e) => {
                    self.nonces.forget(&who);
                    return Err(e);
                }
            }
        }
    }

    /// Waits until `tx` is in a durably stored block, at most `timeout`. While the node does
    /// not know the transaction (it restarted and lost its pool) the transaction is submitted
    /// again; while the node is down the wait continues.
    pub async fn wait_included(
        &self,
        tx: &SignedTransaction,
        timeout: Duration,
    ) -> Result<Inclusion, ClientError> {
        let hash = tx.hash();
        let start = Instant::now();
        let mut last_resubmit: Option<Instant> = None;
        loop {
            match self.http.tx_status(hash).await {
                Ok(TxStatus::Included {
                    block_number,
                    block_hash,
                    index,
                    receipt,
                }) => {
                    return Ok(Inclusion {
                        tx_hash: hash,
                        block_number,
                        block_hash,
                        index,
                        receipt,
                    })
                }
                Ok(TxStatus::Rejected { code, reason }) => {
                    self.nonces.forget(&tx.signer);
                    return Err(ClientError::Rejected {
                        hash,
                        reason: format!("{reason} (code {code})"),
                    });
                }
                Ok(TxStatus::Unknown) => {
                    if last_resubmit.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                        last_resubmit = Some(Instant::now());
                        // Duplicates and stale nonces are expected here: ignore them.
                        if let Err(e) = self.http.tx_submit(encode_transaction(tx)).await {
                            tracing::debug!(%hash, error = %e, "resubmission refused");
                        }
                    }
                }
                Ok(TxStatus::Pending { .. }) => {}
                Err(e) => {
                    let err = map_call_err(&self.url, e);
                    if !matches!(err, ClientError::Unreachable { .. }) {
                        return Err(err);
                    }
                    tracing::debug!(%hash, error = %err, "node unreachable while waiting");
                }
            }
            if start.elapsed() >= timeout {
                return Err(ClientError::Timeout {
                    hash,
                    secs: timeout.as_secs(),
                });
            }
            tokio::time::sleep(self.opts.poll_interval).await;
        }
    }

    /// [`Client::submit`] then [`Client::wait_included`].
    pub async fn submit_and_wait(
        &self,
        signer: &Keypair,
        call: Call,
        timeout: Duration,
    ) -> Result<Inclusion, ClientError> {
        let tx = self.submit(signer, call).await?;
        self.wait_included(&tx, timeout).await
    }

    /// Waits until the head reaches `number` (polling), at most `timeout`.
    pub async fn wait_for_block(
        &self,
        number: u64,
        timeout: Duration,
    ) -> Result<HeadInfo, ClientError> {
        let start = Instant::now();
        loop {
            match self.http.chain_head().await {
                Ok(h) if h.number >= number => return Ok(h),
                Ok(_) => {}
                Err(e) => {
                    let err = map_call_err(&self.url, e);
                    if !matches!(err, ClientError::Unreachable { .. }) {
                        return Err(err);
                    }
                }
            }
            if start.elapsed() >= timeout {
                return Err(ClientError::Protocol(format!(
                    "block {number} not reached within {} s",
                    timeout.as_secs()
                )));
            }
            tokio::time::sleep(self.opts.poll_interval).await;
        }
    }
}

/// The WebSocket URL of the same node (`http` → `ws`, `https` → `wss`; same host and port:
/// the node serves HTTP and WebSocket on one address).
pub fn ws_url(http_url: &str) -> String {
    if let Some(rest) = http_url.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = http_url.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        http_url.to_string()
    }
}

/// Subscriptions (over a WebSocket connection opened per call). A subscription ends when the
/// node stops; open a new one after a restart (daemons loop on `next()` returning `None`).
impl Client {
    async fn ws(&self) -> Result<jsonrpsee_ws_client::WsClient, ClientError> {
        let url = ws_url(&self.url);
        jsonrpsee_ws_client::WsClientBuilder::default()
            .connection_timeout(self.opts.connect_timeout)
            .request_timeout(self.opts.request_timeout)
            .max_response_size(MAX_RESPONSE_BYTES)
            .build(&url)
            .await
            .map_err(|e| map_call_err(&url, e))
    }

    /// A [`HeadInfo`] per durably stored block, from now on.
    pub async fn subscribe_new_heads(&self) -> Result<Subscription<HeadInfo>, ClientError> {
        let ws = self.ws().await?;
        let sub = ws
            .subscribe_new_heads()
            .await
            .map_err(|e| map_call_err(&self.url, e))?;
        Ok(Subscription { _ws: ws, sub })
    }

    /// An [`EpochNotice`] per epoch of `netuid`, from now on.
    pub async fn subscribe_epochs(
        &self,
        netuid: NetUid,
    ) -> Result<Subscription<EpochNotice>, ClientError> {
        let ws = self.ws().await?;
        let sub = ws
            .subscribe_epochs(netuid)
            .await
            .map_err(|e| map_call_err(&self.url, e))?;
        Ok(Subscription { _ws: ws, sub })
    }
}

/// A live subscription (keeps its WebSocket connection open).
pub struct Subscription<T> {
    _ws: jsonrpsee_ws_client::WsClient,
    sub: jsonrpsee::core::client::Subscription<T>,
}

impl<T: serde::de::DeserializeOwned> Subscription<T> {
    /// The next item; `None` when the subscription or the connection ended.
    pub async fn next(&mut self) -> Option<Result<T, ClientError>> {
        self.sub
            .next()
            .await
            .map(|r| r.map_err(|e| ClientError::Protocol(e.to_string())))
    }
}

impl<T> std::fmt::Debug for Subscription<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Subscription")
    }
}
