//! The HTTP server: the API, the committed contract, Swagger UI, and the middleware that
//! makes every path and every error look the way the contract says.

use std::net::SocketAddr;
use std::sync::Arc;

use poem::http::{StatusCode, Uri};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::Redirect;
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route, Server, get, handler};

use crate::api::error::{RouteTable, json_errors};
use crate::api::{AppState, spec};

/// The contract as committed: served as it is, and checked against the code by the drift test.
pub const OPENAPI_YAML: &str = include_str!("../openapi.yaml");

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

/// Keeps a client's `X-Request-Id` (visible ASCII, at most 128 characters) or makes one, puts
/// it on the response, and on every log line written while the request is served.
async fn request_id<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    use tracing::Instrument;
    let id = req
        .header("x-request-id")
        .filter(|id| !id.is_empty() && id.len() <= 128 && id.chars().all(|c| c.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| crate::auth::random_hex(8));
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path());
    let mut response = next.call(req).instrument(span).await?.into_response();
    if let Ok(value) = id.parse() {
        response.headers_mut().insert("x-request-id", value);
    }
    Ok(response)
}

/// The largest request body the server reads. No operation needs more than a hundred ids.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// `413` for a body declared larger than `MAX_BODY_BYTES`; a body without a declared length is
/// cut at that size (the operation then finds it malformed).
async fn limit_body<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    use tokio::io::AsyncReadExt;
    let declared = req
        .header("content-length")
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(length) if length > MAX_BODY_BYTES as u64 => {
            return Err(crate::api::error::ApiError::new(crate::api::error::PAYLOAD_TOO_LARGE)
                .with_message(format!("The request body is too large: {MAX_BODY_BYTES} bytes at most."))
                .into());
        }
        Some(_) => {}
        None => {
            let body = req.take_body().into_async_read().take(MAX_BODY_BYTES as u64 + 1);
            req.set_body(poem::Body::from_async_read(body));
        }
    }
    Ok(next.call(req).await?.into_response())
}

/// `GET /healthz`: the process serves requests.
#[handler]
fn healthz() -> Response {
    Response::builder().content_type("application/json").body("{\"status\":\"ok\"}")
}

/// `GET /readyz`: the database answers; `503` with the error body when it does not.
#[handler]
async fn readyz(req: &Request) -> poem::Result<Response> {
    let state = req.data::<Arc<AppState>>().ok_or(poem::error::NotFoundError)?;
    state.connections.repo().ping().await.map_err(crate::api::error::ApiError::from)?;
    Ok(Response::builder().content_type("application/json").body("{\"status\":\"ready\"}"))
}

/// `GET /metrics`: Prometheus text.
#[handler]
fn prometheus(req: &Request) -> poem::Result<Response> {
    let state = req.data::<Arc<AppState>>().ok_or(poem::error::NotFoundError)?;
    let text = state.metrics.render(state.connections.repo().pool_use());
    Ok(Response::builder().content_type("text/plain; version=0.0.4").body(text))
}

/// The framework's own limit, measured by `make bench`: a token check and a constant answer,
/// no database. Only served with `serve --bench-ceiling`.
#[handler]
fn ceiling(req: &Request) -> poem::Result<Response> {
    let state = req.data::<Arc<AppState>>().ok_or(poem::error::NotFoundError)?;
    let token = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .ok_or_else(crate::api::error::ApiError::not_authenticated)?;
    state.auth.verify(token).map_err(crate::api::error::ApiError::from)?;
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
pub fn app(state: Arc<AppState>) -> Result<impl Endpoint, String> {
    let generated = spec::generate().map_err(|e| format!("generating the spec: {e}"))?;
    let mut routes_table = RouteTable::from_spec(&generated);
    for path in ["/openapi.yaml", "/openapi.json", "/docs", "/docs/reference", "/docs/{file}", "/healthz", "/readyz", "/metrics"] {
        routes_table.add(path, &["GET"]);
    }
    let routes_table = Arc::new(routes_table);

    let committed: serde_json::Value =
        serde_yaml::from_str(OPENAPI_YAML).map_err(|e| format!("openapi.yaml does not parse: {e}"))?;
    let committed_json = serde_json::to_string_pretty(&committed).map_err(|e| e.to_string())?;
    let reference = crate::docs::reference_html(&committed);

    let bench_ceiling = state.bench_ceiling;
    // The metrics middleware sits outside `.data(state)`: it gets the state from its own layer.
    let state_for_metrics = state.clone();
    let config = swagger_config();
    let index_config = config.clone();
    let routes = Route::new()
        .at("/openapi.yaml", get(openapi_yaml))
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz))
        .at("/metrics", get(prometheus))
        .at(
            "/openapi.json",
            get(poem::endpoint::make_sync(move |_| {
                Response::builder().content_type("application/json").body(committed_json.clone())
            })),
        )
        .at("/docs", get(poem::endpoint::make_sync(|_| Redirect::permanent("/docs/").into_response())))
        .at(
            "/docs/reference",
            get(poem::endpoint::make_sync(|_| Redirect::permanent("/docs/reference/").into_response())),
        )
        .at(
            "/docs/reference/",
            get(poem::endpoint::make_sync(move |_| {
                Response::builder().content_type("text/html; charset=utf-8").body(reference.clone())
            })),
        )
        .at("/docs/", get(poem::endpoint::make(move |_| {
            let config = index_config.clone();
            async move { swagger_file("", &config) }
        })))
        .at("/docs/*file", get(poem::endpoint::make(move |req: Request| {
            let config = config.clone();
            async move {
                let tail = req.uri().path().trim_start_matches("/docs/").to_owned();
                swagger_file(&tail, &config)
            }
        })))
        .nest("/", spec::openapi_service());
    let routes = if bench_ceiling { routes.at("/bench/ceiling", get(ceiling)) } else { routes };

    Ok(routes
        .data(state)
        .before(|req| async move { Ok(trim_trailing_slash(req)) })
        .around(limit_body)
        .around(move |next, req| {
            let routes_table = routes_table.clone();
            async move {
                let (method, path) = (req.method().as_str().to_owned(), req.uri().path().to_owned());
                let metrics = req.data::<Arc<AppState>>().map(|s| s.metrics.clone());
                let started = std::time::Instant::now();
                let response = json_errors(next, req, &routes_table).await?;
                if let Some(metrics) = metrics {
                    metrics.record(&routes_table.label(&method, &path), response.status().as_u16(), started.elapsed());
                }
                Ok::<_, poem::Error>(response)
            }
        })
        .data(state_for_metrics)
        .around(request_id))
}

/// A server bound to its address, not yet serving: the address is known (port 0 works).
pub struct BoundServer<A> {
    acceptor: A,
    pub addr: SocketAddr,
}

pub async fn bind(addr: SocketAddr) -> std::io::Result<BoundServer<impl Acceptor>> {
    let acceptor = TcpListener::bind(addr.to_string()).into_acceptor().await?;
    let addr = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().copied())
        .unwrap_or(addr);
    Ok(BoundServer { acceptor, addr })
}

impl<A: Acceptor + 'static> BoundServer<A> {
    /// Serves until `shutdown` completes, then lets requests in flight finish.
    pub async fn serve(
        self,
        state: Arc<AppState>,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), String> {
        let app = app(state)?;
        Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(app, shutdown, Some(std::time::Duration::from_secs(10)))
            .await
            .map_err(|e| e.to_string())
    }
}
