//! The JSON-RPC server: implements [`TensornetApiServer`] over the store snapshots and the
//! pool. Every read opens a snapshot of the last durably stored block. Limits: request bodies
//! up to [`MAX_REQUEST_BYTES`], responses up to [`MAX_RESPONSE_BYTES`], 256 connections.

use crate::pool::Refusal;
use crate::{NodeError, Shared};
use jsonrpsee::core::{async_trait, to_json_raw_value, SubscriptionResult};
use jsonrpsee::server::{PendingSubscriptionSink, Server, ServerConfig, ServerHandle};
use jsonrpsee::types::ErrorObjectOwned;
use std::net::SocketAddr;
use std::sync::Arc;
use tensornet_primitives::{AccountId, Hash32, NetUid};
use tensornet_rpc_api::{
    decode_transaction, AccountView, BlockId, BlockView, BurnCost, ChainInfo, ErrorCode, HeadInfo,
    HotkeyView, Metagraph, NeuronInfo, RpcResult, StakeEntry, SubnetInfo, SubnetParams,
    TensornetApiServer, TxStatus, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES,
};
use tensornet_runtime::state::State;
use tensornet_runtime::{view, Overlay};
use tensornet_storage::Snapshot;
use tokio::sync::broadcast;

/// Starts the server; returns its handle and bound address.
pub async fn serve(
    addr: SocketAddr,
    shared: Arc<Shared>,
) -> Result<(ServerHandle, SocketAddr), NodeError> {
    let rpc_err = |e: std::io::Error| NodeError::Rpc {
        addr,
        reason: e.to_string(),
    };
    let cfg = ServerConfig::builder()
        .max_request_body_size(MAX_REQUEST_BYTES)
        .max_response_body_size(MAX_RESPONSE_BYTES)
        .max_connections(256)
        .max_subscriptions_per_connection(64)
        .build();
    let server = Server::builder()
        .set_config(cfg)
        .build(addr)
        .await
        .map_err(rpc_err)?;
    let bound = server.local_addr().map_err(rpc_err)?;
    let handle = server.start(Api { shared }.into_rpc());
    Ok((handle, bound))
}

struct Api {
    shared: Arc<Shared>,
}

fn internal(e: impl std::fmt::Display) -> ErrorObjectOwned {
    ErrorCode::Internal.error(e.to_string(), None)
}

fn refusal(r: Refusal) -> ErrorObjectOwned {
    r.code.error(r.reason, r.data)
}

fn no_subnet(netuid: NetUid) -> ErrorObjectOwned {
    ErrorCode::SubnetNotFound.error(
        format!("subnet {netuid} does not exist"),
        Some(serde_json::json!({ "netuid": netuid })),
    )
}

impl Api {
    fn snap(&self) -> RpcResult<Snapshot> {
        self.shared.store.snapshot().map_err(internal)
    }

    /// Runs a blocking read on the blocking pool.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Shared, Snapshot) -> RpcResult<T> + Send + 'static,
    ) -> RpcResult<T> {
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || {
            let snap = shared.store.snapshot().map_err(internal)?;
            f(&shared, snap)
        })
        .await
        .map_err(internal)?
    }
}

fn subnet_or_err(snap: &Snapshot, netuid: NetUid) -> RpcResult<SubnetInfo> {
    let st = State::new(Overlay::new(snap));
    let s = st.subnet(netuid);
    if let Some(e) = st.overlay.take_error() {
        return Err(internal(e));
    }
    s.ok_or_else(|| no_subnet(netuid))
}

fn coldkey_stakes(snap: &Snapshot, coldkey: &AccountId) -> RpcResult<Vec<StakeEntry>> {
    Ok(view::coldkey_stakes(snap, coldkey)
        .map_err(internal)?
        .into_iter()
        .map(|(hotkey, amount)| StakeEntry {
            hotkey,
            coldkey: *coldkey,
            amount,
        })
        .collect())
}

