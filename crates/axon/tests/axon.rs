//! Axon/dendrite integration tests: conformance replay of the captured Python exchange,
//! rejections, live dendrite ↔ axon over 127.0.0.1, concurrency and a short load test.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tensornet_axon::dendrite::{signed_request, RequestStamp};
use tensornet_axon::synapse::body_hash;
use tensornet_axon::verify::request_message;
use tensornet_axon::*;
use tensornet_keys::{ss58_decode, verify, Keypair, Signature};

fn vectors(rel: &str) -> Value {
    let path = format!("{}/../../tests/vectors/{rel}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("vector JSON")
}

fn key(role: &str) -> Keypair {
    let keys = vectors("keys/keys.json");
    let k = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["role"] == role)
        .unwrap();
    Keypair::from_mnemonic(k["mnemonic"].as_str().unwrap()).unwrap()
}

fn peer() -> SocketAddr {
    "127.0.0.2:40000".parse().unwrap()
}

async fn body_json(resp: axum::response::Response) -> (StatusCode, HeaderMap, Value) {
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, headers, v)
}

fn captured_request() -> (HeaderMap, String, Value) {
    let ex = vectors("axon/axon-exchange.json");
    let mut map = HeaderMap::new();
    for pair in ex["request"]["headers"].as_array().unwrap() {
        let n =
            HeaderName::from_bytes(pair[0].as_str().unwrap().to_lowercase().as_bytes()).unwrap();
        map.append(n, HeaderValue::from_str(pair[1].as_str().unwrap()).unwrap());
    }
    let body = ex["request"]["body"].as_str().unwrap().to_string();
    (map, body, ex)
}

#[tokio::test]
async fn captured_exchange_replays_once() {
    let (headers, body, ex) = captured_request();
    let axon_key = key("axon");
    assert_eq!(
        axon_key.ss58(),
        "5FZFbVHsqXdzitno1eF1gBjYesXckiGewQ3qURrSuVbMisnh"
    );
    let parsed = headers::RequestHeaders::parse(&headers).unwrap();
    let nonce = parsed.dendrite.nonce.unwrap();

    // The signed message and body hash rebuilt from the captured headers and body match.
    let b: Value = serde_json::from_str(&body).unwrap();
    let echo: Echo =
        serde_json::from_value(serde_json::json!({"text": b["text"], "response": b["response"]}))
            .unwrap();
    assert_eq!(
        echo.body_hash().unwrap(),
        ex["computed_body_hash"].as_str().unwrap()
    );
    let msg = request_message(
        nonce,
        parsed.dendrite.hotkey.as_deref().unwrap(),
        &axon_key.ss58(),
        parsed.dendrite.uuid.as_deref().unwrap(),
        parsed.computed_body_hash.as_deref().unwrap(),
    );
    assert_eq!(msg, ex["signed_message"].as_str().unwrap());
    let sig = Signature::from_hex(ex["signature"].as_str().unwrap()).unwrap();
    let signer = ss58_decode(ex["signer_ss58"].as_str().unwrap()).unwrap();
    assert!(verify(&signer, msg.as_bytes(), &sig));

    // Accepted by the Rust axon at the capture time with a fresh store ...
    let clock = Arc::new(ManualClock::new(nonce + 3_000_000));
    let axon = Axon::builder(axon_key.ss58())
        .clock(clock.clone())
        .attach(|c: Caller, mut e: Echo| async move {
            // The handler sees the verified caller.
            assert_eq!(
                c.verified.hotkey,
                "5EJG5GdsyHTbgKENr89V4XYjx6RrH6wh8CyALxmL98RmQVsY"
            );
            e.response = Some(e.text.clone());
            Ok(e)
        })
        .build();
    let resp = axon
        .process("/Echo", &headers, Body::from(body.clone()), peer())
        .await;
    let (status, h, v) = body_json(resp).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["response"], "hello bittensor");
    assert_eq!(v["axon"]["status_code"], 200);
    assert_eq!(h["bt_header_axon_status_code"], "200");
    assert_eq!(h["bt_header_axon_status_message"], "Success");
    assert_eq!(
        h["computed_body_hash"],
        ex["computed_body_hash"].as_str().unwrap()
    );
    assert_eq!(h["content-type"], "application/json");

    // Same protocol headers, in the same order, as the Python axon's captured answer.
    let skip = ["date", "server", "content-length", "content-type"];
    let ours: Vec<&str> = h
        .keys()
        .map(|k| k.as_str())
        .filter(|k| !skip.contains(k))
        .collect();
    let theirs: Vec<&str> = ex["response"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_str().unwrap())
        .filter(|k| !skip.contains(k))
        .collect();
    assert_eq!(ours, theirs);
    // The captured Python answer parses as our Echo envelope.
    let theirs: Envelope<Echo> =
        serde_json::from_str(ex["response"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(theirs.body.response.as_deref(), Some("hello bittensor"));
    assert_eq!(theirs.axon.status_code, Some(200));

    // ... and rejected on a second replay.
    let resp = axon
        .process("/Echo", &headers, Body::from(body.clone()), peer())
        .await;
    let (status, h, v) = body_json(resp).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        v["message"],
        "Not Verified with error: Nonce is too old, a newer one was last processed"
    );
    assert_eq!(h["bt_header_axon_status_code"], "401");

    // A fresh axon 17 s later rejects it as stale (window 4 s + 12 s).
    clock.set(nonce + 17_000_000_000);
    let fresh = Axon::builder(axon_key.ss58())
        .clock(clock.clone())
        .attach(|_c: Caller, e: Echo| async move { Ok(e) })
        .build();
    let resp = fresh
        .process("/Echo", &headers, Body::from(body), peer())
        .await;
    let (status, _, v) = body_json(resp).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("acceptable delta is 16.00 seconds"),
        "{v}"
    );
}

