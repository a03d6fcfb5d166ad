//! [`RpcChain`]: the [`ChainClient`] of the loops over a node's JSON-RPC (client crate). It
//! signs with the neuron's hotkey, and with its coldkey for registration, and waits for each
//! transaction's inclusion; [`to_metagraph`] turns the runtime's metagraph into the loops' view.

use crate::chain::{ChainClient, ChainError, SubnetInfo};
use crate::node::{Metagraph, NeuronView};
use crate::weights::WeightVector;
use std::net::SocketAddr;
use std::time::Duration;
use tensornet_client::{decode_ip, AxonEndpoint, Client, ClientOptions, PreparedCommit, Reconnect};
use tensornet_keys::Keypair;
use tensornet_runtime::Call;

/// How long a daemon waits for one of its transactions to be included.
pub const INCLUSION_TIMEOUT: Duration = Duration::from_secs(30);

/// How long [`RpcChain::connect`] waits for the node to answer.
pub const CONNECT_WAIT: Duration = Duration::from_secs(60);

/// A [`ChainClient`] over RPC for one neuron.
pub struct RpcChain {
    client: Client,
    hotkey: Keypair,
    coldkey: Option<Keypair>,
}

impl RpcChain {
    /// Connects to `url`, waiting up to [`CONNECT_WAIT`] for the node; requests made later
    /// wait for a restarted node instead of failing at once (daemons retry their steps).
    /// `coldkey` pays for registration when the hotkey is not registered.
    pub async fn connect(
        url: &str,
        hotkey: Keypair,
        coldkey: Option<Keypair>,
    ) -> Result<RpcChain, ChainError> {
        let opts = ClientOptions {
            reconnect: Reconnect::For(CONNECT_WAIT),
            ..ClientOptions::default()
        };
        let mut last = None;
        for _ in 0..CONNECT_WAIT.as_secs() {
            match Client::connect(url, opts.clone()).await {
                Ok(client) => {
                    return Ok(RpcChain {
                        client,
                        hotkey,
                        coldkey,
                    })
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        Err(ChainError(match last {
            Some(e) => format!(
                "cannot reach the node at {url}: {e} (start one with `tensornet node run --dev`)"
            ),
            None => format!("cannot reach the node at {url}"),
        }))
    }

    /// The underlying client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn send(&self, signer: &Keypair, call: Call) -> Result<(), ChainError> {
        let inc = self
            .client
            .submit_and_wait(signer, call, INCLUSION_TIMEOUT)
            .await
            .map_err(err)?;
        match inc.receipt.error {
            None => Ok(()),
            Some(e) => Err(err(e)),
        }
    }

    fn prepared(
        &self,
        netuid: u16,
        weights: &WeightVector,
        salt: &[u16],
        version_key: u64,
    ) -> PreparedCommit {
        PreparedCommit::new(
            netuid,
            self.hotkey.account_id(),
            weights.uids.clone(),
            weights.values.clone(),
            salt.to_vec(),
            version_key,
        )
    }
}

/// The loops' view of a runtime metagraph (hotkeys as SS58, axons as socket addresses; an
/// axon whose IP does not decode counts as not served).
pub fn to_metagraph(netuid: u16, mg: &tensornet_runtime::Metagraph) -> Metagraph {
    Metagraph {
        netuid,
        block: mg.block,
        neurons: mg
            .neurons
            .iter()
            .map(|n| NeuronView {
                uid: n.uid,
                hotkey: tensornet_keys::ss58_encode(&n.hotkey),
                stake: n.stake,
                validator_permit: n.validator_permit,
                axon: n
                    .axon
                    .as_ref()
                    .and_then(|a| decode_ip(a.ip, a.ip_type).map(|ip| SocketAddr::new(ip, a.port))),
            })
            .collect(),
    }
}

fn err(e: impl std::fmt::Display) -> ChainError {
    ChainError(e.to_string())
}

impl ChainClient for RpcChain {
    async fn subnet_info(&self, netuid: u16) -> Result<SubnetInfo, ChainError> {
        let head = self.client.head().await.map_err(err)?;
        let s = self.client.subnet(netuid).await.map_err(err)?;
        Ok(SubnetInfo {
            block: head.number,
            epoch_index: s.epoch_index,
            tempo: u64::from(s.params.tempo),
            weights_rate_limit: s.params.weights_rate_limit,
            max_weight_limit: s.params.max_weight_limit,
            min_allowed_weights: s.params.min_allowed_weights,
            commit_reveal: s.params.commit_reveal_enabled,
            reveal_period: s.params.reveal_period,
            weights_version_key: s.params.weights_version_key,
        })
    }

    async fn metagraph(&self, netuid: u16) -> Result<Metagraph, ChainError> {
        let mg = self.client.metagraph(netuid, false).await.map_err(err)?;
        Ok(to_metagraph(netuid, &mg))
    }

    async fn set_weights(
        &self,
        netuid: u16,
        weights: &WeightVector,
        version_key: u64,
    ) -> Result<(), ChainError> {
        let call = Call::SetWeights {
            netuid,
            uids: weights.uids.clone(),
            values: weights.values.clone(),
            version_key,
        };
        self.send(&self.hotkey, call).await
    }

    async fn commit_weights(
        &self,
        netuid: u16,
        weights: &WeightVector,
        salt: &[u16],
        version_key: u64,
    ) -> Result<(), ChainError> {
        let call = self
            .prepared(netuid, weights, salt, version_key)
            .commit_call();
        self.send(&self.hotkey, call).await
    }

    async fn reveal_weights(
        &self,
        netuid: u16,
        weights: &WeightVector,
        salt: &[u16],
        version_key: u64,
    ) -> Result<(), ChainError> {
        let call = self
            .prepared(netuid, weights, salt, version_key)
            .reveal_call();
        self.send(&self.hotkey, call).await
    }

    async fn ensure_registered(&self, netuid: u16, max_price: u64) -> Result<u16, ChainError> {
        let me = self.hotkey.account_id();
        if let Some(n) = self.client.neuron(netuid, me).await.map_err(err)? {
            return Ok(n.neuron.uid);
        }
        let Some(cold) = &self.coldkey else {
            return Err(ChainError(format!(
                "hotkey {} is not registered on subnet {netuid} and the wallet's coldkey could not be opened to pay for it (register with `tensornet subnet register`)",
                self.hotkey.ss58()
            )));
        };
        let call = Call::BurnedRegister {
            netuid,
            hotkey: me,
            max_price: Some(max_price),
        };
        self.send(cold, call).await?;
        match self.client.neuron(netuid, me).await.map_err(err)? {
            Some(n) => Ok(n.neuron.uid),
            None => Err(ChainError(
                "registered, but the neuron is not visible".into(),
            )),
        }
    }

    async fn serve_axon(&self, netuid: u16, addr: SocketAddr) -> Result<(), ChainError> {
        let ep = AxonEndpoint {
            ip: addr.ip(),
            port: addr.port(),
        };
        let call = ep.serve_call(netuid, 4, 0).map_err(err)?;
        self.send(&self.hotkey, call).await
    }
}
