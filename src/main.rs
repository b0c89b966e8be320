//! `connections-api`: the server and the operator's command line.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use connections_api::api::{AppState, spec};
use connections_api::auth::{Authenticator, random_hex};
use connections_api::config::{self, ConfigError, Settings};
use connections_api::repo::{Durability, Repo};
use connections_api::server;
use connections_api::service::{CONNECTION_ENABLED, Connections, FOLLOW_ENABLED};

#[derive(Parser)]
#[command(name = "connections-api", version, about = "SelfCommunity-compatible connections API server")]
struct Cli {
    /// Database: sqlite://FILE (created if missing) or postgres://USER:PASSWORD@HOST/DB.
    #[arg(long, env = "DATABASE_URL", default_value = config::DEFAULT_DATABASE_URL, global = true, hide_env_values = true)]
    database_url: String,

    /// SQLite only: how a commit reaches the disk. `full` (the default) flushes every commit
    /// (one flush per group of writes) so a power loss loses nothing acknowledged; `normal`
    /// flushes at checkpoints only, so a power loss may lose the last commits (a killed
    /// process still loses nothing).
    #[arg(long, env = "SQLITE_SYNCHRONOUS", value_enum, default_value_t = Synchronous::Full, global = true)]
    sqlite_synchronous: Synchronous,

    #[command(subcommand)]
    command: Command,
}

/// `SQLITE_SYNCHRONOUS`'s values.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Synchronous {
    Full,
    Normal,
}

