//! The dendrite: a signing HTTP client (spec §4, §8.3) with connection pooling and fan-out.
//!
//! Nonce ordering: the reference axon accepts a (hotkey, uuid)'s nonces only in increasing order,
//! so concurrent requests sharing a uuid can overtake each other and fail. This dendrite signs
//! each request with a *lane*: a uuid checked out for that one request, so a uuid never has two
//! requests in flight and its nonces reach every axon in order. Lanes are reused; their number
//! is the peak concurrency, bounded by [`DendriteConfig::max_in_flight`] (callers beyond it wait).
//! Nothing else is remembered between calls.

use crate::headers::{build_headers, HeaderParts};
use crate::pyrepr::PyReprError;
use crate::synapse::{Envelope, Synapse, TerminalInfo, VERSION_AS_INT};
use crate::verify::request_message;
use axum::http::HeaderMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tensornet_keys::Keypair;
use tokio::sync::Semaphore;

/// A random version-4 UUID in its usual text form.
pub fn random_uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// The per-request values a signed request is stamped with.
#[derive(Debug, Clone, Copy)]
pub struct RequestStamp<'a> {
    /// Call timeout, seconds.
    pub timeout: f64,
    /// Nonce (ns since the Unix epoch).
    pub nonce: u64,
    /// The uuid (lane).
    pub uuid: &'a str,
    /// The IP reported in `bt_header_dendrite_ip`.
    pub external_ip: &'a str,
}

/// Builds the headers (everything but `Content-Type`) and JSON body of a request from `keypair`
/// to `target`, signed as spec §6.1. Used by [`Dendrite`]; public for tests and tools.
pub fn signed_request<S: Synapse>(
    keypair: &Keypair,
    target: &AxonTarget,
    synapse: &S,
    stamp: &RequestStamp<'_>,
) -> Result<(HeaderMap, Vec<u8>), PyReprError> {
    signed_request_as(keypair, &keypair.ss58(), target, synapse, stamp)
}

fn signed_request_as<S: Synapse>(
    keypair: &Keypair,
    hotkey: &str,
    target: &AxonTarget,
    synapse: &S,
    stamp: &RequestStamp<'_>,
) -> Result<(HeaderMap, Vec<u8>), PyReprError> {
    let body_hash = synapse.body_hash()?;
    let hotkey = hotkey.to_string();
    let message = request_message(stamp.nonce, &hotkey, &target.hotkey, stamp.uuid, &body_hash);
    let signature = keypair.sign(message.as_bytes()).to_hex();
    let mut env = Envelope::new(synapse.clone(), stamp.timeout);
    env.dendrite = TerminalInfo {
        ip: Some(stamp.external_ip.to_string()),
        version: Some(VERSION_AS_INT as i64),
        nonce: Some(stamp.nonce),
        uuid: Some(stamp.uuid.to_string()),
        hotkey: Some(hotkey),
        signature: Some(signature),
        ..TerminalInfo::default()
    };
    env.axon = TerminalInfo {
        ip: Some(target.ip.clone()),
        port: Some(target.port as i64),
        hotkey: Some(target.hotkey.clone()),
        ..TerminalInfo::default()
    };
    let body = serde_json::to_vec(&env).map_err(|e| PyReprError::new(e.to_string()))?;
    let headers = build_headers(&HeaderParts {
        name: S::NAME,
        timeout: stamp.timeout,
        axon: &env.axon,
        dendrite: &env.dendrite,
        required_fields: S::REQUIRED_FIELDS,
        header_size: 0,
        total_size: body.len() as u64,
        computed_body_hash: &body_hash,
    });
    Ok((headers, body))
}

/// An axon to call: where it listens and the hotkey it verifies requests against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AxonTarget {
    /// IP address (text).
    pub ip: String,
    /// Port.
    pub port: u16,
    /// The axon's hotkey SS58 (the signed message names it).
    pub hotkey: String,
}

impl AxonTarget {
    /// A target at `addr` with hotkey `hotkey`.
    pub fn new(addr: SocketAddr, hotkey: impl Into<String>) -> Self {
        AxonTarget {
            ip: addr.ip().to_string(),
            port: addr.port(),
            hotkey: hotkey.into(),
        }
    }

