//! The one typed configuration: clap reads every flag and environment variable (nothing else
//! reads the environment), and [`ServeArgs::config`] checks `serve`'s once, into the
//! [`Config`] that [`crate::app::build`] takes whole. A bad setting stops the program with one
//! line that names it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::db::sqlite::Durability;
use crate::server::Limits;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://connections.sqlite3";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_JWT_LEEWAY_SECONDS: u64 = 30;
pub const DEFAULT_RATE_LIMIT_ACTIONS: u32 = 600;
pub const DEFAULT_MAX_IN_FLIGHT_PER_USER: u32 = 32;

/// A setting that cannot be used, named as the operator sets it.
#[derive(Debug, thiserror::Error)]
#[error("{setting}: {message}")]
pub struct ConfigError {
    pub setting: &'static str,
    pub message: String,
}

impl ConfigError {
    pub fn new(setting: &'static str, message: impl Into<String>) -> Self {
        ConfigError { setting, message: message.into() }
    }
}

#[derive(Parser)]
#[command(name = "connections-api", version, about = "SelfCommunity-compatible connections API server")]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub log: LogArgs,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses the command line and the environment; exits with clap's message on a bad one.
    /// A secret given as a flag is refused: flags show in `ps`.
    pub fn parse_checked() -> Result<Cli, ConfigError> {
        use clap::{CommandFactory, FromArgMatches};
        let matches = Cli::command().get_matches();
        if secret_given_as_flag(&matches) {
            return Err(ConfigError::new("JWT_SECRET", "set it in the environment, not as a flag (flags show in `ps`)"));
        }
        Cli::from_arg_matches(&matches).map_err(|e| ConfigError::new("arguments", e.to_string()))
    }
}

fn secret_given_as_flag(matches: &clap::ArgMatches) -> bool {
    let from_flag = |id: &str| {
        matches.try_contains_id(id).unwrap_or(false)
            && matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
    };
    from_flag("jwt_secret") || from_flag("jwt_previous_secrets") || matches.subcommand().is_some_and(|(_, sub)| secret_given_as_flag(sub))
}

/// The database, for `serve` and every operator command.
#[derive(clap::Args, Clone)]
pub struct DatabaseArgs {
    /// Database: sqlite://FILE (created if missing) or postgres://USER:PASSWORD@HOST/DB.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true, hide_env_values = true)]
    pub database_url: String,

    /// SQLite only: how a commit reaches the disk. `full` (the default) flushes each committed
    /// batch before answering it, so a power loss loses nothing acknowledged; `normal` answers
    /// at commit and flushes at checkpoints only, so a power loss may lose the last commits (a
    /// killed process still loses nothing).
    #[arg(long, env = "SQLITE_SYNCHRONOUS", value_enum, default_value_t = Synchronous::Full, global = true)]
    pub sqlite_synchronous: Synchronous,
}

/// `SQLITE_SYNCHRONOUS`'s values.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Synchronous {
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