impl From<Synchronous> for Durability {
    fn from(value: Synchronous) -> Self {
        match value {
            Synchronous::Full => Durability::Full,
            Synchronous::Normal => Durability::Normal,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database, then serve the API, /openapi.yaml, /openapi.json and /docs/.
    Serve(ServeArgs),
    /// Create or upgrade the schema, then exit.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Print an access token for a user, signed with JWT_SECRET.
    Token {
        user_id: i64,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: u64,
    },
    /// Show or change community preferences.
    #[command(subcommand)]
    Preference(PreferenceCommand),
    /// Fill an empty database in bulk (benchmarks, demos): users `user1`..`userN`, then
    /// connections and pending requests between them.
    Seed {
        #[arg(long, default_value_t = 10_000)]
        users: u64,
        #[arg(long, default_value_t = 0)]
        connections: u64,
        #[arg(long, default_value_t = 0)]
        requests: u64,
    },
    /// Write the docs site's pages (docs/api/*.md, docs/connections.md) from openapi.yaml.
    Docs {
        /// The docs folder to write into.
        #[arg(long, default_value = "docs")]
        out: std::path::PathBuf,
    },
    /// Print the spec generated from the code (what the drift test compares with openapi.yaml).
    Openapi {
        /// Print JSON instead of YAML.
        #[arg(long)]
        json: bool,
    },
}

/// `serve`'s settings.
#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "BIND", default_value = config::DEFAULT_BIND)]
    bind: String,
    /// Seed demo users on an empty database, turn friendship mode on, print a token per
    /// demo user. Without JWT_SECRET, a random secret is made for this process.
    #[arg(long)]
    demo: bool,
    #[command(flatten)]
    jwt: JwtArgs,
    /// Build page URLs from X-Forwarded-Proto and X-Forwarded-Host: only behind a reverse
    /// proxy that sets them.
    #[arg(long, env = "TRUST_FORWARDED_HEADERS")]
    trust_forwarded_headers: bool,
    /// Also serve GET /bench/ceiling (token check, constant answer, no database): the
    /// framework's own limit, for `make bench`. Not part of the API.
    #[arg(long, hide = true)]
    bench_ceiling: bool,
    /// Actions (request, accept, ...) one user may make per minute on this instance; 0: no
    /// limit. Past it: 429 with Retry-After.
    #[arg(long, env = "RATE_LIMIT_ACTIONS", default_value_t = 600)]
    rate_limit_actions: u32,
    /// Requests one user may have in flight at once on this instance; 0: no cap. Past it:
    /// 429 with Retry-After.
    #[arg(long, env = "MAX_IN_FLIGHT_PER_USER", default_value_t = 32)]
    max_in_flight_per_user: u32,
    #[command(flatten)]
    limits: LimitArgs,
}

/// How tokens are verified. JWT_SECRET (HS256, SelfCommunity's own tokens) and
/// JWT_PREVIOUS_SECRETS come from the environment only, never from flags.
#[derive(clap::Args)]
struct JwtArgs {
    /// Seconds of clock skew allowed on a token's `exp` and `nbf`.
    #[arg(long, env = "JWT_LEEWAY", default_value_t = config::DEFAULT_JWT_LEEWAY_SECONDS)]
    jwt_leeway: u64,
    /// Also accept tokens from an identity provider: its PEM public key (RSA, P-256/P-384 or
    /// Ed25519). JWT_SECRET is then optional.
    #[arg(long, env = "JWT_PUBLIC_KEY_FILE")]
    jwt_public_key_file: Option<std::path::PathBuf>,
    /// The algorithm of JWT_PUBLIC_KEY_FILE: RS256, RS384, RS512, PS256, PS384, PS512, ES256,
    /// ES384 or EdDSA.
    #[arg(long, env = "JWT_ALGORITHM")]
    jwt_algorithm: Option<String>,
    /// Accept only tokens whose `iss` claim is this.
    #[arg(long, env = "JWT_ISSUER")]
    jwt_issuer: Option<String>,
    /// Accept only tokens whose `aud` claim names one of these (comma-separated).
    #[arg(long, env = "JWT_AUDIENCE", value_delimiter = ',')]
    jwt_audience: Vec<String>,
}

/// The HTTP layer's limits (see `server::Limits`).
#[derive(clap::Args)]
struct LimitArgs {
    /// Seconds a client has to send a request's header (and an idle connection stays open).
    #[arg(long, env = "HEADER_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    header_timeout: u64,
    /// Seconds a request has to send its body (else 408) and be answered (else 503).
    #[arg(long, env = "REQUEST_TIMEOUT", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    request_timeout: u64,
    /// Seconds requests in flight may still take after SIGTERM, before the process exits.
    #[arg(long, env = "SHUTDOWN_GRACE", default_value_t = 10)]
    shutdown_grace: u64,
    /// Open connections at most; more wait until one closes.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..))]
    max_connections: u64,
}

impl LimitArgs {
    fn limits(&self) -> server::Limits {
        server::Limits {
            header_timeout: std::time::Duration::from_secs(self.header_timeout),
            request_timeout: std::time::Duration::from_secs(self.request_timeout),
            shutdown_grace: std::time::Duration::from_secs(self.shutdown_grace),
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
        }
    }
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user and print their id, alone, on stdout.
    Create {
        username: String,
        #[arg(long, default_value = "")]
        real_name: String,
    },
    /// Mark a user deleted: their relations stop counting.
    Delete { id: i64 },
}

#[derive(Subcommand)]
enum PreferenceCommand {
    /// Set SECTION.NAME to VALUE (JSON: true, false, a number; anything else is a string).
    Set { key: String, value: String },
    /// List every preference.
    List,
}

/// A failure to report in one line.
struct Failure(String);

impl From<ConfigError> for Failure {
    fn from(err: ConfigError) -> Self {
        Failure(err.to_string())
    }
}

impl From<connections_api::repo::RepoError> for Failure {
    fn from(err: connections_api::repo::RepoError) -> Self {
        Failure(err.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr);
    // LOG_FORMAT=json: one JSON object a line, with the request's span (its X-Request-Id).
    if std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        logs.json().with_current_span(true).with_span_list(false).init();
    } else {
        logs.init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn jwt_secret_from_env() -> Option<String> {
    std::env::var("JWT_SECRET").ok()
}

async fn open_database(url: &str, synchronous: Synchronous) -> Result<Repo, Failure> {
    config::check_database_url(url)?;
    let repo = Repo::connect_with(url, synchronous.into()).await.map_err(|e| {
        ConfigError::new("DATABASE_URL", format!("cannot open {}: {e}", config::redact_url(url)))
    })?;
    repo.migrate().await.map_err(|e| {
        ConfigError::new("DATABASE_URL", format!("cannot migrate {}: {e}", config::redact_url(url)))
    })?;
    Ok(repo)
}

async fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Openapi { json } => {
            let text = if json {
                spec::generate().and_then(|s| serde_json::to_string_pretty(&s)).map_err(|e| Failure(e.to_string()))?
            } else {
                spec::generate_yaml().map_err(Failure)?
            };
            print!("{text}");
            Ok(())
        }
        Command::Seed { users, connections, requests } => {
            let repo = open_database(&cli.database_url, cli.sqlite_synchronous).await?;
            let started = std::time::Instant::now();
            let seeded = repo.seed(users, connections, requests).await?;
            eprintln!(
                "seeded {} users, {} connections, {} requests in {:.1} s",
                seeded.users,
                seeded.connections,
                seeded.requests,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Docs { out } => {
            let spec: serde_json::Value = serde_yaml::from_str(server::OPENAPI_YAML)
                .map_err(|e| Failure(format!("openapi.yaml does not parse: {e}")))?;
            for page in connections_api::docs::generate(&spec) {
                let path = out.join(&page.path);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| Failure(format!("{}: {e}", dir.display())))?;
                }
                std::fs::write(&path, page.text).map_err(|e| Failure(format!("{}: {e}", path.display())))?;
                eprintln!("wrote {}", path.display());
            }
            Ok(())
        }
        Command::Migrate => {
            open_database(&cli.database_url, cli.sqlite_synchronous).await?;
            eprintln!("migrated {}", config::redact_url(&cli.database_url));
            Ok(())
        }
        Command::User(UserCommand::Create { username, real_name }) => {
            let repo = open_database(&cli.database_url, cli.sqlite_synchronous).await?;
            let user = repo.create_user(&username, &real_name).await?;
            println!("{}", user.id);
            Ok(())
        }
        Command::User(UserCommand::Delete { id }) => {
            let repo = open_database(&cli.database_url, cli.sqlite_synchronous).await?;
            if repo.delete_user(id).await? {
                Ok(())
            } else {
                Err(Failure(format!("no user {id} (or already deleted)")))
            }
        }
        Command::Token { user_id, ttl } => {
            let secret = config::check_jwt_secret(jwt_secret_from_env(), false)?.unwrap_or_default();
            let auth = Authenticator::new(secret.as_bytes(), config::DEFAULT_JWT_LEEWAY_SECONDS);
            println!("{}", auth.issue(user_id, ttl));
            Ok(())
        }
        Command::Preference(PreferenceCommand::Set { key, value }) => {
            let repo = open_database(&cli.database_url, cli.sqlite_synchronous).await?;
            let (section, name) = key
                .split_once('.')
                .filter(|(s, n)| !s.is_empty() && !n.is_empty())
                .ok_or_else(|| Failure(format!("{key:?}: expected SECTION.NAME, e.g. configurations.follow_enabled")))?;
            let json = preference_value(section, name, &value)?;
            repo.set_preference(section, name, &json).await?;
            Ok(())
        }
        Command::Preference(PreferenceCommand::List) => {
            let repo = open_database(&cli.database_url, cli.sqlite_synchronous).await?;
            for p in repo.preferences().await? {
                println!("{}.{} = {}", p.section, p.name, p.value);
            }
            Ok(())
        }
        Command::Serve(args) => serve(&cli.database_url, cli.sqlite_synchronous, args).await,
    }
}

/// The JSON text stored for a preference. The mode switches take booleans only.
fn preference_value(section: &str, name: &str, value: &str) -> Result<String, Failure> {
    let is_switch = [FOLLOW_ENABLED, CONNECTION_ENABLED].contains(&(section, name));
    match serde_json::from_str::<serde_json::Value>(value) {
        Ok(serde_json::Value::Bool(b)) => Ok(b.to_string()),
        _ if is_switch => Err(Failure(format!("{section}.{name} takes true or false, not {value:?}"))),
        Ok(v @ serde_json::Value::Number(_)) => Ok(v.to_string()),
        _ => Ok(serde_json::Value::from(value).to_string()),
    }
}

async fn serve(database_url: &str, sqlite_synchronous: Synchronous, args: ServeArgs) -> Result<(), Failure> {
    let ServeArgs { bind, demo, jwt, trust_forwarded_headers, bench_ceiling, rate_limit_actions, max_in_flight_per_user, limits } =
        args;
    let limits = limits.limits();
    let shutdown = shutdown_signal();
    let bind = config::parse_bind(&bind)?;
    let public_key = match (&jwt.jwt_public_key_file, &jwt.jwt_algorithm) {
        (Some(path), Some(algorithm)) => Some(config::read_public_key(path, algorithm)?),
        (Some(_), None) => {
            let expected = connections_api::auth::PUBLIC_KEY_ALGORITHMS.join(", ");
            return Err(ConfigError::new("JWT_ALGORITHM", format!("is not set: the algorithm of JWT_PUBLIC_KEY_FILE ({expected})")).into());
        }
        (None, Some(_)) => return Err(ConfigError::new("JWT_ALGORITHM", "is set without JWT_PUBLIC_KEY_FILE").into()),
        (None, None) => None,
    };
    let secret = config::check_jwt_secret(jwt_secret_from_env(), demo || public_key.is_some())?;
    let settings = Settings {
        database_url: database_url.to_owned(),
        bind,
        jwt_secret: secret,
        jwt_leeway_seconds: jwt.jwt_leeway,
    };
    // Listen first: a taken port is reported before the database is touched.
    let bound = server::bind(settings.bind)
        .await
        .map_err(|e| ConfigError::new("BIND", format!("cannot listen on {}: {e}", settings.bind)))?;
    let repo = open_database(&settings.database_url, sqlite_synchronous).await?;
    // Demo mode signs its tokens: without JWT_SECRET it makes a secret for this process.
    let (secret, ephemeral) = match (&settings.jwt_secret, demo) {
        (Some(secret), _) => (Some(secret.clone()), false),
        (None, true) => (Some(random_hex(32)), true),
        (None, false) => (None, false),
    };
    let auth = match &secret {
        Some(secret) => {
            // Key rotation: tokens signed with these still verify; only JWT_SECRET signs.
            let previous = std::env::var("JWT_PREVIOUS_SECRETS").unwrap_or_default();
            let previous: Vec<&[u8]> =
                previous.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::as_bytes).collect();
            Authenticator::new(secret.as_bytes(), settings.jwt_leeway_seconds).with_previous_secrets(previous)
        }
        None => Authenticator::without_secret(settings.jwt_leeway_seconds),
    };
    let auth = match public_key {
        Some((algorithm, pem)) => auth
            .with_public_key(algorithm, &pem)
            .map_err(|e| ConfigError::new("JWT_PUBLIC_KEY_FILE", e))?,
        None => auth,
    };
    let audience: Vec<String> = jwt.jwt_audience.iter().map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()).collect();
    let auth = auth.with_issuer(jwt.jwt_issuer.filter(|i| !i.is_empty())).with_audience(audience);

    if demo {
        seed_demo(&repo, &auth, bound.addr, ephemeral).await?;
    }
    tracing::info!(addr = %bound.addr, database = %config::redact_url(database_url), "serving");
    let state = Arc::new(AppState {
        connections: Connections::new(repo),
        auth,
        trust_forwarded_headers,
        bench_ceiling,
        metrics: Default::default(),
        rate_limit: connections_api::api::rate_limit::RateLimiter::new(rate_limit_actions),
        in_flight: connections_api::api::rate_limit::InFlight::new(max_in_flight_per_user),
    });
    bound.serve(state, limits, shutdown).await.map_err(Failure)
}

