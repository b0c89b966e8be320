//! The test harness: the real application on port 0, on a fresh database per test.
//!
//! SQLite (a temporary file) by default. With `TEST_POSTGRES_URL` set to a PostgreSQL server's
//! admin URL (`postgres://USER@HOST:PORT/postgres`), every test gets a fresh database there.

use connections_api::app;
use connections_api::http::tokens::Authenticator;
use connections_api::app::config::{Config, TokenConfig};
use connections_api::domain::{Action, Relation};
use connections_api::db::connection::Repo;
use connections_api::db::entities::users::Model as User;
use connections_api::db::sqlite::Durability;
use connections_api::server;
use connections_api::features::webhooks::WebhookSettings;
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;

pub const SECRET: &[u8] = b"test-secret-that-is-long-enough-for-hs256";

pub struct TestApp {
    pub base: String,
    pub database_url: String,
    pub client: reqwest::Client,
    pub repo: Repo,
    pub auth: Authenticator,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: Option<tempfile::TempDir>,
}

/// What a test server may be started with beyond the defaults: no per-user limits (unlike
/// `serve`'s defaults), the HTTP layer's default limits.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    pub limits: server::Limits,
    pub actions_per_minute: Option<u32>,
    pub in_flight_per_user: Option<u32>,
    /// A browser origin allowed to call the API (`CORS_ALLOWED_ORIGINS`).
    pub cors_origin: Option<&'static str>,
    /// Webhooks: call loopback targets (the tests' receivers), a schedule of this many retries
    /// `retry_ms` apart (none: SelfCommunity's), an attempt's limit (none: 10 s).
    pub webhook_private_targets: bool,
    pub webhook_retries: Option<(usize, u64)>,
    pub webhook_timeout_ms: Option<u64>,
    /// Sockets and streams one user may hold open (none: the default).
    pub live_max_per_user: Option<usize>,
    /// Events held in memory for sockets and streams (none: the default).
    pub live_backlog: Option<usize>,
    /// How often an idle socket is pinged, in milliseconds (none: the default).
    pub live_ping_ms: Option<u64>,
    /// Start in follow mode (a fresh database's), not friendship mode.
    pub follow_mode: bool,
}

/// A database URL for one test, and what keeps it alive.
pub async fn fresh_database() -> (String, Option<tempfile::TempDir>) {
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(admin) if !admin.is_empty() => {
            let name = format!("t_{}", connections_api::http::tokens::random_hex(8));
            let db = Database::connect(&admin).await.expect("connect to TEST_POSTGRES_URL");
            db.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create test database");
            db.close().await.ok();
            let (server, _) = admin.rsplit_once('/').expect("admin URL ends with /DATABASE");
            (format!("{server}/{name}"), None)
        }
        _ => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("test.sqlite3").display());
            (url, Some(dir))
        }
    }
}