/// The logs (on stderr).
#[derive(clap::Args, Clone)]
pub struct LogArgs {
    /// Which logs to write, as tracing's filter directives (`info`, `debug`, `connections_api=debug`...).
    /// Default: `info` for `serve`; `warn` for the one-shot commands, which print only their result.
    #[arg(long = "log", env = "RUST_LOG", global = true)]
    pub filter: Option<String>,
    /// `json`: one JSON object a line, with the request's span (its X-Request-Id).
    #[arg(long, env = "LOG_FORMAT", value_enum, ignore_case = true, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
pub enum Command {
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
        /// The community's token signing secret (HS256): from the environment only.
        #[arg(long = "jwt-secret", env = "JWT_SECRET", hide = true, hide_env_values = true)]
        jwt_secret: Option<String>,
    },
    /// Show or change community preferences.
    #[command(subcommand)]
    Preference(PreferenceCommand),
    /// Show or change the community's features (GET /api/v2/feature/).
    #[command(subcommand)]
    Feature(FeatureCommand),
    /// Manage webhook endpoints (the staff API's /api/v2/webhook/endpoint/, from the command line).
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Fill an empty database in bulk (benchmarks, demos): users `user1`..`userN`, then
    /// connections, pending requests and follows between them.
    Seed {
        #[arg(long, default_value_t = 10_000)]
        users: u64,
        #[arg(long, default_value_t = 0)]
        connections: u64,
        #[arg(long, default_value_t = 0)]
        requests: u64,
        /// Follows among users 2 and up, each pair once, in either direction.
        #[arg(long, default_value_t = 0)]
        follows: u64,
        /// Users 2..=N+1 follow user 1, a celebrity (more users are made if needed).
        #[arg(long, default_value_t = 0)]
        celebrity_followers: u64,
    },
    /// Write the docs site's pages (docs/api/*.md, docs/connections.md) from openapi.yaml.
    Docs {
        /// The docs folder to write into.
        #[arg(long, default_value = "docs")]
        out: PathBuf,
    },
    /// Print the spec generated from the code (what the drift test compares with openapi.yaml).
    Openapi {
        /// Print JSON instead of YAML.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user and print their id, alone, on stdout.
    Create {
        username: String,
        #[arg(long, default_value = "")]
        real_name: String,
    },
    /// Mark a user deleted: their relations stop counting.
    Delete { id: i64 },
    /// Make a user staff (admin), or not (none).
    Role {
        id: i64,
        #[arg(value_parser = ["admin", "none"])]
        role: String,
    },
}

#[derive(Subcommand)]
pub enum FeatureCommand {
    /// Turn the feature NAME on (true) or off (false), creating it if new.
    Set {
        name: String,
        #[arg(action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
        enabled: bool,
    },
    /// List every feature.
    List,
}

#[derive(Subcommand)]
pub enum WebhookCommand {
    /// Add an endpoint; print it, with its signing secret, as one JSON object.
    Add {
        url: String,
        /// Event types to deliver (comma-separated); every type by default.
        #[arg(long, value_delimiter = ',')]
        events: Vec<String>,
        #[arg(long, default_value = "")]
        description: String,
        /// Allow a target that is not a public address (as the server's setting).
        #[arg(long = "allow-private-targets", env = "WEBHOOK_ALLOW_PRIVATE_TARGETS", action = clap::ArgAction::Set,
              value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false)]
        allow_private_targets: bool,
    },
    /// Print every endpoint as a JSON array (no secrets).
    List,
    /// Remove an endpoint, its deliveries and its attempts' log.
    Remove { id: i64 },
}

#[derive(Subcommand)]
pub enum PreferenceCommand {
    /// Set SECTION.NAME to VALUE (JSON: true, false, a number; anything else is a string).
    Set { key: String, value: String },
    /// List every preference.
    List,
}

/// The community mode `serve --demo` puts the demo in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DemoMode {
    /// One-way follows (`follow_enabled`), SelfCommunity's default.
    Follow,
    /// Requests and connections (`connection_enabled`).
    Friendship,
}

