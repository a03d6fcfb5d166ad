//! The client against a real in-process node (dev genesis, 100 ms blocks): consecutive
//! nonces, inclusion waits, metagraph sync, fast failure when unreachable, and reconnecting
//! after the node restarts on the same base path and address.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tensornet_client::{Client, ClientError, ClientOptions, MetagraphSync, Reconnect};
use tensornet_keys::Keypair;
use tensornet_node::engine::SingleAuthority;
use tensornet_node::{Node, NodeConfig};
use tensornet_primitives::{AccountId, RAO_PER_TAO};
use tensornet_runtime::{dev_genesis, Call, Event};

const BLOCK: Duration = Duration::from_millis(100);

async fn start(base: &Path, addr: SocketAddr) -> Node {
    let mut cfg = NodeConfig::new(dev_genesis().unwrap()).unwrap();
    cfg.base_path = Some(base.to_path_buf());
    cfg.rpc_addr = addr;
    cfg.block_time = BLOCK;
    Node::start(cfg, Box::new(SingleAuthority::new(BLOCK)))
        .await
        .unwrap()
}

fn url(n: &Node) -> String {
    format!("http://{}", n.rpc_addr())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_node_fails_within_a_second() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let t = Instant::now();
    let e = Client::connect(
        &format!("http://127.0.0.1:{port}"),
        ClientOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, ClientError::Unreachable { .. }), "{e}");
    assert!(t.elapsed() < Duration::from_millis(1500));
    assert!(e.to_string().contains("tensornet node run"));
    let e = Client::connect("127.0.0.1:9944", ClientOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(e, ClientError::InvalidInput(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_wait_sync_and_reconnect_after_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let node = start(tmp.path(), "127.0.0.1:0".parse().unwrap()).await;
    let addr = node.rpc_addr();
    let client = Arc::new(
        Client::connect(
            &url(&node),
            ClientOptions {
                reconnect: Reconnect::For(Duration::from_secs(20)),
                ..ClientOptions::default()
            },
        )
        .await
        .unwrap(),
    );
    let info = client.chain_info().await.unwrap();
    assert_eq!(info.genesis_hash, client.genesis_hash());
    let alice = Keypair::from_uri("//Alice").unwrap();
    let dest = AccountId([42; 32]);

    // Five transfers in a row get consecutive nonces before any is included.
    let mut txs = Vec::new();
    for i in 0..5u64 {
        let tx = client
            .submit(
                &alice,
                Call::Transfer {
                    dest,
                    amount: (i + 1) * RAO_PER_TAO,
                },
            )
            .await
            .unwrap();
        assert_eq!(tx.nonce, i);
        txs.push(tx);
    }
    for tx in &txs {
        let inc = client
            .wait_included(tx, Duration::from_secs(20))
            .await
            .unwrap();
        assert_eq!(inc.receipt.error, None);
        assert_eq!(inc.tx_hash, tx.hash());
        let b = client
            .block(tensornet_client::api::BlockId::Number(inc.block_number))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(b.transactions[inc.index as usize], *tx);
    }
    assert_eq!(client.account(dest).await.unwrap().free, 15 * RAO_PER_TAO);
    assert_eq!(client.account(alice.account_id()).await.unwrap().nonce, 5);

    // A subnet, and its metagraph kept in sync.
    let inc = client
        .submit_and_wait(
            &alice,
            Call::RegisterNetwork {
                hotkey: Keypair::from_uri("//Alice//hot").unwrap().account_id(),
            },
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    let netuid = inc
        .receipt
        .events
        .iter()
        .find_map(|e| match e {
            Event::NetworkRegistered { netuid, .. } => Some(*netuid),
            _ => None,
        })
        .unwrap();
    let mut sync = MetagraphSync::new(netuid, false, Duration::from_secs(3600));
    assert!(sync.refresh(&client).await.unwrap(), "first fetch");
    assert_eq!(sync.get().unwrap().neurons.len(), 1);
    assert!(!sync.refresh(&client).await.unwrap(), "nothing changed yet");
    let e0 = sync.get().unwrap().subnet.epoch_index;
    let t = Instant::now();
    while !sync.refresh(&client).await.unwrap() {
        assert!(t.elapsed() < Duration::from_secs(20), "no epoch");
        tokio::time::sleep(BLOCK).await;
    }
    assert!(sync.get().unwrap().subnet.epoch_index > e0);
    let rx = MetagraphSync::new(netuid, true, Duration::from_secs(1)).spawn(client.clone(), BLOCK);
    let mut rx2 = rx.clone();
    tokio::time::timeout(Duration::from_secs(10), rx2.wait_for(|m| m.is_some()))
        .await
        .unwrap()
        .unwrap();

    // Subscriptions over WebSocket.
    let mut heads = client.subscribe_new_heads().await.unwrap();
    let h1 = heads.next().await.unwrap().unwrap();
    let h2 = heads.next().await.unwrap().unwrap();
    assert_eq!(h2.number, h1.number + 1);
    assert_eq!(h2.parent_hash, h1.hash);
    let mut epochs = client.subscribe_epochs(netuid).await.unwrap();
    let ep = tokio::time::timeout(Duration::from_secs(10), epochs.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(ep.netuid, netuid);
    drop(epochs);

    // Restart on the same base path and address: a waiting client carries on.
    let before = client.head().await.unwrap().number;
    let waiter = {
        let c = client.clone();
        tokio::spawn(async move { c.wait_for_block(before + 10, Duration::from_secs(30)).await })
    };
    node.shutdown().await;
    // The subscription ends with the node.
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(_item) = heads.next().await {}
    })
    .await;
    assert!(ended.is_ok(), "subscription still open after shutdown");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let node = start(tmp.path(), addr).await;
    let head = waiter.await.unwrap().unwrap();
    assert!(head.number >= before + 10);
    // Requests after the restart work on the same client; the chain resumed.
    let tx = client
        .submit(&alice, Call::Transfer { dest, amount: 1 })
        .await
        .unwrap();
    assert_eq!(tx.nonce, 6);
    client
        .wait_included(&tx, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(
        client.account(dest).await.unwrap().free,
        15 * RAO_PER_TAO + 1
    );
    node.shutdown().await;
}