async fn seed_demo(repo: &Repo, auth: &Authenticator, addr: std::net::SocketAddr, ephemeral: bool) -> Result<(), Failure> {
    const DEMO_USERS: [(&str, &str); 4] =
        [("alice", "Alice Liddell"), ("bob", "Bob Marley"), ("carol", "Carol King"), ("dave", "Dave Brubeck")];
    if repo.count_users().await? == 0 {
        for (username, real_name) in DEMO_USERS {
            repo.create_user(username, real_name).await?;
        }
    }
    repo.set_preference(FOLLOW_ENABLED.0, FOLLOW_ENABLED.1, "false").await?;
    repo.set_preference(CONNECTION_ENABLED.0, CONNECTION_ENABLED.1, "true").await?;

    println!("Demo mode: friendship mode is on.");
    println!("Docs (Swagger UI): http://{addr}/docs/");
    if ephemeral {
        println!("JWT_SECRET is not set: these tokens are signed with a random secret and last as long as this process.");
    }
    println!("Paste one of these tokens into Authorize (valid 24 hours):");
    for (username, _) in DEMO_USERS {
        if let Some(user) = repo.find_user_by_username(username).await? {
            println!("  {:<6} (id {}): {}", user.username, user.id, auth.issue(user.id, 24 * 3600));
        }
    }
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C. The handlers are installed when this is called, not when the
/// future is first polled: a signal that comes while the server starts is not lost.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
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