/// `serve`'s settings, as given.
#[derive(clap::Args, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "BIND", default_value = DEFAULT_BIND)]
    pub bind: String,
    /// Seed demo users on an empty database, put the community in `--demo-mode`, print a
    /// token per demo user. Without JWT_SECRET, a random secret is made for this process.
    #[arg(long)]
    pub demo: bool,
    /// The community mode `--demo` sets: `follow` (SelfCommunity's default) or `friendship`.
    #[arg(long, env = "DEMO_MODE", value_enum, default_value_t = DemoMode::Follow, requires = "demo")]
    pub demo_mode: DemoMode,
    #[command(flatten)]
    pub jwt: JwtArgs,
    /// Build page URLs from X-Forwarded-Proto and X-Forwarded-Host: only behind a reverse
    /// proxy that sets them.
    #[arg(long, env = "TRUST_FORWARDED_HEADERS")]
    pub trust_forwarded_headers: bool,
    /// Origins of front ends on other sites that may call the API from a browser
    /// (comma-separated, e.g. https://community.example.com); none by default.
    #[arg(long, env = "CORS_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub cors_allowed_origins: Vec<String>,
    /// Also serve GET /bench/ceiling (token check, constant answer, no database): the
    /// framework's own limit, for `make bench`. Not part of the API.
    #[arg(long, hide = true)]
    pub bench_ceiling: bool,
    /// Actions (request, accept, ...) one user may make per minute on this instance; 0: no
    /// limit. Past it: 429 with Retry-After.
    #[arg(long, env = "RATE_LIMIT_ACTIONS", default_value_t = DEFAULT_RATE_LIMIT_ACTIONS)]
    pub rate_limit_actions: u32,
    /// Requests one user may have in flight at once on this instance; 0: no cap. Past it:
    /// 429 with Retry-After.
    #[arg(long, env = "MAX_IN_FLIGHT_PER_USER", default_value_t = DEFAULT_MAX_IN_FLIGHT_PER_USER)]
    pub max_in_flight_per_user: u32,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub webhooks: WebhookArgs,
    /// Sockets (`/ws/notify`) and event streams (`/api/v2/stream/`) one user may hold open at
    /// once on this instance; past it, `429 too_many_streams`.
    #[arg(long, env = "LIVE_MAX_PER_USER", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub live_max_per_user: u64,
    /// Sockets and event streams open at once on this instance.
    #[arg(long, env = "LIVE_MAX_TOTAL", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub live_max_total: u64,
}

/// How webhooks are delivered (see `webhooks/`).
#[derive(clap::Args, Clone)]
pub struct WebhookArgs {
    /// Allow webhook targets whose address is loopback, private, link-local or otherwise not
    /// public (on-premise receivers, tests). Off: such targets are refused and never called.
    #[arg(long = "webhook-allow-private-targets", env = "WEBHOOK_ALLOW_PRIVATE_TARGETS", action = clap::ArgAction::Set,
          value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false)]
    pub allow_private_targets: bool,
    /// Seconds between a failed attempt and the next (comma-separated; after the last, the
    /// delivery has failed). SelfCommunity's schedule by default; shorter ones are for tests.
    #[arg(long = "webhook-retry-schedule", env = "WEBHOOK_RETRY_SCHEDULE", value_delimiter = ',', default_value = "5,25,125,625,3125")]
    pub retry_schedule: Vec<f64>,
    /// Seconds an attempt may take, answer included; past it, the attempt failed.
    #[arg(long = "webhook-timeout", env = "WEBHOOK_TIMEOUT", default_value_t = 10.0)]
    pub timeout: f64,
}

impl WebhookArgs {
    fn settings(&self) -> Result<crate::features::webhooks::WebhookSettings, ConfigError> {
        let seconds = |setting: &'static str, value: f64| {
            if value.is_finite() && (0.0..=86_400.0).contains(&value) {
                Ok(Duration::from_secs_f64(value))
            } else {
                Err(ConfigError::new(setting, format!("{value} is not a number of seconds between 0 and 86400")))
            }
        };
        let timeout = seconds("WEBHOOK_TIMEOUT", self.timeout)?;
        if timeout.is_zero() {
            return Err(ConfigError::new("WEBHOOK_TIMEOUT", "must be more than 0 seconds"));
        }
        let retry_schedule =
            self.retry_schedule.iter().map(|s| seconds("WEBHOOK_RETRY_SCHEDULE", *s)).collect::<Result<Vec<_>, _>>()?;
        Ok(crate::features::webhooks::WebhookSettings {
            allow_private_targets: self.allow_private_targets,
            retry_schedule,
            timeout,
            ..Default::default()
        })
    }
}