impl TestApp {
    /// The server, migrated, in friendship mode.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(Options::default()).await
    }

    /// The same, with these options (HTTP limits, per-user limits, CORS, webhooks).
    pub async fn spawn_with(options: Options) -> TestApp {
        // The server's warnings and errors show in a failing test's output.
        let _ = tracing_subscriber::fmt().with_env_filter("warn").with_test_writer().try_init();
        let (url, dir) = fresh_database().await;
        let repo = Repo::connect(&url).await.expect("connect");
        repo.migrate().await.expect("migrate");
        if !options.follow_mode {
            repo.set_preference("configurations", "follow_enabled", "false").await.unwrap();
        }
        Self::start(url, repo, dir, options).await
    }

    /// The server, migrated, in follow mode (as a fresh database is).
    pub async fn spawn_in_follow_mode() -> TestApp {
        Self::spawn_with(Options { follow_mode: true, ..Options::default() }).await
    }

    /// The same, with the actions limited to `per_minute` per user.
    pub async fn spawn_with_rate_limit(per_minute: u32) -> TestApp {
        Self::spawn_with(Options { actions_per_minute: Some(per_minute), ..Options::default() }).await
    }

    /// A second server process-alike on the same database, as several instances would run.
    pub async fn another_instance(&self) -> TestApp {
        self.another_instance_with(Options::default()).await
    }

    /// The same, with these options.
    pub async fn another_instance_with(&self, options: Options) -> TestApp {
        let repo = Repo::connect(&self.database_url).await.expect("connect");
        Self::start(self.database_url.clone(), repo, None, options).await
    }

    /// The application as `serve` builds it (`app::build`), on port 0.
    async fn start(url: String, repo: Repo, dir: Option<tempfile::TempDir>, options: Options) -> TestApp {
        let tokens = TokenConfig {
            secret: Some(String::from_utf8(SECRET.to_vec()).expect("the test secret is text")),
            previous_secrets: Vec::new(),
            public_key: None,
            issuer: None,
            audience: Vec::new(),
            leeway_seconds: 30,
        };
        let config = Config {
            database_url: url.clone(),
            durability: Durability::default(),
            bind: "127.0.0.1:0".parse().unwrap(),
            tokens: tokens.clone(),
            demo: None,
            trust_forwarded_headers: false,
            cors_allowed_origins: options.cors_origin.map(|o| vec![o.to_owned()]).unwrap_or_default(),
            bench_ceiling: false,
            rate_limit_actions: options.actions_per_minute.unwrap_or(0),
            max_in_flight_per_user: options.in_flight_per_user.unwrap_or(0),
            limits: options.limits,
            webhooks: webhook_settings(&options),
            live: connections_api::features::live::hub::LiveSettings {
                max_per_user: options.live_max_per_user.unwrap_or(connections_api::features::live::hub::LiveSettings::default().max_per_user),
                backlog: options.live_backlog.unwrap_or(connections_api::features::live::hub::LiveSettings::default().backlog),
                ping_interval: options
                    .live_ping_ms
                    .map_or(connections_api::features::live::hub::LiveSettings::default().ping_interval, std::time::Duration::from_millis),
                ..Default::default()
            },
        };
        let application = app::build(config).await.expect("the application builds");
        let base = format!("http://{}", application.addr());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(application.run_until(async move {
            rx.await.ok();
        }));
        let auth = app::authenticator(&tokens).expect("the test tokens' verifier");
        // No proxy from the environment: the tests talk to the server on loopback, directly.
        let client = reqwest::Client::builder().no_proxy().build().expect("a client");
        TestApp { base, database_url: url, client, repo, auth, shutdown: Some(tx), _dir: dir }
    }

    /// Shuts the server down as SIGTERM does (the database stays).
    pub fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    pub async fn user(&self, username: &str) -> User {
        self.repo.create_user(username, &format!("{username} Real")).await.expect("create user")
    }

    pub fn token(&self, user: &User) -> String {
        self.auth.issue(user.id, 600)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// `POST /api/v2/user/{id}/connection/request/` as `caller`, as the SDK sends it.
    pub async fn request(&self, caller: &User, target: i64) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/api/v2/user/{target}/connection/request/")))
            .bearer_auth(self.token(caller))
            .header("Content-Type", "application/json")
            .send()
            .await
            .expect("send")
    }

    /// `POST path` as `caller`, with no body.
    pub async fn post(&self, caller: &User, path: &str) -> reqwest::Response {
        self.client.post(self.url(path)).bearer_auth(self.token(caller)).send().await.expect("send")
    }

    /// `GET path` as `caller`.
    pub async fn get(&self, caller: &User, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).bearer_auth(self.token(caller)).send().await.expect("send")
    }

    /// `POST path` as `caller` with a JSON body.
    pub async fn post_json(&self, caller: &User, path: &str, body: &Value) -> reqwest::Response {
        self.client.post(self.url(path)).bearer_auth(self.token(caller)).json(body).send().await.expect("send")
    }

    /// Acts through the repository, not HTTP: a test's setting up, quicker than a request.
    pub async fn act(&self, caller: &User, other: &User, action: Action) {
        self.repo
            .apply(caller.id, other.id, action)
            .await
            .expect("database")
            .expect("action allowed in this state");
    }

    /// Brings the pair into `relation` (seen from `a`), from nothing, through the repository.
    pub async fn set_up(&self, a: &User, b: &User, relation: Relation) {
        match relation {
            Relation::None => {}
            Relation::SentPending => self.act(a, b, Action::Request).await,
            Relation::SentRejected => {
                self.act(a, b, Action::Request).await;
                self.act(b, a, Action::Reject).await;
            }
            Relation::ReceivedPending => self.act(b, a, Action::Request).await,
            Relation::ReceivedRejected => {
                self.act(b, a, Action::Request).await;
                self.act(a, b, Action::Reject).await;
            }
            Relation::Connected => {
                self.act(a, b, Action::Request).await;
                self.act(b, a, Action::Accept).await;
            }
        }
        assert_eq!(self.relation(a, b).await, relation, "set-up");
    }

    pub async fn relation(&self, caller: &User, other: &User) -> Relation {
        self.repo.relation(caller.id, other.id).await.expect("read relation")
    }

    /// Waits (a bounded poll, not a pause) until `sample` in this server's `/metrics` is `value`.
    pub async fn wait_for_metric(&self, sample: &str, value: f64) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let text = self.client.get(self.url("/metrics")).send().await.unwrap().text().await.unwrap();
            let now = text.lines().find_map(|line| line.strip_prefix(sample)?.strip_prefix(' ')?.trim().parse::<f64>().ok());
            if now == Some(value) {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "{sample} is {now:?}, not {value}, after 60 s");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Changes a preference the way the operator does (in the database), then waits until the
    /// servers' cached community mode has expired: the contract allows up to a second.
    pub async fn set_preference(&self, name: &str, value: bool) {
        self.repo.set_preference("configurations", name, &value.to_string()).await.unwrap();
        tokio::time::sleep(connections_api::db::mode::MODE_CACHE_TTL + std::time::Duration::from_millis(50)).await;
    }
}

