//! JWT bearer tokens as SelfCommunity issues them: HS256 with the community's shared secret,
//! claims `user_id`, `token_type` = "access", `exp` (plus optional `iat`, `jti`, `nbf`).
//! Optionally also tokens from an identity provider, verified with its public key
//! (RS256/ES256/EdDSA...), and `iss` / `aud` checks.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The only token type that may call the API (SelfCommunity also issues `refresh` tokens).
pub const ACCESS: &str = "access";

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// Required in HS256 tokens (SelfCommunity's own); an identity provider may leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
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
    #[error("Token was issued by an issuer this server does not accept.")]
    BadIssuer,
    #[error("Token is meant for another audience.")]
    BadAudience,
    #[error("Token claims are missing or malformed: {0}.")]
    BadClaims(String),
    #[error("Token is malformed.")]
    Malformed,
}

/// The asymmetric algorithms an identity provider's key may use (`JWT_ALGORITHM`).
pub const PUBLIC_KEY_ALGORITHMS: &[&str] =
    &["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"];

/// Reads an asymmetric algorithm's name; HMAC algorithms are not public-key algorithms.
pub fn public_key_algorithm(name: &str) -> Option<Algorithm> {
    if !PUBLIC_KEY_ALGORITHMS.contains(&name) {
        return None;
    }
    name.parse().ok()
}

/// Verifies tokens: HS256 with the shared secret(s), and, when configured, one asymmetric
/// algorithm with a public key. Each key is only ever used with its own algorithm, chosen by
/// the token's header, so a token cannot make the server check an HMAC with a public key.
#[derive(Clone)]
pub struct Authenticator {
    /// The current HS256 secret, which signs (`None`: this server verifies only).
    signing: Option<EncodingKey>,
    /// HS256 secrets that verify: the current one first, then older ones (key rotation
    /// without logging anyone out).
    secrets: Vec<DecodingKey>,
    /// An identity provider's public key and the algorithm it signs with.
    public_key: Option<(Algorithm, DecodingKey)>,
    leeway: u64,
    issuer: Option<String>,
    audience: Vec<String>,
}

impl std::fmt::Debug for Authenticator {
    // The keys stay out of every debug print and log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("leeway", &self.leeway)
            .field("secrets", &self.secrets.len())
            .field("public_key", &self.public_key.as_ref().map(|(alg, _)| alg))
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Signs and verifies with one shared secret (HS256).
    pub fn new(secret: &[u8], leeway_seconds: u64) -> Self {
        Authenticator {
            signing: Some(EncodingKey::from_secret(secret)),
            secrets: vec![DecodingKey::from_secret(secret)],
            ..Self::without_secret(leeway_seconds)
        }
    }

    /// Accepts no token until a public key is added: for deployments whose tokens all come
    /// from an identity provider.
    pub fn without_secret(leeway_seconds: u64) -> Self {
        Authenticator {
            signing: None,
            secrets: Vec::new(),
            public_key: None,
            leeway: leeway_seconds,
            issuer: None,
            audience: Vec::new(),
        }
    }

