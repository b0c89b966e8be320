//! What the server holds for its requests: the HTTP kit, each feature's state (attached to every
//! route as poem data, where each feature's operations find their own), and its own: the
//! database for `/readyz` and `/metrics`, the metrics, CORS and the benchmark's ceiling.

use std::sync::Arc;

use poem::{Endpoint, EndpointExt};

use crate::db::connection::Repo;
use crate::features::{connections, follows, hidden, live, notifications, suggestions, users, webhooks};
use crate::http::kit::Kit;
use crate::http::metrics::Metrics;

#[derive(Debug)]
pub struct AppState {
    pub kit: Arc<Kit>,
    /// The database: `/readyz` pings it, `/metrics` reads its pool's use.
    pub repo: Repo,
    /// Browser origins answered with CORS headers (see `server::with_cors`).
    pub cors_allowed_origins: Vec<String>,
    /// Serve `GET /bench/ceiling` (see `server/mod.rs`): only for benchmarks.
    pub bench_ceiling: bool,
    pub metrics: Arc<Metrics>,
    pub connections: Arc<connections::api::State>,
    pub follows: Arc<follows::api::State>,
    pub suggestions: Arc<suggestions::api::State>,
    pub users: Arc<users::api::State>,
    pub hidden: Arc<hidden::api::State>,
    pub notifications: Arc<notifications::api::State>,
    pub webhooks: Arc<webhooks::api::State>,
    pub live: Arc<live::hub::State>,
}

impl AppState {
    /// `endpoint` with every state as poem data: the server's, the kit's (the security
    /// scheme's checker reads it) and each feature's.
    pub fn attach<E: Endpoint>(self: &Arc<Self>, endpoint: E) -> impl Endpoint<Output = E::Output> + use<E> {
        endpoint
            .data(self.clone())
            .data(self.kit.clone())
            .data(self.connections.clone())
            .data(self.follows.clone())
            .data(self.suggestions.clone())
            .data(self.users.clone())
            .data(self.hidden.clone())
            .data(self.notifications.clone())
            .data(self.webhooks.clone())
            .data(self.live.clone())
    }
}
