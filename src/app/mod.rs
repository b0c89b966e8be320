//! The composition root: [`build`] turns a checked [`Config`] into a bound, ready server. `main`
//! and the test harness both call it, so the tests run the production wiring.

use std::net::SocketAddr;
use std::sync::Arc;

pub mod config;

use config::{Config, ConfigError, DatabaseArgs, DemoMode, TokenConfig, check_database_url, redact_url};
use crate::db::connection::Repo;
use crate::db::entities::users::Model as User;
use crate::db::error::RepoError;
use crate::db::mode::{CONNECTION_ENABLED, CommunityMode, FOLLOW_ENABLED};
use crate::db::sqlite::Durability;
use crate::features::connections::rules::Connections;
use crate::features::hidden::rules::Hidden;
use crate::features::live::hub::LiveHub;
use crate::features::notifications::rules::Notifications;
use crate::features::users::rules::Users;
use crate::features::webhooks::WebhookSettings;
use crate::features::webhooks::endpoints::WebhookService;
use crate::features::follows::rules::Follows;
use crate::features::suggestions::rules::Suggestions;
use crate::features::{connections, follows, hidden, live, notifications, suggestions, users, webhooks};
use crate::http::kit::Kit;
use crate::http::rate_limit::{InFlight, RateLimiter};
use crate::http::tokens::{Authenticator, random_hex};
use crate::server::state::AppState;
use crate::server::{self, BoundServer, Limits};

/// A server bound to its address, its database open and migrated: [`Application::run_until`]
/// serves it.
pub struct Application {
    server: BoundServer,
    state: Arc<AppState>,
    limits: Limits,
    webhooks: WebhookSettings,
    /// The dispatcher's database handle (the same pool as the service's).
    repo: Repo,
    /// What demo mode seeded (`None` without `--demo`).
    pub demo: Option<Demo>,
}

/// Demo mode's users, each with a token valid 24 hours.
pub struct Demo {
    pub users: Vec<(User, String)>,
    pub mode: DemoMode,
    /// No JWT_SECRET was set: the tokens are signed with a random secret made for this process.
    pub ephemeral_secret: bool,
}

impl Demo {
    /// What `serve --demo` prints: the docs URL and a ready-to-paste token per demo user.
    pub fn banner(&self, addr: SocketAddr) -> String {
        let mut out = match self.mode {
            DemoMode::Follow => "Demo mode: follow mode is on (SelfCommunity's default). For friendship mode: make run MODE=friendship\n",
            DemoMode::Friendship => "Demo mode: friendship mode is on. For follow mode (the default): make run\n",
        }
        .to_owned();
        out += &format!("Docs (Swagger UI): http://{addr}/docs/\n");
        if self.ephemeral_secret {
            out += "JWT_SECRET is not set: these tokens are signed with a random secret and last as long as this process.\n";
        }
        out += "Paste one of these tokens into Authorize (valid 24 hours):\n";
        for (user, token) in &self.users {
            out += &format!("  {:<6} (id {}): {token}\n", user.username, user.id);
        }
        out
    }
}

/// A failure to start, in one line that names its cause.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Database(#[from] RepoError),
}

/// Listens first (a taken port is reported before the database is touched), then opens and
/// migrates the database, then wires the token verifier, the service and the limits.
pub async fn build(config: Config) -> Result<Application, BuildError> {
    let server = server::bind(config.bind)
        .await
        .map_err(|e| ConfigError::new("BIND", format!("cannot listen on {}: {e}", config.bind)))?;
    let repo = open_database(&config.database_url, config.durability).await?;
    // Demo mode signs its tokens: without JWT_SECRET it makes a secret for this process.
    let ephemeral_secret = config.demo.is_some() && config.tokens.secret.is_none();
    let tokens = TokenConfig {
        secret: config.tokens.secret.clone().or_else(|| config.demo.map(|_| random_hex(32))),
        ..config.tokens.clone()
    };
    let auth = authenticator(&tokens)?;
    let demo = match config.demo {
        Some(mode) => Some(Demo { users: seed_demo(&repo, &auth, mode).await?, mode, ephemeral_secret }),
        None => None,
    };
    ensure_file_descriptors(config.limits.max_connections + config.live.max_total);
    tracing::info!(addr = %server.addr, database = %redact_url(&config.database_url), "serving");
    let kit = Arc::new(Kit {
        auth,
        trust_forwarded_headers: config.trust_forwarded_headers,
        rate_limit: RateLimiter::new(config.rate_limit_actions),
        in_flight: InFlight::new(config.max_in_flight_per_user),
        repo: repo.clone(),
    });
    // One mode cache for the process: every feature sees a change at the same moment.
    let mode = CommunityMode::new(repo.clone());
    let state = Arc::new(AppState {
        connections: Arc::new(connections::api::State { kit: kit.clone(), connections: Connections::new(repo.clone(), mode.clone()) }),
        follows: Arc::new(follows::api::State { kit: kit.clone(), follows: Follows::new(repo.clone(), mode.clone()) }),
        suggestions: Arc::new(suggestions::api::State { kit: kit.clone(), suggestions: Suggestions::new(repo.clone(), mode.clone()) }),
        users: Arc::new(users::api::State { kit: kit.clone(), users: Users::new(repo.clone(), mode.clone()) }),
        hidden: Arc::new(hidden::api::State { kit: kit.clone(), hidden: Hidden::new(repo.clone(), mode.clone()) }),
        notifications: Arc::new(notifications::api::State { kit: kit.clone(), notifications: Notifications::new(repo.clone(), mode.clone()) }),
        webhooks: Arc::new(webhooks::api::State {
            kit: kit.clone(),
            webhooks: WebhookService::new(repo.clone(), config.webhooks.allow_private_targets),
        }),
        live: Arc::new(live::hub::State { kit: kit.clone(), live: LiveHub::new(config.live), repo: repo.clone() }),
        kit,
        repo: repo.clone(),
        cors_allowed_origins: config.cors_allowed_origins,
        bench_ceiling: config.bench_ceiling,
        metrics: Default::default(),
    });
    Ok(Application { server, state, limits: config.limits, webhooks: config.webhooks, repo, demo })
}