    fn host(&self) -> String {
        if self.ip.contains(':') {
            format!("[{}]:{}", self.ip, self.port)
        } else {
            format!("{}:{}", self.ip, self.port)
        }
    }
}

/// The outcome of one call to one axon.
#[derive(Debug, Clone)]
pub struct Answer<S> {
    /// The axon's status code (or a local one: 408 timeout, 503 unreachable, 422 bad response).
    pub status_code: u16,
    /// Its message.
    pub status_message: String,
    /// Round-trip seconds.
    pub process_time: f64,
    /// Seconds the axon reported spending.
    pub axon_process_time: Option<f64>,
    /// The response synapse (status 200 only).
    pub synapse: Option<S>,
}

impl<S> Answer<S> {
    /// Status 200 with a parsed response.
    pub fn is_success(&self) -> bool {
        self.status_code == 200 && self.synapse.is_some()
    }

    fn local(status_code: u16, status_message: String, start: Instant) -> Self {
        Answer {
            status_code,
            status_message,
            process_time: start.elapsed().as_secs_f64(),
            axon_process_time: None,
            synapse: None,
        }
    }
}

/// Dendrite settings.
#[derive(Debug, Clone)]
pub struct DendriteConfig {
    /// IP this dendrite reports in `bt_header_dendrite_ip`.
    pub external_ip: String,
    /// Requests in flight at once (and so lanes/uuids at most).
    pub max_in_flight: usize,
}

impl Default for DendriteConfig {
    fn default() -> Self {
        DendriteConfig {
            external_ip: "127.0.0.1".to_string(),
            max_in_flight: 4096,
        }
    }
}

/// Dendrite construction failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client: {0}")]
pub struct DendriteError(String);

struct Lane {
    uuid: String,
    last_nonce: u64,
}

/// Returns its lane to the pool when dropped (also on cancellation).
struct LaneGuard<'a> {
    pool: &'a Mutex<Vec<Lane>>,
    lane: Option<Lane>,
}

impl Drop for LaneGuard<'_> {
    fn drop(&mut self) {
        if let (Some(lane), Ok(mut pool)) = (self.lane.take(), self.pool.lock()) {
            pool.push(lane);
        }
    }
}

/// The validator-side client.
pub struct Dendrite {
    keypair: Keypair,
    hotkey: String,
    client: reqwest::Client,
    lanes: Mutex<Vec<Lane>>,
    in_flight: Semaphore,
    config: DendriteConfig,
}

impl Dendrite {
    /// A dendrite signing with `keypair` (its hotkey).
    pub fn new(keypair: Keypair) -> Result<Self, DendriteError> {
        Self::with_config(keypair, DendriteConfig::default())
    }