struct Rig {
    axon: Arc<Axon>,
    clock: Arc<ManualClock>,
    dendrite: Keypair,
    target: AxonTarget,
    now: u64,
}

fn rig(config: AxonConfig) -> Rig {
    let axon_key = key("axon");
    let now = 1_795_685_747_000_000_000u64;
    let clock = Arc::new(ManualClock::new(now));
    let axon = Axon::builder(axon_key.ss58())
        .config(config)
        .clock(clock.clone())
        .blacklist(|info: &RequestInfo<'_>| {
            (info.headers.dendrite.hotkey.as_deref()
                == Some(&key("fixed (coldkey of the encrypted keyfile)").ss58()))
            .then(|| "Unrecognized hotkey".to_string())
        })
        .attach(|_c: Caller, mut e: Echo| async move {
            if e.text == "sleep" {
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
            if e.text == "fail" {
                return Err(HandlerError("boom".into()));
            }
            e.response = Some(e.text.clone());
            Ok(e)
        })
        .build();
    Rig {
        axon,
        clock,
        dendrite: key("dendrite"),
        target: AxonTarget::new("127.0.0.1:8091".parse().unwrap(), axon_key.ss58()),
        now,
    }
}

impl Rig {
    fn request(
        &self,
        kp: &Keypair,
        text: &str,
        nonce: u64,
        uuid: &str,
        timeout: f64,
    ) -> (HeaderMap, Vec<u8>) {
        let echo = Echo {
            text: text.into(),
            response: None,
        };
        let (mut h, b) = signed_request(
            kp,
            &self.target,
            &echo,
            &RequestStamp {
                timeout,
                nonce,
                uuid,
                external_ip: "127.0.0.2",
            },
        )
        .unwrap();
        h.insert("content-type", HeaderValue::from_static("application/json"));
        (h, b)
    }

    async fn send(&self, path: &str, h: &HeaderMap, b: Vec<u8>) -> (StatusCode, String) {
        let resp = self.axon.process(path, h, Body::from(b), peer()).await;
        let (s, _, v) = body_json(resp).await;
        (s, v["message"].as_str().unwrap_or("").to_string())
    }
}

