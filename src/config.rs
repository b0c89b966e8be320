//! Settings from flags and the environment, checked once at start. A bad one stops the
//! program with one line that names it.

use std::net::SocketAddr;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://connections.sqlite3";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_JWT_LEEWAY_SECONDS: u64 = 30;

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

/// Everything `serve` needs.
#[derive(Clone)]
pub struct Settings {
    pub database_url: String,
    pub bind: SocketAddr,
    /// `None` only in demo mode, where a random secret is made for the process.
    pub jwt_secret: Option<String>,
    pub jwt_leeway_seconds: u64,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact_url(&self.database_url))
            .field("bind", &self.bind)
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "<set>"))
            .field("jwt_leeway_seconds", &self.jwt_leeway_seconds)
            .finish()
    }
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
    let algorithm = crate::auth::public_key_algorithm(algorithm).ok_or_else(|| {
        ConfigError::new(
            "JWT_ALGORITHM",
            format!("{algorithm:?} is not a public-key algorithm (expected one of {})", crate::auth::PUBLIC_KEY_ALGORITHMS.join(", ")),
        )
    })?;
    let pem = std::fs::read(path)
        .map_err(|e| ConfigError::new("JWT_PUBLIC_KEY_FILE", format!("cannot read {}: {e}", path.display())))?;
    // Parsed here too, so a wrong key stops the start with its setting named.
    crate::auth::Authenticator::without_secret(0)
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
}