    /// Also accepts tokens signed with these older secrets (the first secret still signs).
    pub fn with_previous_secrets<'a>(mut self, secrets: impl IntoIterator<Item = &'a [u8]>) -> Self {
        self.secrets.truncate(usize::from(self.signing.is_some()));
        self.secrets.extend(secrets.into_iter().map(DecodingKey::from_secret));
        self
    }

    /// Also accepts tokens signed with `algorithm` by the private half of this PEM public key.
    /// The error says what is wrong with the key, never its content.
    pub fn with_public_key(mut self, algorithm: Algorithm, pem: &[u8]) -> Result<Self, String> {
        let key = match algorithm {
            Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 | Algorithm::PS256 | Algorithm::PS384
            | Algorithm::PS512 => DecodingKey::from_rsa_pem(pem),
            Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(pem),
            Algorithm::EdDSA => DecodingKey::from_ed_pem(pem),
            other => return Err(format!("{other:?} is not a public-key algorithm")),
        }
        .map_err(|e| format!("not a PEM public key for {algorithm:?} ({e})"))?;
        self.public_key = Some((algorithm, key));
        Ok(self)
    }

    /// Only tokens whose `iss` is this one are accepted.
    pub fn with_issuer(mut self, issuer: Option<String>) -> Self {
        self.issuer = issuer;
        self
    }

    /// Only tokens whose `aud` names one of these are accepted (empty: `aud` is not checked).
    pub fn with_audience(mut self, audience: Vec<String>) -> Self {
        self.audience = audience;
        self
    }

    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|err| match err.kind() {
            ErrorKind::InvalidAlgorithmName | ErrorKind::UnsupportedAlgorithm | ErrorKind::MissingAlgorithm => {
                TokenError::BadAlgorithm
            }
            _ => TokenError::Malformed,
        })?;
        match (&self.public_key, header.alg) {
            (_, Algorithm::HS256) if !self.secrets.is_empty() => {
                let mut result = Err(TokenError::BadSignature);
                for key in &self.secrets {
                    result = self.verify_with(token, Algorithm::HS256, key);
                    if result != Err(TokenError::BadSignature) {
                        break;
                    }
                }
                let claims = result?;
                // SelfCommunity's own tokens always say what they are: refresh tokens must not pass.
                match claims.token_type.as_deref() {
                    Some(ACCESS) => Ok(claims),
                    Some(_) => Err(TokenError::WrongType),
                    None => Err(TokenError::BadClaims("`token_type` is required".to_owned())),
                }
            }
            (Some((algorithm, key)), alg) if alg == *algorithm => {
                let claims = self.verify_with(token, alg, key)?;
                match claims.token_type.as_deref() {
                    None | Some(ACCESS) => Ok(claims),
                    Some(_) => Err(TokenError::WrongType),
                }
            }
            _ => Err(TokenError::BadAlgorithm),
        }
    }

    fn verify_with(&self, token: &str, algorithm: Algorithm, key: &DecodingKey) -> Result<Claims, TokenError> {
        let mut validation = Validation::new(algorithm);
        validation.leeway = self.leeway;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        let mut required = vec!["exp"];
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        if self.audience.is_empty() {
            validation.validate_aud = false;
        } else {
            validation.set_audience(&self.audience);
            required.push("aud");
        }
        validation.set_required_spec_claims(&required);
        let data = jsonwebtoken::decode::<Claims>(token, key, &validation).map_err(|err| match err.kind() {
            ErrorKind::ExpiredSignature => TokenError::Expired,
            ErrorKind::ImmatureSignature => TokenError::NotYetValid,
            ErrorKind::InvalidSignature => TokenError::BadSignature,
            ErrorKind::InvalidIssuer => TokenError::BadIssuer,
            ErrorKind::InvalidAudience => TokenError::BadAudience,
            ErrorKind::InvalidAlgorithm
            | ErrorKind::InvalidAlgorithmName
            | ErrorKind::UnsupportedAlgorithm
            | ErrorKind::MissingAlgorithm => TokenError::BadAlgorithm,
            ErrorKind::MissingRequiredClaim(claim) => TokenError::BadClaims(format!("`{claim}` is required")),
            ErrorKind::InvalidClaimFormat(claim) => TokenError::BadClaims(format!("`{claim}` has the wrong type")),
            ErrorKind::Json(json) => TokenError::BadClaims(json_reason(json)),
            _ => TokenError::Malformed,
        })?;
        Ok(data.claims)
    }

    /// An access token for `user_id`, valid for `ttl_seconds`, signed with the current secret
    /// (empty when this server has no secret: it would be refused anyway).
    pub fn issue(&self, user_id: i64, ttl_seconds: u64) -> String {
        let Some(signing) = &self.signing else { return String::new() };
        let now = unix_now();
        let claims = Claims {
            token_type: Some(ACCESS.to_owned()),
            user_id,
            exp: now.saturating_add(i64::try_from(ttl_seconds).unwrap_or(i64::MAX)),
            iat: Some(now),
            jti: Some(random_hex(16)),
        };
        // HS256 with an HMAC key cannot fail to sign.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, signing).unwrap_or_default()
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
        assert_eq!(claims.token_type.as_deref(), Some(ACCESS));
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
        let claims = |exp| Claims { token_type: Some(ACCESS.into()), user_id: 1, exp, iat: None, jti: None };
        let sign = |c: &Claims| jsonwebtoken::encode(&Header::default(), c, &EncodingKey::from_secret(b"secret")).unwrap();
        assert!(auth.verify(&sign(&claims(unix_now() - 10))).is_ok(), "within the leeway");
        assert_eq!(auth.verify(&sign(&claims(unix_now() - 120))), Err(TokenError::Expired));
    }

    const ES256_PRIVATE: &[u8] = include_bytes!("../../tests/fixtures/jwt/es256-private.pem");
    const ES256_PUBLIC: &[u8] = include_bytes!("../../tests/fixtures/jwt/es256-public.pem");
    const OTHER_ES256_PRIVATE: &[u8] = include_bytes!("../../tests/fixtures/jwt/other-es256-private.pem");
    const ED25519_PRIVATE: &[u8] = include_bytes!("../../tests/fixtures/jwt/ed25519-private.pem");
    const ED25519_PUBLIC: &[u8] = include_bytes!("../../tests/fixtures/jwt/ed25519-public.pem");
    const RS256_PRIVATE: &[u8] = include_bytes!("../../tests/fixtures/jwt/rs256-private.pem");
    const RS256_PUBLIC: &[u8] = include_bytes!("../../tests/fixtures/jwt/rs256-public.pem");

    fn signed(alg: Algorithm, key: EncodingKey, claims: serde_json::Value) -> String {
        jsonwebtoken::encode(&Header::new(alg), &claims, &key).unwrap()
    }

    fn idp_claims(extra: serde_json::Value) -> serde_json::Value {
        let mut claims = serde_json::json!({"user_id": 9, "exp": unix_now() + 60});
        claims.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        claims
    }

    #[test]
    fn each_public_key_algorithm_verifies_its_own_tokens() {
        let cases = [
            (Algorithm::RS256, RS256_PUBLIC, EncodingKey::from_rsa_pem(RS256_PRIVATE).unwrap()),
            (Algorithm::ES256, ES256_PUBLIC, EncodingKey::from_ec_pem(ES256_PRIVATE).unwrap()),
            (Algorithm::EdDSA, ED25519_PUBLIC, EncodingKey::from_ed_pem(ED25519_PRIVATE).unwrap()),
        ];
        for (alg, public, private) in cases {
            let auth = Authenticator::without_secret(0).with_public_key(alg, public).unwrap();
            let token = signed(alg, private, idp_claims(serde_json::json!({})));
            assert_eq!(auth.verify(&token).map(|c| c.user_id), Ok(9), "{alg:?}");
        }
    }

    #[test]
    fn a_public_key_of_another_kind_is_refused_at_start() {
        let err = Authenticator::without_secret(0).with_public_key(Algorithm::RS256, ES256_PUBLIC).unwrap_err();
        assert!(err.starts_with("not a PEM public key for RS256"), "{err}");
        assert!(Authenticator::without_secret(0).with_public_key(Algorithm::ES256, b"not a key").is_err());
        assert!(Authenticator::without_secret(0).with_public_key(Algorithm::HS256, b"secret").is_err());
        assert_eq!(public_key_algorithm("HS256"), None);
        assert_eq!(public_key_algorithm("EdDSA"), Some(Algorithm::EdDSA));
    }

    #[test]
    fn the_public_key_never_checks_an_hmac_and_the_secret_never_an_es256() {
        let auth = Authenticator::new(b"secret", 0).with_public_key(Algorithm::ES256, ES256_PUBLIC).unwrap();
        // HS256 "signed" with the public key's text as secret: the classic algorithm confusion.
        let confused = signed(Algorithm::HS256, EncodingKey::from_secret(ES256_PUBLIC), idp_claims(serde_json::json!({"token_type": "access"})));
        assert_eq!(auth.verify(&confused), Err(TokenError::BadSignature));
        let wrong_key = signed(Algorithm::ES256, EncodingKey::from_ec_pem(OTHER_ES256_PRIVATE).unwrap(), idp_claims(serde_json::json!({})));
        assert_eq!(auth.verify(&wrong_key), Err(TokenError::BadSignature));
        let rs256 = signed(Algorithm::RS256, EncodingKey::from_rsa_pem(RS256_PRIVATE).unwrap(), idp_claims(serde_json::json!({})));
        assert_eq!(auth.verify(&rs256), Err(TokenError::BadAlgorithm), "only the configured algorithm");
        // Both kinds are accepted side by side.
        assert!(auth.verify(&auth.issue(3, 60)).is_ok());
        let idp = signed(Algorithm::ES256, EncodingKey::from_ec_pem(ES256_PRIVATE).unwrap(), idp_claims(serde_json::json!({})));
        assert!(auth.verify(&idp).is_ok());
        // Without a secret, HS256 is not an accepted algorithm at all.
        let idp_only = Authenticator::without_secret(0).with_public_key(Algorithm::ES256, ES256_PUBLIC).unwrap();
        assert_eq!(idp_only.verify(&auth.issue(3, 60)), Err(TokenError::BadAlgorithm));
        assert_eq!(idp_only.issue(3, 60), "");
    }

    #[test]
    fn issuer_and_audience_are_checked_when_configured() {
        let auth = Authenticator::without_secret(0)
            .with_public_key(Algorithm::EdDSA, ED25519_PUBLIC)
            .unwrap()
            .with_issuer(Some("https://id.example.com".into()))
            .with_audience(vec!["connections".into(), "community".into()]);
        let sign = |extra| signed(Algorithm::EdDSA, EncodingKey::from_ed_pem(ED25519_PRIVATE).unwrap(), idp_claims(extra));
        let good = serde_json::json!({"iss": "https://id.example.com", "aud": "community"});
        assert!(auth.verify(&sign(good)).is_ok());
        let list = serde_json::json!({"iss": "https://id.example.com", "aud": ["other", "connections"]});
        assert!(auth.verify(&sign(list)).is_ok(), "one matching audience in a list is enough");
        let cases = [
            (serde_json::json!({"iss": "https://evil.example.com", "aud": "community"}), TokenError::BadIssuer),
            (serde_json::json!({"iss": "https://id.example.com", "aud": "other"}), TokenError::BadAudience),
            (serde_json::json!({"aud": "community"}), TokenError::BadClaims("`iss` is required".into())),
            (serde_json::json!({"iss": "https://id.example.com"}), TokenError::BadClaims("`aud` is required".into())),
            (serde_json::json!({"iss": "https://id.example.com", "aud": "community", "token_type": "refresh"}), TokenError::WrongType),
        ];
        for (extra, expected) in cases {
            assert_eq!(auth.verify(&sign(extra.clone())), Err(expected), "{extra}");
        }
        // Without configured checks, `aud` in a token is ignored rather than refused.
        let plain = Authenticator::without_secret(0).with_public_key(Algorithm::EdDSA, ED25519_PUBLIC).unwrap();
        assert!(plain.verify(&sign(serde_json::json!({"aud": "anything"}))).is_ok());
    }

    #[test]
    fn random_hex_has_the_requested_length() {
        assert_eq!(random_hex(16).len(), 32);
        assert_ne!(random_hex(16), random_hex(16));
    }
}
