//! The axon: an HTTP server answering `GET`/`POST /<SynapseName>` with the pipeline of spec §7.1:
//! route → headers parsed (400 on garbage) → body size bound (413) → blacklist hook (403, body
//! not read yet) → signature and nonce verification (401) → priority gate (bounded concurrency,
//! highest priority first, per-hotkey cap; 408 when the request's timeout passes while waiting,
//! 503 when the queue is full) → body read (413) and parsed (422) → body hash checked (400; the
//! reference answers 500) → handler, under the request's timeout (408; error 500) → response
//! with the `bt_header_axon_*` headers.
//!
//! The handler receives the *verified* caller (hotkey, nonce, uuid, socket address), never the
//! unauthenticated `dendrite` object of the body.

use crate::headers::{build_headers, push_terminal, HeaderParts, RequestHeaders};
use crate::priority::{GateConfig, PriorityGate};
use crate::synapse::{Envelope, Synapse, TerminalInfo, VERSION_AS_INT};
use crate::verify::{Clock, SystemClock, VerifiedCaller, Verifier, VerifyConfig, VerifyError};
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::Response;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// The caller as verified by the axon: this, not the body's `dendrite` object, is what a handler
/// should trust.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    /// Verified signer and signed nonce/uuid.
    pub verified: VerifiedCaller,
    /// TCP peer address.
    pub peer: SocketAddr,
}

/// What the blacklist and priority hooks see: headers only (the body is not read yet).
#[derive(Debug, Clone)]
pub struct RequestInfo<'a> {
    /// Synapse (route) name.
    pub synapse: &'a str,
    /// The parsed headers. In the blacklist hook the hotkey is *not yet verified*.
    pub headers: &'a RequestHeaders,
    /// TCP peer address.
    pub peer: SocketAddr,
}

/// Blacklist hook: `Some(reason)` rejects with 403.
pub type BlacklistFn = Arc<dyn Fn(&RequestInfo<'_>) -> Option<String> + Send + Sync>;
/// Priority hook (runs after verification): higher is served sooner.
pub type PriorityFn = Arc<dyn Fn(&RequestInfo<'_>) -> f64 + Send + Sync>;

/// A handler failure (answered 500 with an opaque id; the message is logged).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct HandlerError(pub String);

/// Axon settings.
#[derive(Debug, Clone)]
pub struct AxonConfig {
    /// Largest accepted body, bytes (413 beyond).
    pub max_body_bytes: usize,
    /// Verification settings (age window cap, future bound, nonce store bound).
    pub verify: VerifyConfig,
    /// Concurrency settings.
    pub gate: GateConfig,
    /// IP reported in `bt_header_axon_ip` when the caller sent none.
    pub external_ip: String,
    /// Port reported in `bt_header_axon_port` when the caller sent none.
    pub external_port: u16,
}

impl Default for AxonConfig {
    fn default() -> Self {
        AxonConfig {
            max_body_bytes: 4 * 1024 * 1024,
            verify: VerifyConfig::default(),
            gate: GateConfig::default(),
            external_ip: "127.0.0.1".to_string(),
            external_port: 0,
        }
    }
}

struct RouteInput {
    body: Bytes,
    headers: RequestHeaders,
    caller: Caller,
    start: Instant,
}

struct RouteOk {
    body: Vec<u8>,
    computed_body_hash: String,
    process_time: f64,
}

type RouteFn = Arc<dyn Fn(RouteInput) -> BoxFuture<'static, Result<RouteOk, Reject>> + Send + Sync>;

struct Route {
    run: RouteFn,
    required_fields: &'static [(&'static str, &'static str)],
}

/// An error answer: status and message.
#[derive(Debug, Clone)]
struct Reject {
    status: StatusCode,
    message: String,
}

impl Reject {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Reject {
            status,
            message: message.into(),
        }
    }
}

/// The base-fields-only synapse served at `/Synapse` (a ping that echoes the request).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Ping {}

impl Synapse for Ping {
    const NAME: &'static str = "Synapse";
    const REQUIRED_HASH_FIELDS: &'static [&'static str] = &[];
    const REQUIRED_FIELDS: &'static [(&'static str, &'static str)] = &[];
}

/// Builds an [`Axon`].
pub struct AxonBuilder {
    hotkey: String,
    routes: BTreeMap<String, Route>,
    blacklist: Option<BlacklistFn>,
    priority: Option<PriorityFn>,
    clock: Arc<dyn Clock>,
    config: AxonConfig,
}