/// How tokens are verified. JWT_SECRET (HS256, SelfCommunity's own tokens) and
/// JWT_PREVIOUS_SECRETS come from the environment only (a flag is refused).
#[derive(clap::Args, Clone)]
pub struct JwtArgs {
    /// The community's token signing secret (HS256).
    #[arg(long = "jwt-secret", env = "JWT_SECRET", hide = true, hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Retired secrets (comma-separated) whose tokens still verify; only JWT_SECRET signs.
    #[arg(long = "jwt-previous-secrets", env = "JWT_PREVIOUS_SECRETS", hide = true, hide_env_values = true, value_delimiter = ',')]
    pub jwt_previous_secrets: Vec<String>,
    /// Seconds of clock skew allowed on a token's `exp` and `nbf`.
    #[arg(long, env = "JWT_LEEWAY", default_value_t = DEFAULT_JWT_LEEWAY_SECONDS)]
    pub jwt_leeway: u64,
    /// Also accept tokens from an identity provider: its PEM public key (RSA, P-256/P-384 or
    /// Ed25519). JWT_SECRET is then optional.
    #[arg(long, env = "JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key_file: Option<PathBuf>,
    /// The algorithm of JWT_PUBLIC_KEY_FILE: RS256, RS384, RS512, PS256, PS384, PS512, ES256,
    /// ES384 or EdDSA.
    #[arg(long, env = "JWT_ALGORITHM")]
    pub jwt_algorithm: Option<String>,
    /// Accept only tokens whose `iss` claim is this.
    #[arg(long, env = "JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// Accept only tokens whose `aud` claim names one of these (comma-separated).
    #[arg(long, env = "JWT_AUDIENCE", value_delimiter = ',')]
    pub jwt_audience: Vec<String>,
}

/// The HTTP layer's limits (see [`Limits`]); the defaults are [`Limits::DEFAULT`]'s.
#[derive(clap::Args, Clone)]
pub struct LimitArgs {
    /// Seconds a client has to send a request's header (and an idle connection stays open).
    #[arg(long, env = "HEADER_TIMEOUT", default_value_t = Limits::DEFAULT.header_timeout.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout: u64,
    /// Seconds a request has to send its body (else 408) and be answered (else 503).
    #[arg(long, env = "REQUEST_TIMEOUT", default_value_t = Limits::DEFAULT.request_timeout.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout: u64,
    /// Seconds after SIGTERM during which `/readyz` answers 503 while the server still accepts
    /// and serves (a load balancer's time to stop sending), before the listener closes.
    #[arg(long, env = "SHUTDOWN_DRAIN", default_value_t = Limits::DEFAULT.shutdown_drain.as_secs())]
    pub shutdown_drain: u64,
    /// Seconds requests in flight may still take once the listener has closed, before the
    /// process exits.
    #[arg(long, env = "SHUTDOWN_GRACE", default_value_t = Limits::DEFAULT.shutdown_grace.as_secs())]
    pub shutdown_grace: u64,
    /// Open connections at most; more wait until one closes.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = Limits::DEFAULT.max_connections as u64, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: u64,
}

impl LimitArgs {
    fn limits(&self) -> Limits {
        Limits {
            header_timeout: Duration::from_secs(self.header_timeout),
            request_timeout: Duration::from_secs(self.request_timeout),
            shutdown_drain: Duration::from_secs(self.shutdown_drain),
            shutdown_grace: Duration::from_secs(self.shutdown_grace),
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
        }
    }
}

/// Everything [`crate::app::build`] needs, checked.
#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub durability: Durability,
    pub bind: SocketAddr,
    pub tokens: TokenConfig,
    /// Seed demo users in this mode, tokens printed (see [`crate::app::Demo`]).
    pub demo: Option<DemoMode>,
    pub trust_forwarded_headers: bool,
    /// Browser origins answered with CORS headers (exactly these; none: no CORS at all).
    pub cors_allowed_origins: Vec<String>,
    pub bench_ceiling: bool,
    /// Actions per user per minute; 0: no limit.
    pub rate_limit_actions: u32,
    /// Requests in flight per user; 0: no cap.
    pub max_in_flight_per_user: u32,
    pub limits: Limits,
    pub webhooks: crate::features::webhooks::WebhookSettings,
    pub live: crate::features::live::hub::LiveSettings,
}