#[tokio::test]
async fn rejections() {
    let r = rig(AxonConfig {
        max_body_bytes: 4096,
        ..AxonConfig::default()
    });
    let d = r.dendrite.clone();

    let (h, b) = r.request(&d, "hi", r.now, "u1", 12.0);
    assert_eq!(r.send("/Echo", &h, b.clone()).await.0, StatusCode::OK);
    // Replay.
    let (s, m) = r.send("/Echo", &h, b).await;
    assert_eq!(
        (s, m.contains("a newer one was last processed")),
        (StatusCode::UNAUTHORIZED, true)
    );

    // Stale nonce: 17 s old with timeout 12.
    let (h, b) = r.request(&d, "hi", r.now - 17_000_000_000, "u2", 12.0);
    let (s, m) = r.send("/Echo", &h, b).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(
        m.contains(
            "Nonce is too old: acceptable delta is 16.00 seconds but request was 17.00 seconds old"
        ),
        "{m}"
    );

    // Too far in the future (default bound 60 s).
    let (h, b) = r.request(&d, "hi", r.now + 61_000_000_000, "u3", 12.0);
    let (s, m) = r.send("/Echo", &h, b).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(m.contains("too far in the future"), "{m}");
    let (h, b) = r.request(&d, "hi", r.now + 59_000_000_000, "u3", 12.0);
    assert_eq!(r.send("/Echo", &h, b).await.0, StatusCode::OK);

    // Signed for another axon hotkey.
    let other = AxonTarget {
        hotkey: d.ss58(),
        ..r.target.clone()
    };
    let (mut h, b) = signed_request(
        &d,
        &other,
        &Echo {
            text: "x".into(),
            response: None,
        },
        &RequestStamp {
            timeout: 12.0,
            nonce: r.now,
            uuid: "u4",
            external_ip: "127.0.0.2",
        },
    )
    .unwrap();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    let (s, m) = r.send("/Echo", &h, b).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(
        m.starts_with("Not Verified with error: Signature mismatch with"),
        "{m}"
    );

    // Missing signature.
    let (mut h, b) = r.request(&d, "hi", r.now, "u5", 12.0);
    h.remove("bt_header_dendrite_signature");
    let (s, m) = r.send("/Echo", &h, b).await;
    assert_eq!(
        (s, m.as_str()),
        (
            StatusCode::UNAUTHORIZED,
            "Not Verified with error: Missing Signature"
        )
    );

    // Missing nonce.
    let (mut h, b) = r.request(&d, "hi", r.now, "u5", 12.0);
    h.remove("bt_header_dendrite_nonce");
    let (s, m) = r.send("/Echo", &h, b).await;
    assert_eq!(
        (s, m.as_str()),
        (
            StatusCode::UNAUTHORIZED,
            "Not Verified with error: Missing Nonce"
        )
    );

    // Caller hotkey that is not an SS58 address.
    let (mut h, b) = r.request(&d, "hi", r.now, "u5", 12.0);
    h.insert(
        "bt_header_dendrite_hotkey",
        HeaderValue::from_static("5notanaddress"),
    );
    let (s, m) = r.send("/Echo", &h, b).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(
        m.starts_with("Not Verified with error: Invalid SS58 address"),
        "{m}"
    );

    // Blacklisted hotkey (decided before the body is read or the signature checked).
    let fixed = key("fixed (coldkey of the encrypted keyfile)");
    let (h, b) = r.request(&fixed, "hi", r.now, "u6", 12.0);
    let (s, m) = r.send("/Echo", &h, b).await;
    assert_eq!(
        (s, m.as_str()),
        (
            StatusCode::FORBIDDEN,
            "Forbidden. Key is blacklisted: Unrecognized hotkey."
        )
    );

    // Unknown synapse.
    let (h, b) = r.request(&d, "hi", r.now, "u7", 12.0);
    let (s, m) = r.send("/Nope", &h, b).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(
        m,
        "Synapse name 'Nope' not found. Available synapses ['Echo', 'Synapse']"
    );

    // Tampered body: hash fields changed but header hash (and signature) kept → 400.
    let (h, b) = r.request(&d, "hi", r.now + 1, "u7", 12.0);
    let tampered = String::from_utf8(b)
        .unwrap()
        .replace("\"text\":\"hi\"", "\"text\":\"ho\"");
    let (s, m) = r.send("/Echo", &h, tampered.into_bytes()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(m.starts_with("Body hash mismatch"), "{m}");

    // Oversized body (limit 4096 here): by Content-Length and by streamed size.
    let big = "x".repeat(5000);
    let (mut h, b) = r.request(&d, &big, r.now + 2, "u7", 12.0);
    assert_eq!(
        r.send("/Echo", &h, b.clone()).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    h.insert(
        "content-length",
        HeaderValue::from_str(&b.len().to_string()).unwrap(),
    );
    assert_eq!(
        r.send("/Echo", &h, b).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );

    // Unparseable headers.
    let (mut h, b) = r.request(&d, "hi", r.now + 3, "u7", 12.0);
    h.insert(
        "bt_header_dendrite_nonce",
        HeaderValue::from_static("not-a-number"),
    );
    let (s, m) = r.send("/Echo", &h, b).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(m.contains("bt_header_dendrite_nonce"), "{m}");

    // Body that is not the synapse → 422.
    let (h, _) = r.request(&d, "hi", r.now + 4, "u7", 12.0);
    assert_eq!(
        r.send("/Echo", &h, b"{\"nope\":1}".to_vec()).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Handler error → 500 with an opaque id.
    let (h, b) = r.request(&d, "fail", r.now + 5, "u7", 12.0);
    let (s, m) = r.send("/Echo", &h, b).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(m.starts_with("Internal Server Error #"), "{m}");

    // The server enforces the request's timeout (1 s here; the handler sleeps 3 s).
    let (h, b) = r.request(&d, "sleep", r.now + 6, "u7", 1.0);
    let t = Instant::now();
    let (s, m) = r.send("/Echo", &h, b).await;
    assert_eq!(s, StatusCode::REQUEST_TIMEOUT, "{m}");
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn nonce_store_forgets_old_keys() {
    let r = rig(AxonConfig::default());
    for i in 0..50u64 {
        let (h, b) = r.request(&r.dendrite, "hi", r.now + i, &format!("uuid-{i}"), 12.0);
        assert_eq!(r.send("/Echo", &h, b).await.0, StatusCode::OK);
    }
    assert_eq!(r.axon.verifier().store().len(), 50);
    // 4 s + the 60 s timeout cap later, everything has expired and is pruned by the next request.
    r.clock.advance(Duration::from_secs(65));
    let now = r.now + 65_000_000_000;
    let (h, b) = r.request(&r.dendrite, "hi", now, "late", 12.0);
    assert_eq!(r.send("/Echo", &h, b).await.0, StatusCode::OK);
    assert_eq!(r.axon.verifier().store().len(), 1);
}

#[test]
fn body_hash_matches_python_table() {
    let v = serde_json::json!({"words": ["hello", "world"]});
    assert_eq!(
        body_hash(&v, &["words"]).unwrap(),
        "9719d0fc0c0f3471e4e6f6ca3ef237d9865345befd206d24dca0d6e0457502af"
    );
}

async fn live_echo() -> (RunningAxon, String) {
    let axon_key = key("axon");
    let axon = echo_axon(axon_key.ss58(), AxonConfig::default());
    let running = axon.spawn("127.0.0.1:0".parse().unwrap()).await.unwrap();
    (running, axon_key.ss58())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_dendrite_to_axon() {
    let (running, hk) = live_echo().await;
    let target = AxonTarget::new(running.addr, hk.clone());
    let d = Dendrite::new(key("dendrite")).unwrap();
    let t = Duration::from_secs(5);

    let a = d
        .call(
            &target,
            &Echo {
                text: "hello".into(),
                response: None,
            },
            t,
        )
        .await;
    assert!(a.is_success(), "{a:?}");
    assert_eq!(a.synapse.unwrap().response.as_deref(), Some("hello"));
    assert!(a.axon_process_time.is_some());

    let pixels: Vec<f64> = (0..64).map(|j| j as f64 / 64.0).collect();
    let a = d
        .call(
            &target,
            &Classify {
                pixels: pixels.clone(),
                logits: None,
            },
            t,
        )
        .await;
    assert!(a.is_success(), "{a:?}");
    assert_eq!(a.synapse.unwrap().logits.unwrap(), classify_logits(&pixels));

    // 64 concurrent calls from one dendrite to one axon: none fails the nonce check.
    let echo = Echo {
        text: "burst".into(),
        response: None,
    };
    let calls = (0..64).map(|_| d.call(&target, &echo, t));
    let answers = futures_util::future::join_all(calls).await;
    assert!(
        answers.iter().all(|a| a.is_success()),
        "{:?}",
        answers.iter().find(|a| !a.is_success())
    );
    assert!(d.lanes() <= 64);

    // Fan-out to several axons.
    let mut targets = vec![target.clone()];
    let mut others = Vec::new();
    for _ in 0..3 {
        let (r, hk) = live_echo().await;
        targets.push(AxonTarget::new(r.addr, hk));
        others.push(r);
    }
    let answers = d.query(&targets, &echo, t).await;
    assert_eq!(answers.len(), 4);
    assert!(answers.iter().all(|a| a.is_success()));

    // GET is served like POST (as the reference does).
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let (h, b) = signed_request(
        &key("dendrite"),
        &target,
        &echo,
        &RequestStamp {
            timeout: 5.0,
            nonce: now,
            uuid: "get",
            external_ip: "127.0.0.1",
        },
    )
    .unwrap();
    let resp = reqwest::Client::new()
        .get(format!("http://{}/Echo", running.addr))
        .headers(h)
        .body(b)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["bt_header_axon_status_code"], "200");

    // Wrong axon hotkey → 401 from the axon.
    let wrong = AxonTarget {
        hotkey: d.hotkey().to_string(),
        ..target.clone()
    };
    let a = d.call(&wrong, &echo, t).await;
    assert_eq!(a.status_code, 401, "{a:?}");
    assert!(a.status_message.contains("Signature mismatch"));

    // Unreachable → local 503.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = listener.local_addr().unwrap();
    drop(listener);
    let a = d.call(&AxonTarget::new(dead, hk.clone()), &echo, t).await;
    assert_eq!(a.status_code, 503, "{a:?}");

    // Timeout → local 408: a socket that accepts and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let a = d
        .call(
            &AxonTarget::new(silent_addr, hk),
            &echo,
            Duration::from_millis(300),
        )
        .await;
    assert_eq!(a.status_code, 408, "{a:?}");
    hold.abort();
    running.task.abort();
    for r in others {
        r.task.abort();
    }
}

/// Runs `callers` concurrent loops against one axon for `dur`; returns (ok, failed).
async fn load(d: &Arc<Dendrite>, target: &AxonTarget, callers: usize, dur: Duration) -> (u64, u64) {
    let deadline = Instant::now() + dur;
    let mut tasks = Vec::new();
    for _ in 0..callers {
        let d = d.clone();
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut bad) = (0u64, 0u64);
            let echo = Echo {
                text: "load".into(),
                response: None,
            };
            while Instant::now() < deadline {
                let a = d.call(&target, &echo, Duration::from_secs(5)).await;
                if a.is_success() {
                    ok += 1
                } else {
                    bad += 1
                }
            }
            (ok, bad)
        }));
    }
    let mut total = (0, 0);
    for t in tasks {
        let (o, b) = t.await.unwrap();
        total.0 += o;
        total.1 += b;
    }
    total
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

async fn load_rounds(round: Duration, rounds: usize) {
    let axon_key = key("axon");
    let axon = echo_axon(axon_key.ss58(), AxonConfig::default());
    let running = axon
        .clone()
        .spawn("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let target = AxonTarget::new(running.addr, axon_key.ss58());
    let d = Arc::new(Dendrite::new(key("dendrite")).unwrap());
    let mut rss = Vec::new();
    for _ in 0..rounds {
        let (ok, bad) = load(&d, &target, 64, round).await;
        assert_eq!(bad, 0, "failures under load");
        assert!(ok > 0);
        eprintln!(
            "round: {ok} calls in {round:?} ({:.0}/s), rss {} KiB",
            ok as f64 / round.as_secs_f64(),
            rss_kib()
        );
        rss.push(rss_kib());
        // Bounded state: lanes ≤ callers, nonce keys ≤ lanes, nothing queued or running.
        assert!(d.lanes() <= 64);
        assert!(axon.verifier().store().len() <= 64);
        assert_eq!(axon.gate().waiting(), 0);
    }
    // No growth after the first round (allocator noise allowed).
    let first = rss[0];
    let last = *rss.last().unwrap();
    assert!(
        last <= first + first / 4 + 8 * 1024,
        "RSS grew from {first} to {last} KiB"
    );
    running.task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_64_callers_short() {
    load_rounds(Duration::from_millis(1000), 2).await;
}

/// The full load test of the issue: 64 callers for 10 s (run with `--ignored`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn load_64_callers_10s() {
    load_rounds(Duration::from_secs(10), 3).await;
}

/// The Python dendrite shares one uuid across everything in flight, so its requests can overtake
/// each other; the reorder window accepts them, exactly once each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_uuid_burst_out_of_order() {
    let (running, hk) = live_echo().await;
    let target = AxonTarget::new(running.addr, hk);
    let kp = key("dendrite");
    let base = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let url = format!("http://{}/Echo", running.addr);
    let mut reqs = Vec::new();
    for i in 0..64u64 {
        let echo = Echo {
            text: format!("m{i}"),
            response: None,
        };
        let stamp = RequestStamp {
            timeout: 12.0,
            nonce: base + i * 1000,
            uuid: "shared",
            external_ip: "127.0.0.2",
        };
        reqs.push(signed_request(&kp, &target, &echo, &stamp).unwrap());
    }
    reqs.reverse(); // newest first: every later one is "overtaken"
    let send = |h: HeaderMap, b: Vec<u8>| {
        let c = client.clone();
        let url = url.clone();
        async move {
            c.post(&url)
                .headers(h)
                .header("content-type", "application/json")
                .body(b)
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        }
    };
    let replay = reqs[10].clone();
    let statuses = futures_util::future::join_all(reqs.into_iter().map(|(h, b)| send(h, b))).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(send(replay.0, replay.1).await, 401);
    running.task.abort();
}