impl AxonBuilder {
    /// Serves `S` at `/<S::NAME>` with `handler`, which gets the verified caller and the request
    /// and returns the response synapse.
    pub fn attach<S, F, Fut>(mut self, handler: F) -> Self
    where
        S: Synapse,
        F: Fn(Caller, S) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<S, HandlerError>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let run: RouteFn = Arc::new(move |input: RouteInput| {
            let handler = handler.clone();
            Box::pin(run_route::<S, F, Fut>(handler, input))
        });
        self.routes.insert(
            S::NAME.to_string(),
            Route {
                run,
                required_fields: S::REQUIRED_FIELDS,
            },
        );
        self
    }

    /// Installs the blacklist hook (runs before verification and before the body is read).
    pub fn blacklist(
        mut self,
        f: impl Fn(&RequestInfo<'_>) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.blacklist = Some(Arc::new(f));
        self
    }

    /// Installs the priority hook (e.g. the caller's stake).
    pub fn priority(mut self, f: impl Fn(&RequestInfo<'_>) -> f64 + Send + Sync + 'static) -> Self {
        self.priority = Some(Arc::new(f));
        self
    }

    /// Replaces the clock (tests and replays).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Replaces the settings.
    pub fn config(mut self, config: AxonConfig) -> Self {
        self.config = config;
        self
    }

    /// Finishes the axon.
    pub fn build(self) -> Arc<Axon> {
        let mut b = self;
        if !b.routes.contains_key(Ping::NAME) {
            b = b.attach(|_c: Caller, p: Ping| async move { Ok(p) });
        }
        Arc::new(Axon {
            verifier: Verifier::new(b.hotkey.clone(), b.config.verify),
            gate: PriorityGate::new(b.config.gate),
            uuid: crate::dendrite::random_uuid(),
            hotkey: b.hotkey,
            routes: b.routes,
            blacklist: b.blacklist,
            priority: b.priority,
            clock: b.clock,
            config: b.config,
        })
    }
}

/// The axon server state. Build with [`Axon::builder`], serve with [`Axon::serve`] or
/// [`Axon::spawn`], or drive it directly with [`Axon::process`].
pub struct Axon {
    hotkey: String,
    uuid: String,
    routes: BTreeMap<String, Route>,
    blacklist: Option<BlacklistFn>,
    priority: Option<PriorityFn>,
    verifier: Verifier,
    gate: PriorityGate,
    clock: Arc<dyn Clock>,
    config: AxonConfig,
}

/// A running axon spawned on the tokio runtime.
pub struct RunningAxon {
    /// The bound address.
    pub addr: SocketAddr,
    /// The server task; abort it to stop.
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Axon {
    /// Starts building an axon whose own hotkey (the one requests must be signed for) is
    /// `hotkey_ss58`.
    pub fn builder(hotkey_ss58: impl Into<String>) -> AxonBuilder {
        AxonBuilder {
            hotkey: hotkey_ss58.into(),
            routes: BTreeMap::new(),
            blacklist: None,
            priority: None,
            clock: Arc::new(SystemClock),
            config: AxonConfig::default(),
        }
    }

    /// The axon's hotkey SS58.
    pub fn hotkey(&self) -> &str {
        &self.hotkey
    }

    /// The verifier (nonce store inspection).
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// The priority gate (inspection).
    pub fn gate(&self) -> &PriorityGate {
        &self.gate
    }

    /// The axum router serving every route (needs `ConnectInfo<SocketAddr>`).
    pub fn router(self: &Arc<Self>) -> axum::Router {
        axum::Router::new().fallback(entry).with_state(self.clone())
    }

    /// Serves on `listener` until the task is dropped.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) -> std::io::Result<()> {
        let app = self
            .router()
            .into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app).await
    }

    /// Binds `addr` (use `127.0.0.1:0` for a free port) and serves in a background task.
    pub async fn spawn(self: Arc<Self>, addr: SocketAddr) -> std::io::Result<RunningAxon> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(self.serve(listener));
        Ok(RunningAxon { addr, task })
    }

    /// Runs the whole pipeline on one request.
    pub async fn process(
        &self,
        path: &str,
        headers: &HeaderMap,
        body: Body,
        peer: SocketAddr,
    ) -> Response {
        let start = Instant::now();
        let name = path.trim_start_matches('/').split('/').next().unwrap_or("");
        let parsed = RequestHeaders::parse(headers);
        let h = parsed.as_ref().ok();
        let result = self
            .pipeline(name, &parsed, headers, body, peer, start)
            .await;
        let required = self
            .routes
            .get(name)
            .map(|r| r.required_fields)
            .unwrap_or(&[]);
        match result {
            Ok(ok) => self.success(name, h, required, ok),
            Err(rej) => self.reject(name, h, required, peer, start, rej),
        }
    }

    async fn pipeline(
        &self,
        name: &str,
        parsed: &Result<RequestHeaders, crate::headers::HeaderError>,
        raw: &HeaderMap,
        body: Body,
        peer: SocketAddr,
        start: Instant,
    ) -> Result<RouteOk, Reject> {
        let Some(route) = self.routes.get(name) else {
            let names: Vec<String> = self.routes.keys().map(|k| format!("'{k}'")).collect();
            return Err(Reject::new(
                StatusCode::NOT_FOUND,
                format!(
                    "Synapse name '{name}' not found. Available synapses [{}]",
                    names.join(", ")
                ),
            ));
        };
        let h = parsed.as_ref().map_err(|e| {
            Reject::new(
                StatusCode::BAD_REQUEST,
                format!("Improperly formatted request: {e}"),
            )
        })?;
        if let Some(len) = raw
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
        {
            if len > self.config.max_body_bytes as u64 {
                return Err(self.too_large());
            }
        }
        let info = RequestInfo {
            synapse: name,
            headers: h,
            peer,
        };
        if let Some(bl) = &self.blacklist {
            if let Some(reason) = bl(&info) {
                return Err(Reject::new(
                    StatusCode::FORBIDDEN,
                    format!("Forbidden. Key is blacklisted: {reason}."),
                ));
            }
        }
        let verified = self
            .verifier
            .verify(h, self.clock.now_ns())
            .map_err(|e| match e {
                VerifyError::StoreFull => {
                    Reject::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
                }
                e => Reject::new(
                    StatusCode::UNAUTHORIZED,
                    format!("Not Verified with error: {e}"),
                ),
            })?;
        let priority = self.priority.as_ref().map(|p| p(&info)).unwrap_or(0.0);
        let timeout = h
            .timeout
            .unwrap_or(12.0)
            .min(self.config.verify.max_timeout.as_secs_f64());
        let budget = Duration::from_secs_f64(timeout).saturating_sub(start.elapsed());
        let hotkey = verified.hotkey.clone();
        let work = async {
            let _permit = self
                .gate
                .acquire(&hotkey, priority)
                .await
                .map_err(|e| Reject::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
            let bytes = axum::body::to_bytes(body, self.config.max_body_bytes)
                .await
                .map_err(|_| self.too_large())?;
            (route.run)(RouteInput {
                body: bytes,
                headers: h.clone(),
                caller: Caller { verified, peer },
                start,
            })
            .await
        };
        match tokio::time::timeout(budget, work).await {
            Ok(r) => r,
            Err(_) => Err(Reject::new(
                StatusCode::REQUEST_TIMEOUT,
                format!("Response timeout after: {timeout}s"),
            )),
        }
    }

    fn too_large(&self) -> Reject {
        Reject::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "Request body larger than the axon's limit of {} bytes",
                self.config.max_body_bytes
            ),
        )
    }

    fn axon_terminal(&self, h: Option<&RequestHeaders>) -> TerminalInfo {
        let a = h.map(|h| &h.axon);
        TerminalInfo {
            ip: Some(
                a.and_then(|a| a.ip.clone())
                    .unwrap_or_else(|| self.config.external_ip.clone()),
            ),
            port: Some(
                a.and_then(|a| a.port)
                    .unwrap_or(self.config.external_port as i64),
            ),
            hotkey: Some(
                a.and_then(|a| a.hotkey.clone())
                    .unwrap_or_else(|| self.hotkey.clone()),
            ),
            ..TerminalInfo::default()
        }
    }

    fn success(
        &self,
        name: &str,
        h: Option<&RequestHeaders>,
        required: &[(&str, &str)],
        ok: RouteOk,
    ) -> Response {
        let mut axon = self.axon_terminal(h);
        axon.status_code = Some(200);
        axon.status_message = Some("Success".into());
        axon.process_time = Some(ok.process_time);
        let dendrite = h.map(|h| h.dendrite.clone()).unwrap_or_default();
        let mut map = build_headers(&HeaderParts {
            name,
            timeout: h.and_then(|h| h.timeout).unwrap_or(12.0),
            axon: &axon,
            dendrite: &dendrite,
            required_fields: required,
            header_size: 0,
            total_size: ok.body.len() as u64,
            computed_body_hash: &ok.computed_body_hash,
        });
        map.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let mut resp = Response::new(Body::from(ok.body));
        *resp.headers_mut() = map;
        resp
    }

    fn reject(
        &self,
        name: &str,
        h: Option<&RequestHeaders>,
        required: &[(&str, &str)],
        peer: SocketAddr,
        start: Instant,
        rej: Reject,
    ) -> Response {
        let mut axon = self.axon_terminal(h);
        axon.status_code = Some(rej.status.as_u16() as i64);
        axon.status_message = Some(rej.message.clone());
        axon.process_time = Some(start.elapsed().as_secs_f64());
        axon.version = Some(VERSION_AS_INT as i64);
        axon.nonce = Some(self.clock.now_ns());
        axon.uuid = Some(self.uuid.clone());
        let mut dendrite = h.map(|h| h.dendrite.clone()).unwrap_or_default();
        dendrite.ip = Some(peer.ip().to_string());
        dendrite.port = Some(peer.port() as i64);
        let mut map = build_headers(&HeaderParts {
            name,
            timeout: h.and_then(|h| h.timeout).unwrap_or(12.0),
            axon: &TerminalInfo::default(),
            dendrite: &dendrite,
            required_fields: required,
            header_size: 0,
            total_size: 0,
            computed_body_hash: h
                .and_then(|h| h.computed_body_hash.as_deref())
                .unwrap_or(""),
        });
        push_terminal(&mut map, "bt_header_axon_", &axon);
        map.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let body = serde_json::json!({ "message": rej.message }).to_string();
        let mut resp = Response::new(Body::from(body));
        *resp.status_mut() = rej.status;
        *resp.headers_mut() = map;
        resp
    }
}