/// How tokens are verified (and, with a secret, signed).
#[derive(Clone)]
pub struct TokenConfig {
    /// HS256. `None`: only the identity provider's key verifies (or, in demo mode, a random
    /// secret made for the process signs and verifies).
    pub secret: Option<String>,
    pub previous_secrets: Vec<String>,
    pub public_key: Option<(jsonwebtoken::Algorithm, Vec<u8>)>,
    pub issuer: Option<String>,
    pub audience: Vec<String>,
    pub leeway_seconds: u64,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("bind", &self.bind)
            .field("secret", &self.tokens.secret.as_ref().map(|_| "<set>"))
            .field("public_key", &self.tokens.public_key.as_ref().map(|(algorithm, _)| algorithm))
            .field("demo", &self.demo)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl ServeArgs {
    /// Checks every setting, naming the first bad one.
    /// (`DATABASE_URL` is checked where the database is opened, `app::open_database`.)
    pub fn config(self, database: &DatabaseArgs) -> Result<Config, ConfigError> {
        let bind = parse_bind(&self.bind)?;
        let jwt = self.jwt;
        let public_key = match (&jwt.jwt_public_key_file, &jwt.jwt_algorithm) {
            (Some(path), Some(algorithm)) => Some(read_public_key(path, algorithm)?),
            (Some(_), None) => {
                let expected = crate::http::tokens::PUBLIC_KEY_ALGORITHMS.join(", ");
                return Err(ConfigError::new("JWT_ALGORITHM", format!("is not set: the algorithm of JWT_PUBLIC_KEY_FILE ({expected})")));
            }
            (None, Some(_)) => return Err(ConfigError::new("JWT_ALGORITHM", "is set without JWT_PUBLIC_KEY_FILE")),
            (None, None) => None,
        };
        let secret = check_jwt_secret(jwt.jwt_secret, self.demo || public_key.is_some())?;
        let trimmed = |values: Vec<String>| values.into_iter().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).collect();
        Ok(Config {
            database_url: database.database_url.clone(),
            durability: database.sqlite_synchronous.into(),
            bind,
            tokens: TokenConfig {
                secret,
                previous_secrets: trimmed(jwt.jwt_previous_secrets),
                public_key,
                issuer: jwt.jwt_issuer.filter(|i| !i.is_empty()),
                audience: trimmed(jwt.jwt_audience),
                leeway_seconds: jwt.jwt_leeway,
            },
            demo: self.demo.then_some(self.demo_mode),
            trust_forwarded_headers: self.trust_forwarded_headers,
            cors_allowed_origins: check_origins(self.cors_allowed_origins)?,
            bench_ceiling: self.bench_ceiling,
            rate_limit_actions: self.rate_limit_actions,
            max_in_flight_per_user: self.max_in_flight_per_user,
            limits: self.limits.limits(),
            webhooks: self.webhooks.settings()?,
            live: crate::features::live::hub::LiveSettings {
                max_per_user: usize::try_from(self.live_max_per_user).unwrap_or(usize::MAX),
                max_total: usize::try_from(self.live_max_total).unwrap_or(usize::MAX),
                ..Default::default()
            },
        })
    }
}

/// Each origin as a browser sends it: `http` or `https`, a host, an optional port, no path.
pub fn check_origins(values: Vec<String>) -> Result<Vec<String>, ConfigError> {
    let mut origins = Vec::new();
    for value in values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
        let rest = value.strip_prefix("https://").or_else(|| value.strip_prefix("http://"));
        let valid = rest.is_some_and(|host| {
            !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        });
        if !valid {
            return Err(ConfigError::new(
                "CORS_ALLOWED_ORIGINS",
                format!("{value:?} is not an origin (expected SCHEME://HOST[:PORT], e.g. https://community.example.com)"),
            ));
        }
        origins.push(value.to_owned());
    }
    Ok(origins)
}

pub fn parse_bind(value: &str) -> Result<SocketAddr, ConfigError> {
    value.parse().map_err(|_| {
        ConfigError::new("BIND", format!("{value:?} is not an address to listen on (expected HOST:PORT, e.g. 127.0.0.1:8080)"))
    })
}

pub fn check_database_url(url: &str) -> Result<(), ConfigError> {
    if url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(())
    } else {
        Err(ConfigError::new(
            "DATABASE_URL",
            format!("{:?} is not supported (expected sqlite://FILE or postgres://...)", redact_url(url)),
        ))
    }
}