impl Application {
    /// The address it listens on (the port chosen when bound to port 0).
    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// Serves until `shutdown` completes, then drains (see [`BoundServer::serve`]); the
    /// webhook dispatcher runs beside it and stops with it (an attempt in flight then is made
    /// again after its lease: deliveries are at least once).
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), String> {
        let stop = Arc::new(tokio::sync::Notify::new());
        let live = self.state.live.live.clone();
        let stop_following = Arc::new(tokio::sync::Notify::new());
        let follower = tokio::spawn(live.clone().follow_outbox(self.repo.clone(), stop_following.clone()));
        // Ends with the process (aborted below): it holds nothing that needs a clean stop.
        let revalidator = tokio::spawn(live.clone().revalidate_users(self.repo.clone()));
        // Shutting down ends the sockets and streams first, so that draining does not wait on them.
        let shutdown = async move {
            shutdown.await;
            live.close();
        };
        let dispatcher =
            tokio::spawn(crate::features::webhooks::dispatcher::run(self.repo.clone(), self.webhooks.clone(), self.state.metrics.clone(), stop.clone()));
        let served = self.server.serve(self.state, self.limits, shutdown).await;
        stop.notify_one();
        stop_following.notify_one();
        revalidator.abort();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), follower).await;
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), dispatcher).await;
        served
    }
}

/// Each open connection, ordinary or live, holds a file descriptor: raises the process's soft
/// limit towards `connections` plus room for the database and the webhooks (never above the
/// hard limit), and warns, naming the settings, when even the hard limit is lower.
fn ensure_file_descriptors(connections: usize) {
    const ROOM: u64 = 256;
    let wanted = connections as u64 + ROOM;
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return;
    }
    if limit.rlim_cur < wanted {
        let raised = libc::rlimit { rlim_cur: wanted.min(limit.rlim_max), rlim_max: limit.rlim_max };
        // SAFETY: as above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit = raised;
        }
    }
    if limit.rlim_cur < wanted {
        tracing::warn!(
            open_files = limit.rlim_cur,
            wanted,
            "the open-file limit is below MAX_CONNECTIONS + LIVE_MAX_TOTAL + {ROOM}: raise it (ulimit -n) or lower those"
        );
    }
}

/// The database of `serve` and of every operator command: opened (an SQLite file is created)
/// and migrated; errors name `DATABASE_URL`, without its password.
pub async fn open_database(url: &str, durability: Durability) -> Result<Repo, ConfigError> {
    check_database_url(url)?;
    let repo = Repo::connect_with(url, durability)
        .await
        .map_err(|e| ConfigError::new("DATABASE_URL", format!("cannot open {}: {e}", redact_url(url))))?;
    repo.migrate()
        .await
        .map_err(|e| ConfigError::new("DATABASE_URL", format!("cannot migrate {}: {e}", redact_url(url))))?;
    Ok(repo)
}

/// [`open_database`] with the command line's database settings.
pub async fn open(database: &DatabaseArgs) -> Result<Repo, ConfigError> {
    open_database(&database.database_url, database.sqlite_synchronous.into()).await
}

/// The token verifier: the HS256 secret (and the retired ones that still verify), the identity
/// provider's public key, the required issuer and audience.
pub fn authenticator(tokens: &TokenConfig) -> Result<Authenticator, ConfigError> {
    let auth = match &tokens.secret {
        Some(secret) => Authenticator::new(secret.as_bytes(), tokens.leeway_seconds)
            .with_previous_secrets(tokens.previous_secrets.iter().map(String::as_bytes)),
        None => Authenticator::without_secret(tokens.leeway_seconds),
    };
    let auth = match &tokens.public_key {
        Some((algorithm, pem)) => auth.with_public_key(*algorithm, pem).map_err(|e| ConfigError::new("JWT_PUBLIC_KEY_FILE", e))?,
        None => auth,
    };
    Ok(auth.with_issuer(tokens.issuer.clone()).with_audience(tokens.audience.clone()))
}

const DEMO_USERS: [(&str, &str); 4] =
    [("alice", "Alice Liddell"), ("bob", "Bob Marley"), ("carol", "Carol King"), ("dave", "Dave Brubeck")];

/// On an empty database, the four demo users; the community in `mode`; a token for each.
async fn seed_demo(repo: &Repo, auth: &Authenticator, mode: DemoMode) -> Result<Vec<(User, String)>, RepoError> {
    if repo.count_users().await? == 0 {
        for (username, real_name) in DEMO_USERS {
            repo.create_user(username, real_name).await?;
        }
    }
    let follow = mode == DemoMode::Follow;
    repo.set_preference(FOLLOW_ENABLED.0, FOLLOW_ENABLED.1, if follow { "true" } else { "false" }).await?;
    repo.set_preference(CONNECTION_ENABLED.0, CONNECTION_ENABLED.1, if follow { "false" } else { "true" }).await?;
    let mut users = Vec::new();
    for (username, _) in DEMO_USERS {
        if let Some(user) = repo.find_user_by_username(username).await? {
            let token = auth.issue(user.id, 24 * 3600);
            users.push((user, token));
        }
    }
    Ok(users)
}