async fn run_route<S, F, Fut>(handler: Arc<F>, input: RouteInput) -> Result<RouteOk, Reject>
where
    S: Synapse,
    F: Fn(Caller, S) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<S, HandlerError>> + Send + 'static,
{
    let mut env: Envelope<S> = serde_json::from_slice(&input.body).map_err(|e| {
        Reject::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("Body does not match synapse '{}': {e}", S::NAME),
        )
    })?;
    let got = env
        .body
        .body_hash()
        .map_err(|e| Reject::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    let want = input.headers.computed_body_hash.as_deref().unwrap_or("");
    if got != want {
        return Err(Reject::new(
            StatusCode::BAD_REQUEST,
            format!(
                "Body hash mismatch: the body's hash fields hash to {got} but computed_body_hash says {want}"
            ),
        ));
    }
    let caller = input.caller;
    let request = env.body.clone();
    let answer = handler(caller.clone(), request).await.map_err(|e| {
        let id = crate::dendrite::random_uuid();
        tracing::warn!(synapse = S::NAME, error = %e, id = %id, "handler failed");
        Reject::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("Internal Server Error #{id}"),
        )
    })?;
    let computed_body_hash = answer
        .body_hash()
        .map_err(|e| Reject::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let process_time = input.start.elapsed().as_secs_f64();
    env.name = S::NAME.to_string();
    env.body = answer;
    env.computed_body_hash = String::new();
    // The body's dendrite identity is replaced by the verified one.
    env.dendrite.hotkey = Some(caller.verified.hotkey);
    env.dendrite.nonce = Some(caller.verified.nonce);
    env.dendrite.uuid = Some(caller.verified.uuid);
    env.dendrite.signature = input.headers.dendrite.signature.clone();
    env.axon.status_code = Some(200);
    env.axon.status_message = Some("Success".into());
    env.axon.process_time = Some(process_time);
    if env.axon.hotkey.is_none() {
        env.axon.hotkey = input.headers.axon.hotkey.clone();
    }
    let body = serde_json::to_vec(&env)
        .map_err(|e| Reject::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(RouteOk {
        body,
        computed_body_hash,
        process_time,
    })
}

async fn entry(State(axon): State<Arc<Axon>>, req: Request<Body>) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .unwrap_or_else(|| SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0));
    let (parts, body) = req.into_parts();
    axon.process(parts.uri.path(), &parts.headers, body, peer)
        .await
}