async fn forward<T: serde::Serialize + Clone>(
    pending: PendingSubscriptionSink,
    mut rx: broadcast::Receiver<T>,
    keep: impl Fn(&T) -> bool,
) -> SubscriptionResult {
    let sink = pending.accept().await?;
    loop {
        tokio::select! {
            _ = sink.closed() => return Ok(()),
            item = rx.recv() => match item {
                Ok(v) => {
                    if keep(&v) {
                        sink.send(to_json_raw_value(&v)?).await?;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(skipped = n, "slow subscriber skipped notifications");
                }
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            },
        }
    }
}

#[async_trait]
impl TensornetApiServer for Api {
    async fn chain_info(&self) -> RpcResult<ChainInfo> {
        self.read(|shared, snap| {
            let config = view::config(&snap).map_err(internal)?;
            let head = snap.head().clone();
            let tx_count = snap
                .block(head.number)
                .map_err(internal)?
                .map_or(0, |b| b.body.len() as u32);
            Ok(ChainInfo {
                genesis_hash: shared.genesis_hash,
                network_lock_cost: tensornet_runtime::calls::network_lock_cost(
                    &config,
                    head.number + 1,
                ),
                head: HeadInfo::from_header(&head, tx_count),
                config,
                node_version: env!("CARGO_PKG_VERSION").to_string(),
            })
        })
        .await
    }

    async fn chain_head(&self) -> RpcResult<HeadInfo> {
        let snap = self.snap()?;
        let head = snap.head().clone();
        let tx_count = snap
            .block(head.number)
            .map_err(internal)?
            .map_or(0, |b| b.body.len() as u32);
        Ok(HeadInfo::from_header(&head, tx_count))
    }

    async fn chain_block(&self, at: BlockId) -> RpcResult<Option<BlockView>> {
        self.read(move |_, snap| {
            let number = match at {
                BlockId::Number(n) => n,
                BlockId::Hash(h) => match snap.block_number(&h).map_err(internal)? {
                    Some(n) => n,
                    None => return Ok(None),
                },
            };
            let Some(block) = snap.block(number).map_err(internal)? else {
                return Ok(None);
            };
            let out = snap.outcome(number).map_err(internal)?.unwrap_or(
                tensornet_storage::StoredOutcome {
                    receipts: Vec::new(),
                    events: Vec::new(),
                },
            );
            Ok(Some(BlockView {
                hash: block.header.hash(),
                header: block.header,
                transactions: block.body,
                receipts: out.receipts,
                events: out.events,
            }))
        })
        .await
    }

    async fn tx_submit(&self, tx: String) -> RpcResult<Hash32> {
        let tx = decode_transaction(&tx).map_err(|e| e.code().error(e.to_string(), None))?;
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || shared.submit(tx))
            .await
            .map_err(internal)?
            .map_err(refusal)
    }

    async fn tx_status(&self, hash: Hash32) -> RpcResult<TxStatus> {
        let snap = self.snap()?;
        if let Some(loc) = snap.tx_location(&hash).map_err(internal)? {
            let block = snap.block(loc.block).map_err(internal)?;
            let out = snap.outcome(loc.block).map_err(internal)?;
            let receipt = out.and_then(|o| o.receipts.get(loc.index as usize).cloned());
            if let (Some(b), Some(receipt)) = (block, receipt) {
                return Ok(TxStatus::Included {
                    block_number: loc.block,
                    block_hash: b.header.hash(),
                    index: loc.index,
                    receipt,
                });
            }
        }
        let pool = self.shared.pool();
        if let Some(ready) = pool.pending(&hash) {
            return Ok(TxStatus::Pending { ready });
        }
        if let Some(r) = pool.rejected(&hash) {
            return Ok(TxStatus::Rejected {
                code: r.code.code(),
                reason: r.reason.clone(),
            });
        }
        Ok(TxStatus::Unknown)
    }

    async fn state_account(&self, account: AccountId) -> RpcResult<AccountView> {
        self.read(move |shared, snap| {
            let acc = view::account(&snap, &account).map_err(internal)?;
            let stakes = coldkey_stakes(&snap, &account)?;
            let total_stake = stakes.iter().map(|s| s.amount).sum();
            let next_nonce = shared.pool().next_nonce(&account, acc.nonce);
            Ok(AccountView {
                account,
                free: acc.free,
                nonce: acc.nonce,
                next_nonce,
                stakes,
                total_stake,
            })
        })
        .await
    }

    async fn state_hotkey(&self, hotkey: AccountId) -> RpcResult<Option<HotkeyView>> {
        self.read(move |_, snap| {
            let st = State::new(Overlay::new(&snap));
            let Some(info) = st.hotkey(&hotkey) else {
                return Ok(None);
            };
            let stakers = st
                .stakers(&hotkey)
                .into_iter()
                .map(|(coldkey, amount)| StakeEntry {
                    hotkey,
                    coldkey,
                    amount,
                })
                .collect();
            let registrations = st
                .netuids()
                .into_iter()
                .filter_map(|n| st.uid_of(n, &hotkey).map(|u| (n, u)))
                .collect();
            if let Some(e) = st.overlay.take_error() {
                return Err(internal(e));
            }
            Ok(Some(HotkeyView {
                hotkey,
                info,
                stakers,
                registrations,
            }))
        })
        .await
    }

    async fn subnet_list(&self) -> RpcResult<Vec<SubnetInfo>> {
        self.read(|_, snap| view::subnets(&snap).map_err(internal))
            .await
    }

    async fn subnet_info(&self, netuid: NetUid) -> RpcResult<SubnetInfo> {
        self.read(move |_, snap| subnet_or_err(&snap, netuid)).await
    }

    async fn subnet_hyperparameters(&self, netuid: NetUid) -> RpcResult<SubnetParams> {
        self.read(move |_, snap| subnet_or_err(&snap, netuid).map(|s| s.params))
            .await
    }

    async fn subnet_metagraph(
        &self,
        netuid: NetUid,
        with_matrices: Option<bool>,
    ) -> RpcResult<Metagraph> {
        self.read(move |_, snap| {
            view::metagraph(&snap, netuid, with_matrices.unwrap_or(false))
                .map_err(internal)?
                .ok_or_else(|| no_subnet(netuid))
        })
        .await
    }

    async fn subnet_neuron(
        &self,
        netuid: NetUid,
        hotkey: AccountId,
    ) -> RpcResult<Option<NeuronInfo>> {
        self.read(move |_, snap| {
            subnet_or_err(&snap, netuid)?;
            let block = snap.head().number;
            let v = view::neuron(&snap, netuid, &hotkey).map_err(internal)?;
            Ok(v.map(|neuron| NeuronInfo {
                netuid,
                block,
                neuron,
            }))
        })
        .await
    }

    async fn subnet_burn_cost(&self, netuid: Option<NetUid>) -> RpcResult<BurnCost> {
        self.read(move |_, snap| {
            let config = view::config(&snap).map_err(internal)?;
            let registration = match netuid {
                Some(n) => Some(subnet_or_err(&snap, n)?.burn),
                None => None,
            };
            Ok(BurnCost {
                netuid,
                registration,
                network_lock: tensornet_runtime::calls::network_lock_cost(
                    &config,
                    snap.head().number + 1,
                ),
            })
        })
        .await
    }

    async fn subscribe_new_heads(&self, pending: PendingSubscriptionSink) -> SubscriptionResult {
        let rx = self.shared.heads.subscribe();
        forward(pending, rx, |_| true).await
    }

    async fn subscribe_epochs(
        &self,
        pending: PendingSubscriptionSink,
        netuid: NetUid,
    ) -> SubscriptionResult {
        let exists = {
            let snap = self.snap()?;
            let st = State::new(Overlay::new(&snap));
            st.subnet(netuid).is_some()
        };
        if !exists {
            pending.reject(no_subnet(netuid)).await;
            return Ok(());
        }
        let rx = self.shared.epochs.subscribe();
        forward(pending, rx, move |n: &tensornet_rpc_api::EpochNotice| {
            n.netuid == netuid
        })
        .await
    }
}