/// The secret must be present and not empty, unless it is `optional` (demo mode, or an
/// identity provider's public key verifies the tokens).
pub fn check_jwt_secret(secret: Option<String>, optional: bool) -> Result<Option<String>, ConfigError> {
    match secret {
        Some(s) if !s.is_empty() => Ok(Some(s)),
        Some(_) => Err(ConfigError::new("JWT_SECRET", "is empty")),
        None if optional => Ok(None),
        None => Err(ConfigError::new(
            "JWT_SECRET",
            "is not set: set it to the community's token signing secret (or set JWT_PUBLIC_KEY_FILE, or run `serve --demo`)",
        )),
    }
}

/// The identity provider's algorithm and PEM public key. Errors name the setting and the
/// file, never the key's content.
pub fn read_public_key(path: &std::path::Path, algorithm: &str) -> Result<(jsonwebtoken::Algorithm, Vec<u8>), ConfigError> {
    let algorithm = crate::http::tokens::public_key_algorithm(algorithm).ok_or_else(|| {
        ConfigError::new(
            "JWT_ALGORITHM",
            format!("{algorithm:?} is not a public-key algorithm (expected one of {})", crate::http::tokens::PUBLIC_KEY_ALGORITHMS.join(", ")),
        )
    })?;
    let pem = std::fs::read(path)
        .map_err(|e| ConfigError::new("JWT_PUBLIC_KEY_FILE", format!("cannot read {}: {e}", path.display())))?;
    // Parsed here too, so a wrong key stops the start with its setting named.
    crate::http::tokens::Authenticator::without_secret(0)
        .with_public_key(algorithm, &pem)
        .map_err(|e| ConfigError::new("JWT_PUBLIC_KEY_FILE", format!("{}: {e}", path.display())))?;
    Ok((algorithm, pem))
}

/// The URL with its password replaced, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let Some((credentials, host)) = rest.rsplit_once('@') else { return url.to_owned() };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(redact_url("postgres://app:s3cret@db:5432/x"), "postgres://app:***@db:5432/x");
        assert_eq!(redact_url("postgres://app@db/x"), "postgres://app@db/x");
        assert_eq!(redact_url("sqlite://connections.sqlite3"), "sqlite://connections.sqlite3");
    }

    #[test]
    fn cors_origins_are_scheme_host_and_port() {
        let given = |v: &[&str]| check_origins(v.iter().map(|s| s.to_string()).collect());
        assert_eq!(given(&["https://a.example", " http://localhost:5173 ", ""]).unwrap(), ["https://a.example", "http://localhost:5173"]);
        for bad in ["a.example", "https://a.example/path", "ftp://a.example", "https://", "*"] {
            assert!(given(&[bad]).unwrap_err().to_string().starts_with("CORS_ALLOWED_ORIGINS: "), "{bad}");
        }
    }

    #[test]
    fn bad_settings_name_themselves() {
        assert!(parse_bind("nope").unwrap_err().to_string().starts_with("BIND: "));
        assert!(check_database_url("mysql://x").unwrap_err().to_string().starts_with("DATABASE_URL: "));
        assert!(check_jwt_secret(None, false).unwrap_err().to_string().starts_with("JWT_SECRET: "));
        assert!(check_jwt_secret(Some(String::new()), true).is_err());
        assert_eq!(check_jwt_secret(None, true).unwrap(), None);
        let key = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/jwt/es256-public.pem"));
        assert!(read_public_key(key, "HS256").unwrap_err().to_string().starts_with("JWT_ALGORITHM: "));
        assert!(read_public_key(key, "RS256").unwrap_err().to_string().starts_with("JWT_PUBLIC_KEY_FILE: "));
        let missing = std::path::Path::new("/nonexistent/key.pem");
        assert!(read_public_key(missing, "ES256").unwrap_err().to_string().starts_with("JWT_PUBLIC_KEY_FILE: cannot read"));
        assert_eq!(read_public_key(key, "ES256").unwrap().0, jsonwebtoken::Algorithm::ES256);
    }

    /// clap checks the whole command line's declarations (every subcommand's), not only those
    /// of the commands a test happens to run.
    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