/// Status and JSON body of an answer; fails when it is not JSON.
fn webhook_settings(options: &Options) -> WebhookSettings {
    let mut settings = WebhookSettings { allow_private_targets: options.webhook_private_targets, ..Default::default() };
    if let Some((retries, ms)) = options.webhook_retries {
        settings.retry_schedule = vec![std::time::Duration::from_millis(ms); retries];
    }
    if let Some(ms) = options.webhook_timeout_ms {
        settings.timeout = std::time::Duration::from_millis(ms);
    }
    settings
}

pub async fn json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = response.text().await.expect("body");
    assert!(content_type.starts_with("application/json"), "{status}: content-type {content_type:?}, body {text:?}");
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}: body is not JSON ({e}): {text:?}"));
    (status, body)
}

/// Asserts the contract's error body with this status and code (general or field error).
pub async fn assert_error(response: reqwest::Response, status: u16, code: &str) -> Value {
    let (got, body) = json(response).await;
    assert_eq!(got, status, "status, body {body}");
    let errors = body["errors"].as_array().unwrap_or_else(|| panic!("no errors list: {body}"));
    assert_eq!(errors.len(), 1, "{body}");
    let error = &errors[0];
    let found = error["code"].as_str().or_else(|| error["messages"][0]["code"].as_str());
    assert_eq!(found, Some(code), "{body}");
    let message = error["message"].as_str().or_else(|| error["messages"][0]["message"].as_str());
    assert!(message.is_some_and(|m| !m.is_empty()), "a message for people: {body}");
    body
}

pub fn status_of(body: &Value) -> Option<&str> {
    body.get("connection_status").expect("connection_status is present, even when null").as_str()
}