    /// A dendrite with explicit settings.
    pub fn with_config(keypair: Keypair, config: DendriteConfig) -> Result<Self, DendriteError> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(config.max_in_flight)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| DendriteError(e.to_string()))?;
        Ok(Dendrite {
            hotkey: keypair.ss58(),
            keypair,
            client,
            lanes: Mutex::new(Vec::new()),
            in_flight: Semaphore::new(config.max_in_flight.max(1)),
            config,
        })
    }

    /// This dendrite's hotkey SS58.
    pub fn hotkey(&self) -> &str {
        &self.hotkey
    }

    /// Number of lanes (uuids) created so far = peak concurrency.
    pub fn lanes(&self) -> usize {
        self.lanes.lock().map(|l| l.len()).unwrap_or(0)
    }

    /// Calls every target with `synapse` at once; answers in target order.
    pub async fn query<S: Synapse>(
        &self,
        targets: &[AxonTarget],
        synapse: &S,
        timeout: Duration,
    ) -> Vec<Answer<S>> {
        futures_util::future::join_all(targets.iter().map(|t| self.call(t, synapse, timeout))).await
    }

    /// Calls one axon. Never fails: transport problems become local status codes.
    pub async fn call<S: Synapse>(
        &self,
        target: &AxonTarget,
        synapse: &S,
        timeout: Duration,
    ) -> Answer<S> {
        let start = Instant::now();
        match tokio::time::timeout(timeout, self.call_inner(target, synapse, timeout, start)).await
        {
            Ok(a) => a,
            Err(_) => Answer::local(
                408,
                format!("Request timeout after {} seconds", timeout.as_secs_f64()),
                start,
            ),
        }
    }

    async fn call_inner<S: Synapse>(
        &self,
        target: &AxonTarget,
        synapse: &S,
        timeout: Duration,
        start: Instant,
    ) -> Answer<S> {
        let Ok(_permit) = self.in_flight.acquire().await else {
            return Answer::local(500, "Client error: dendrite closed".into(), start);
        };
        let popped = self.lanes.lock().ok().and_then(|mut l| l.pop());
        let mut guard = LaneGuard {
            pool: &self.lanes,
            lane: Some(popped.unwrap_or_else(|| Lane {
                uuid: random_uuid(),
                last_nonce: 0,
            })),
        };
        let (nonce, uuid) = match guard.lane.as_mut() {
            Some(lane) => {
                let nonce = now_ns().max(lane.last_nonce + 1);
                lane.last_nonce = nonce;
                (nonce, lane.uuid.clone())
            }
            None => return Answer::local(500, "Client error: no lane".into(), start),
        };
        let timeout_s = timeout.as_secs_f64();
        let (mut headers, body) = match signed_request_as(
            &self.keypair,
            &self.hotkey,
            target,
            synapse,
            &RequestStamp {
                timeout: timeout_s,
                nonce,
                uuid: &uuid,
                external_ip: &self.config.external_ip,
            },
        ) {
            Ok(x) => x,
            Err(e) => return Answer::local(400, format!("Payload error: {e}"), start),
        };
        headers.insert(
            reqwest::header::CONTENT_TYPE,
            reqwest::header::HeaderValue::from_static("application/json"),
        );
        let url = format!("http://{}/{}", target.host(), S::NAME);
        let sent = self
            .client
            .post(&url)
            .headers(headers)
            .body(body)
            .timeout(timeout)
            .send()
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                return Answer::local(
                    408,
                    format!("Request timeout after {timeout_s} seconds"),
                    start,
                )
            }
            Err(e) if e.is_connect() => {
                return Answer::local(
                    503,
                    format!("Service unavailable at {}/{}", target.host(), S::NAME),
                    start,
                )
            }
            Err(e) => return Answer::local(503, format!("Service connection error: {e}"), start),
        };
        let http_status = resp.status().as_u16();
        let h = resp.headers();
        let hdr = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
        let status_code = hdr("bt_header_axon_status_code")
            .and_then(|v| v.parse::<u16>().ok())
            .unwrap_or(http_status);
        let header_message = hdr("bt_header_axon_status_message");
        let axon_process_time =
            hdr("bt_header_axon_process_time").and_then(|v| v.parse::<f64>().ok());
        let bytes = match resp.bytes().await {
            Ok(b) => b,
            Err(e) if e.is_timeout() => {
                return Answer::local(
                    408,
                    format!("Request timeout after {timeout_s} seconds"),
                    start,
                )
            }
            Err(e) => return Answer::local(503, format!("Service disconnected: {e}"), start),
        };
        // The response is in: the lane may carry the next request.
        drop(guard);
        if http_status == 200 {
            match serde_json::from_slice::<Envelope<S>>(&bytes) {
                Ok(env) => Answer {
                    status_code,
                    status_message: header_message.unwrap_or_else(|| "Success".into()),
                    process_time: start.elapsed().as_secs_f64(),
                    axon_process_time: axon_process_time.or(env.axon.process_time),
                    synapse: Some(env.body),
                },
                Err(e) => Answer::local(422, format!("Failed to parse response: {e}"), start),
            }
        } else {
            let body_message = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| match (v.get("message"), v.get("detail")) {
                    (Some(serde_json::Value::String(m)), _) => Some(m.clone()),
                    (_, Some(d)) => Some(d.to_string()),
                    _ => None,
                });
            Answer {
                status_code: http_status,
                status_message: body_message
                    .or(header_message)
                    .unwrap_or_else(|| format!("HTTP {http_status}")),
                process_time: start.elapsed().as_secs_f64(),
                axon_process_time,
                synapse: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_look_like_uuids() {
        let u = random_uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(u, random_uuid());
    }
}
