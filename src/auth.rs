//! JWT bearer tokens as SelfCommunity issues them: HS256 with the community's shared secret,
//! claims `user_id`, `token_type` = "access", `exp` (plus optional `iat`, `jti`, `nbf`).

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The only token type that may call the API (SelfCommunity also issues `refresh` tokens).
pub const ACCESS: &str = "access";

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub token_type: String,
    pub user_id: i64,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

/// Why a token was refused. The messages go to clients: they name the problem, never the key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("Token is expired.")]
    Expired,
    #[error("Token is not valid yet.")]
    NotYetValid,
    #[error("Token has wrong type: only access tokens are accepted.")]
    WrongType,
    #[error("Token signature does not verify.")]
    BadSignature,
    #[error("Token uses an algorithm this server does not accept.")]
    BadAlgorithm,
    #[error("Token claims are missing or malformed: {0}.")]
    BadClaims(String),
    #[error("Token is malformed.")]
    Malformed,
}

/// Verifies and issues tokens with one shared secret.
#[derive(Clone)]
pub struct Authenticator {
    decoding: DecodingKey,
    /// Secrets that still verify but no longer sign: key rotation without logging anyone out.
    previous: Vec<DecodingKey>,
    encoding: EncodingKey,
    validation: Validation,
}

impl std::fmt::Debug for Authenticator {
    // The keys stay out of every debug print and log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").field("leeway", &self.validation.leeway).finish_non_exhaustive()
    }
}

impl Authenticator {
    pub fn new(secret: &[u8], leeway_seconds: u64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = leeway_seconds;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp"]);
        Authenticator {
            decoding: DecodingKey::from_secret(secret),
            previous: Vec::new(),
            encoding: EncodingKey::from_secret(secret),
            validation,
        }
    }

    /// Also accepts tokens signed with these older secrets (the first secret still signs).
    pub fn with_previous_secrets<'a>(mut self, secrets: impl IntoIterator<Item = &'a [u8]>) -> Self {
        self.previous = secrets.into_iter().map(DecodingKey::from_secret).collect();
        self
    }

    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let mut result = self.verify_with(token, &self.decoding);
        for key in &self.previous {
            if result != Err(TokenError::BadSignature) {
                break;
            }
            result = self.verify_with(token, key);
        }
        result
    }

    fn verify_with(&self, token: &str, key: &DecodingKey) -> Result<Claims, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map_err(|err| match err.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::ImmatureSignature => TokenError::NotYetValid,
                ErrorKind::InvalidSignature => TokenError::BadSignature,
                ErrorKind::InvalidAlgorithm
                | ErrorKind::InvalidAlgorithmName
                | ErrorKind::UnsupportedAlgorithm
                | ErrorKind::MissingAlgorithm => TokenError::BadAlgorithm,
                ErrorKind::MissingRequiredClaim(claim) => TokenError::BadClaims(format!("`{claim}` is required")),
                ErrorKind::InvalidClaimFormat(claim) => TokenError::BadClaims(format!("`{claim}` has the wrong type")),
                ErrorKind::Json(json) => TokenError::BadClaims(json_reason(json)),
                _ => TokenError::Malformed,
            })?;
        if data.claims.token_type != ACCESS {
            return Err(TokenError::WrongType);
        }
        Ok(data.claims)
    }

    /// An access token for `user_id`, valid for `ttl_seconds`.
    pub fn issue(&self, user_id: i64, ttl_seconds: u64) -> String {
        let now = unix_now();
        let claims = Claims {
            token_type: ACCESS.to_owned(),
            user_id,
            exp: now.saturating_add(i64::try_from(ttl_seconds).unwrap_or(i64::MAX)),
            iat: Some(now),
            jti: Some(random_hex(16)),
        };
        // HS256 with an HMAC key cannot fail to sign; an empty string would be refused anyway.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).unwrap_or_default()
    }
}

/// serde's message names the field and what was wrong, and never contains the key.
fn json_reason(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.split(" at line ").next() {
        Some(reason) => reason.to_owned(),
        None => text,
    }
}

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `bytes` random bytes from the operating system, as hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    if getrandom::fill(&mut buf).is_err() {
        // No OS randomness: fall back to the hasher's per-process random keys.
        use std::hash::{BuildHasher, RandomState};
        for (i, chunk) in buf.chunks_mut(8).enumerate() {
            let word = RandomState::new().hash_one(i).to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_and_carry_the_user() {
        // Also proves a crypto backend is compiled in: without one jsonwebtoken panics here.
        let auth = Authenticator::new(b"secret", 30);
        let claims = auth.verify(&auth.issue(42, 60)).expect("own token verifies");
        assert_eq!(claims.user_id, 42);
        assert_eq!(claims.token_type, ACCESS);
    }

    #[test]
    fn another_secret_does_not_verify() {
        let token = Authenticator::new(b"one", 30).issue(1, 60);
        assert_eq!(Authenticator::new(b"two", 30).verify(&token), Err(TokenError::BadSignature));
    }

    #[test]
    fn previous_secrets_verify_but_do_not_sign() {
        let old = Authenticator::new(b"old", 30).issue(5, 60);
        let rotated = Authenticator::new(b"new", 30).with_previous_secrets([b"old".as_slice()]);
        assert_eq!(rotated.verify(&old).map(|c| c.user_id), Ok(5), "an old token still works");
        let fresh = rotated.issue(6, 60);
        assert_eq!(Authenticator::new(b"new", 30).verify(&fresh).map(|c| c.user_id), Ok(6), "the new secret signs");
        assert_eq!(Authenticator::new(b"old", 30).verify(&fresh), Err(TokenError::BadSignature));
        let unknown = Authenticator::new(b"other", 30).issue(7, 60);
        assert_eq!(rotated.verify(&unknown), Err(TokenError::BadSignature));
    }

    #[test]
    fn expiry_honours_the_leeway() {
        let auth = Authenticator::new(b"secret", 30);
        let claims = |exp| Claims { token_type: ACCESS.into(), user_id: 1, exp, iat: None, jti: None };
        let sign = |c: &Claims| jsonwebtoken::encode(&Header::default(), c, &EncodingKey::from_secret(b"secret")).unwrap();
        assert!(auth.verify(&sign(&claims(unix_now() - 10))).is_ok(), "within the leeway");
        assert_eq!(auth.verify(&sign(&claims(unix_now() - 120))), Err(TokenError::Expired));
    }

    #[test]
    fn random_hex_has_the_requested_length() {
        assert_eq!(random_hex(16).len(), 32);
        assert_ne!(random_hex(16), random_hex(16));
    }
}
