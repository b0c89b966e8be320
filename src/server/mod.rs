//! The HTTP server: the API, the committed contract, Swagger UI, and the middleware that
//! makes every path and every error look the way the contract says.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use poem::http::{StatusCode, Uri};
use poem::web::Redirect;
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route, get, handler};

use crate::domain::error::ServiceError;
use crate::http::error::ApiError;
use crate::http::metrics::CONTENT_TYPE;
use crate::http::rate_limit::{ConnectionPlace, SlotHolder};

pub mod routes;
pub mod spec;
pub mod state;

use routes::{RouteTable, json_errors};
use state::AppState;

/// The contract as committed: served as it is, and checked against the code by the drift test.
pub const OPENAPI_YAML: &str = include_str!("../../openapi.yaml");

/// Serves SelfCommunity's paths with and without their trailing slash: poem-openapi routes
/// them without it, so the slash is trimmed here, once, for every API path.
/// (The spec side of the same fix is `spec::add_trailing_slashes`.)
fn trim_trailing_slash(mut req: Request) -> Request {
    let path = req.uri().path();
    if path.starts_with("/api/") && path.len() > 1 && path.ends_with('/') {
        let trimmed = &path[..path.len() - 1];
        let rebuilt = match req.uri().query() {
            Some(query) => format!("{trimmed}?{query}"),
            None => trimmed.to_owned(),
        };
        if let Ok(uri) = rebuilt.parse::<Uri>() {
            *req.uri_mut() = uri;
        }
    }
    req
}

/// A request id unique to this server's life: a random prefix made once, then a counter (ids
/// need to be unique, not secret; no system call per request).
fn new_request_id() -> String {
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| crate::http::tokens::random_hex(4));
    format!("{prefix}{:08x}", NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

/// Keeps a client's `X-Request-Id` (visible ASCII, at most 128 characters) or makes one, puts
/// it on the response, and on every log line written while the request is served.
async fn request_id<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    use tracing::Instrument;
    let id = req
        .header("x-request-id")
        .filter(|id| !id.is_empty() && id.len() <= 128 && id.chars().all(|c| c.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(new_request_id);
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path());
    let mut response = next.call(req).instrument(span).await?.into_response();
    if let Ok(value) = id.parse() {
        response.headers_mut().insert("x-request-id", value);
    }
    Ok(response)
}

/// The largest request body the server reads. No operation needs more than a hundred ids.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The HTTP layer's time limits and sizes (flags of `serve`).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// A client must send a request's whole header within this, or the connection is closed
    /// (slowloris). An idle keep-alive connection is closed after it too.
    pub header_timeout: Duration,
    /// A request's body must arrive (else `408`), and its answer be ready (else `503`), within this.
    pub request_timeout: Duration,
    /// After SIGTERM, how long `/readyz` answers `503` while the listener still accepts and
    /// serves, so that a load balancer stops sending before the listener closes.
    pub shutdown_drain: Duration,
    /// After the drain, how long requests in flight may still take.
    pub shutdown_grace: Duration,
    /// Open connections at most; more wait in the listen queue until one closes.
    pub max_connections: usize,
}

impl Limits {
    /// `serve`'s defaults (its flags take theirs from here).
    pub const DEFAULT: Limits = Limits {
        header_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(30),
        shutdown_drain: Duration::ZERO,
        shutdown_grace: Duration::from_secs(10),
        max_connections: 1024,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// Gives each request `timeout`: first to send its body (at most `MAX_BODY_BYTES`), then to be
/// answered. A body declared too large is `413` before anything is read; a body that does not
/// arrive in time is `408`; an answer that is not ready in time is `503` with `Retry-After`
/// (the database is the only thing the server waits for).
async fn deadline<E: Endpoint>(next: E, mut req: Request, timeout: Duration) -> poem::Result<Response> {
    use crate::http::error::{PAYLOAD_TOO_LARGE, REQUEST_TIMEOUT, SERVICE_UNAVAILABLE};
    let started = std::time::Instant::now();
    let too_large = || {
        ApiError::new(PAYLOAD_TOO_LARGE).with_message(format!("The request body is too large: {MAX_BODY_BYTES} bytes at most."))
    };
    let declared = req.header("content-length").and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Err(too_large().into());
    }
    let has_body = declared.is_some_and(|length| length > 0) || req.headers().contains_key("transfer-encoding");
    if has_body && req.method() != poem::http::Method::GET && req.method() != poem::http::Method::HEAD {
        match tokio::time::timeout(timeout, req.take_body().into_bytes_limit(MAX_BODY_BYTES)).await {
            Err(_) => {
                return Err(ApiError::new(REQUEST_TIMEOUT)
                    .with_message(format!("The request body did not arrive within {} s.", timeout.as_secs()))
                    .into());
            }
            Ok(Err(poem::error::ReadBodyError::PayloadTooLarge)) => return Err(too_large().into()),
            // The client broke the body off: what arrived is all there is (an operation that
            // needs a body then finds it malformed).
            Ok(Err(_)) => req.set_body(poem::Body::empty()),
            Ok(Ok(body)) => req.set_body(body),
        }
    }
    let left = timeout.saturating_sub(started.elapsed());
    match tokio::time::timeout(left, next.call(req)).await {
        Ok(response) => Ok(response?.into_response()),
        Err(_) => {
            tracing::warn!(timeout_seconds = timeout.as_secs(), "request timed out");
            Err(ApiError::new(SERVICE_UNAVAILABLE)
                .with_message(format!("The answer was not ready within {} s; retry later.", timeout.as_secs()))
                .with_header(poem::http::header::RETRY_AFTER, "1")
                .into())
        }
    }
}

/// `GET /healthz`: the process serves requests.
#[handler]
fn healthz() -> Response {
    Response::builder().content_type("application/json").body("{\"status\":\"ok\"}")
}

/// Set once the server is shutting down: `/readyz` answers `503` from then on, and every
/// answer carries `Connection: close`, so that clients and load balancers move elsewhere.
#[derive(Clone, Debug, Default)]
pub struct Draining(Arc<std::sync::atomic::AtomicBool>);

impl Draining {
    pub fn start(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn is_on(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// `GET /readyz`: the database answers; `503` with the error body when it does not, and while
/// the server is draining before it stops.
#[handler]
async fn readyz(req: &Request) -> poem::Result<Response> {
    use crate::http::error::SHUTTING_DOWN;
    let state = req.data::<Arc<AppState>>().ok_or(poem::error::NotFoundError)?;
    if req.data::<Draining>().is_some_and(Draining::is_on) {
        return Err(ApiError::new(SHUTTING_DOWN).with_header(poem::http::header::RETRY_AFTER, "1").into());
    }
    state.repo.ping().await.map_err(|e| ApiError::from(ServiceError::from(e)))?;
    Ok(Response::builder().content_type("application/json").body("{\"status\":\"ready\"}"))
}

/// `GET /metrics`: Prometheus text.
#[handler]
fn prometheus(req: &Request) -> poem::Result<Response> {
    let state = req.data::<Arc<AppState>>().ok_or(poem::error::NotFoundError)?;
    let user_slots = state.kit.in_flight.as_ref().map_or(0, |cap| cap.taken());
    let text = state.metrics.render(state.repo.pool_use(), user_slots);
    Ok(Response::builder().content_type(CONTENT_TYPE).body(text))
}

/// The framework's own limit, measured by `make bench`: a token check and a constant answer,
/// no database. Only served with `serve --bench-ceiling`.
#[handler]
fn ceiling(req: &Request) -> poem::Result<Response> {
    let state = req.data::<Arc<AppState>>().ok_or(poem::error::NotFoundError)?;
    let token = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .ok_or_else(ApiError::not_authenticated)?;
    state.kit.auth.verify(token).map_err(ApiError::from)?;
    Ok(Response::builder().content_type("application/json").body("{\"ok\":true}"))
}

#[handler]
fn openapi_yaml() -> Response {
    Response::builder().content_type("application/yaml").body(OPENAPI_YAML)
}

fn swagger_config() -> Arc<utoipa_swagger_ui::Config<'static>> {
    Arc::new(
        utoipa_swagger_ui::Config::new(["/openapi.json"])
            .persist_authorization(true)
            .display_operation_id(true)
            .try_it_out_enabled(true),
    )
}

fn swagger_file(tail: &str, config: &Arc<utoipa_swagger_ui::Config<'static>>) -> poem::Result<Response> {
    match utoipa_swagger_ui::serve(tail, config.clone()) {
        Ok(Some(file)) => Ok(Response::builder()
            .content_type(file.content_type)
            .body(file.bytes.to_vec())),
        Ok(None) => Err(poem::error::NotFoundError.into()),
        Err(err) => {
            tracing::error!(error = %err, "swagger ui asset");
            Err(StatusCode::INTERNAL_SERVER_ERROR.into())
        }
    }
}

/// The whole application, ready to serve.
pub fn app(state: Arc<AppState>, limits: Limits, draining: Draining) -> Result<impl Endpoint, String> {
    let generated = spec::generate().map_err(|e| format!("generating the spec: {e}"))?;
    let committed: serde_json::Value =
        serde_yaml::from_str(OPENAPI_YAML).map_err(|e| format!("openapi.yaml does not parse: {e}"))?;
    let committed_json = serde_json::to_string_pretty(&committed).map_err(|e| e.to_string())?;
    let reference = crate::docs::reference_html(&committed);
    let config = swagger_config();
    let index_config = config.clone();

    // Every path beside the API's, once: the router gets them, and so does the route table.
    let mut pages: Vec<(&str, poem::endpoint::BoxEndpoint<'static, Response>)> = vec![
        ("/openapi.yaml", get(openapi_yaml).boxed()),
        (
            "/openapi.json",
            get(poem::endpoint::make_sync(move |_| {
                Response::builder().content_type("application/json").body(committed_json.clone())
            }))
            .boxed(),
        ),
        ("/healthz", get(healthz).boxed()),
        ("/readyz", get(readyz).boxed()),
        ("/metrics", get(prometheus).boxed()),
        ("/ws/notify", get(crate::features::live::socket::notify).boxed()),
        ("/docs", get(poem::endpoint::make_sync(|_| Redirect::permanent("/docs/").into_response())).boxed()),
        (
            "/docs/",
            get(poem::endpoint::make(move |_| {
                let config = index_config.clone();
                async move { swagger_file("", &config) }
            }))
            .boxed(),
        ),
        (
            "/docs/reference",
            get(poem::endpoint::make_sync(|_| Redirect::permanent("/docs/reference/").into_response())).boxed(),
        ),
        (
            "/docs/reference/",
            get(poem::endpoint::make_sync(move |_| {
                Response::builder().content_type("text/html; charset=utf-8").body(reference.clone())
            }))
            .boxed(),
        ),
        (
            "/docs/*file",
            get(poem::endpoint::make(move |req: Request| {
                let config = config.clone();
                async move {
                    let tail = req.uri().path().trim_start_matches("/docs/").to_owned();
                    swagger_file(&tail, &config)
                }
            }))
            .boxed(),
        ),
    ];
    if state.bench_ceiling {
        pages.push(("/bench/ceiling", get(ceiling).boxed()));
    }
    let mut routes_table = RouteTable::from_spec(&generated);
    let mut routes = Route::new();
    for (path, endpoint) in pages {
        routes_table.add_router_path(path, &["GET"]);
        routes = routes.at(path, endpoint);
    }
    let routes = routes.nest("/", spec::openapi_service());
    let routes_table = Arc::new(routes_table);
    // The metrics middleware sits outside `.data(state)`: it gets the state from its own layer.
    let state_for_metrics = state.clone();
    let origins = state.cors_allowed_origins.clone();

    let app = state
        .attach(routes)
        .before(|mut req| async move {
            // Where the token check leaves the request's in-flight slot (dropped with the request).
            req.extensions_mut().insert(SlotHolder::default());
            Ok(trim_trailing_slash(req))
        })
        .around(move |next, req| deadline(next, req, limits.request_timeout))
        .around(move |next, req| {
            let routes_table = routes_table.clone();
            async move {
                let (method, path) = (req.method().as_str().to_owned(), req.uri().path().to_owned());
                let metrics = req.data::<Arc<AppState>>().map(|s| s.metrics.clone());
                let started = std::time::Instant::now();
                let _in_flight = metrics.as_ref().map(|m| m.request_started());
                let response = json_errors(next, req, &routes_table).await?;
                if let Some(metrics) = metrics {
                    metrics.record(routes_table.label(&method, &path), response.status().as_u16(), started.elapsed());
                }
                Ok::<_, poem::Error>(response)
            }
        })
        .data(state_for_metrics)
        .data(draining.clone())
        .around(request_id)
        .after(move |response| {
            let draining = draining.clone();
            async move {
                let mut response = response?;
                // (Not on a WebSocket's `101`: its `Connection: upgrade` must stand.)
                if draining.is_on() && response.status() != StatusCode::SWITCHING_PROTOCOLS {
                    response.headers_mut().insert(poem::http::header::CONNECTION, poem::http::HeaderValue::from_static("close"));
                }
                Ok(response)
            }
        });
    Ok(with_cors(app.boxed(), &origins))
}

/// Browsers on the allowed `origins` get CORS headers (poem's middleware): preflights are
/// answered, `Authorization` is allowed, and every answer carries the headers, errors
/// included (it wraps the whole app, outside the JSON error bodies), so that a front end can
/// read a `401`. A request from any other origin, or with none, is served as it is, without
/// CORS headers (poem's middleware alone would refuse it, and the same-origin docs page sends
/// an `Origin` too). No origins: no CORS layer at all.
fn with_cors(app: poem::endpoint::BoxEndpoint<'static, Response>, origins: &[String]) -> poem::endpoint::BoxEndpoint<'static, Response> {
    use poem::http::{HeaderValue, Method, header};
    use poem::middleware::{Cors, Middleware};
    if origins.is_empty() {
        return app;
    }
    let app = Arc::new(app);
    let cors = Cors::new()
        .allow_origins(origins.iter().map(String::as_str))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([header::RETRY_AFTER, header::WWW_AUTHENTICATE, header::HeaderName::from_static("x-request-id")])
        .max_age(600)
        .transform(app.clone());
    let cors = Arc::new(cors);
    let allowed: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    poem::endpoint::make(move |req: Request| {
        let (app, cors) = (app.clone(), cors.clone());
        let from_allowed = req.headers().get(header::ORIGIN).is_some_and(|origin| allowed.contains(origin));
        async move {
            match from_allowed {
                true => cors.call(req).await,
                false => app.call(req).await,
            }
        }
    })
    .boxed()
}

/// A server bound to its address, not yet serving: the address is known (port 0 works).
pub struct BoundServer {
    listener: tokio::net::TcpListener,
    pub addr: SocketAddr,
}

pub async fn bind(addr: SocketAddr) -> std::io::Result<BoundServer> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    Ok(BoundServer { listener, addr })
}

impl BoundServer {
    /// Serves HTTP/1.1 until `shutdown` completes; then drains for `limits.shutdown_drain`
    /// (`/readyz` answers `503`, answers close their connections, the listener still accepts),
    /// stops accepting, lets the requests in flight finish within `limits.shutdown_grace`, and
    /// returns.
    ///
    /// The loop is ours rather than poem's `Server` for the limits it has no setting for: the
    /// header timeout and the connection cap. (HTTP/2 and TLS are the reverse proxy's.)
    pub async fn serve(
        self,
        state: Arc<AppState>,
        limits: Limits,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), String> {
        use hyper_util::rt::{TokioIo, TokioTimer};
        let draining = Draining::default();
        let app = Arc::new(app(state, limits, draining.clone())?.map_to_response().boxed());
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).keep_alive(true);
        let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
        // Shutdown: each connection finishes its request in flight, then closes (hyper's
        // graceful shutdown of the connection); the loop waits for them within the grace period.
        // (hyper-util's `GracefulShutdown` does not take connections with upgrades.)
        let (stopping, stop_watch) = tokio::sync::watch::channel(false);
        let mut connections = tokio::task::JoinSet::new();
        let local = poem::web::LocalAddr(poem::Addr::SocketAddr(self.addr));
        // A connection still in the kernel's queue when the listener closes is reset: the drain
        // is the moment for a load balancer to see `/readyz` fail and stop sending first.
        let shutdown = async move {
            shutdown.await;
            draining.start();
            if !limits.shutdown_drain.is_zero() {
                tracing::info!(drain_seconds = limits.shutdown_drain.as_secs_f64(), "draining: /readyz answers 503, still accepting");
                tokio::time::sleep(limits.shutdown_drain).await;
            }
        };
        tokio::pin!(shutdown);
        tracing::info!(addr = %self.addr, "listening");
        loop {
            // A free slot first: at the cap, new connections wait in the kernel's queue.
            let slot = tokio::select! {
                _ = &mut shutdown => break,
                slot = slots.clone().acquire_owned() => slot.map_err(|e| e.to_string())?,
            };
            let (stream, remote) = tokio::select! {
                _ = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        // Out of file descriptors and the like: wait a little rather than spin.
                        tracing::warn!(error = %err, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let _ = stream.set_nodelay(true);
            let (app, local) = (app.clone(), local.clone());
            let place = ConnectionPlace::new(slot);
            let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let (app, local, place) = (app.clone(), local.clone(), place.clone());
                async move {
                    let mut req = Request::from((req, local, poem::web::RemoteAddr(poem::Addr::SocketAddr(remote)), poem::http::uri::Scheme::HTTP));
                    req.extensions_mut().insert(place.clone());
                    let mut response = app.get_response(req).await;
                    // A live answer gave the connection's place back: it is the connection's last.
                    if place.is_released() {
                        response.headers_mut().insert(poem::http::header::CONNECTION, poem::http::HeaderValue::from_static("close"));
                    }
                    Ok::<_, std::convert::Infallible>(hyper::Response::from(response))
                }
            });
            // With upgrades: SelfCommunity's WebSocket (`/ws/notify`).
            let connection = http.serve_connection(TokioIo::new(stream), service).with_upgrades();
            let mut stop_watch = stop_watch.clone();
            while connections.try_join_next().is_some() {}
            connections.spawn(async move {
                tokio::pin!(connection);
                let ended = tokio::select! {
                    ended = connection.as_mut() => ended,
                    _ = async { stop_watch.wait_for(|stop| *stop).await.map(|_| ()) } => {
                        connection.as_mut().graceful_shutdown();
                        connection.await
                    }
                };
                if let Err(err) = ended {
                    tracing::debug!(error = %err, "connection ended");
                }
            });
        }
        // No new connections from here; idle ones close now, busy ones after their answer.
        drop(self.listener);
        tracing::info!(grace_seconds = limits.shutdown_grace.as_secs_f64(), "stopping: finishing requests in flight");
        let _ = stopping.send(true);
        let drained = async { while connections.join_next().await.is_some() {} };
        if tokio::time::timeout(limits.shutdown_grace, drained).await.is_err() {
            tracing::warn!("grace period over: closing the connections still open");
            connections.abort_all();
        }
        Ok(())
    }
}

/// Resolves on SIGTERM or Ctrl-C. The handlers are installed when this is called, not when the
/// future is first polled: a signal that comes while the server starts is not lost.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let (mut terminate, mut interrupt) = {
        use tokio::signal::unix::{SignalKind, signal};
        (signal(SignalKind::terminate()).ok(), signal(SignalKind::interrupt()).ok())
    };
    async move {
        #[cfg(unix)]
        {
            let terminate = async {
                match terminate.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            };
            let interrupt = async {
                match interrupt.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = terminate => {},
                _ = interrupt => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down");
    }
}
