//! `401` for every bad token the contract lists: error body, `WWW-Authenticate`, never `403`.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use connections_api::http::tokens::unix_now;
use connections_api::db::connection::RelationCounts;

use crate::harness::{SECRET, TestApp, assert_error};

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn sign(alg: Algorithm, secret: &[u8], claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret)).unwrap()
}

fn claims(user_id: Value) -> Value {
    json!({"token_type": "access", "user_id": user_id, "exp": unix_now() + 600, "iat": unix_now()})
}

#[tokio::test]
async fn every_bad_token_is_401_with_a_challenge() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.user("alice").await, app.user("bob").await);
    let gone = app.user("gone").await;
    app.repo.delete_user(gone.id).await.unwrap();
    let id = json!(a.id);

    let unsigned = format!(
        "{}.{}.",
        base64url(br#"{"alg":"none","typ":"JWT"}"#),
        base64url(claims(id.clone()).to_string().as_bytes())
    );
    let without = |key: &str| {
        let mut c = claims(id.clone());
        c.as_object_mut().unwrap().remove(key);
        c
    };
    let with = |key: &str, value: Value| {
        let mut c = claims(id.clone());
        c[key] = value;
        c
    };
    let bearer = |claims: &Value| Some(format!("Bearer {}", sign(Algorithm::HS256, SECRET, claims)));
    let good = sign(Algorithm::HS256, SECRET, &claims(id.clone()));

    let cases: Vec<(&str, Option<String>, &str)> = vec![
        ("no header", None, "not_authenticated"),
        ("not bearer", Some(format!("Basic {}", base64url(b"alice:pw"))), "not_authenticated"),
        ("empty bearer", Some("Bearer ".into()), "not_authenticated"),
        ("malformed", Some("Bearer not.a.token".into()), "token_not_valid"),
        ("garbage", Some("Bearer abc".into()), "token_not_valid"),
        ("bad signature", Some(format!("Bearer {}", sign(Algorithm::HS256, b"another-secret", &claims(id.clone())))), "token_not_valid"),
        ("alg none", Some(format!("Bearer {unsigned}")), "token_not_valid"),
        ("HS512 with the right secret", Some(format!("Bearer {}", sign(Algorithm::HS512, SECRET, &claims(id.clone())))), "token_not_valid"),
        ("expired", bearer(&with("exp", json!(unix_now() - 3600))), "token_not_valid"),
        ("not yet valid", bearer(&with("nbf", json!(unix_now() + 3600))), "token_not_valid"),
        ("refresh token", bearer(&with("token_type", json!("refresh"))), "token_not_valid"),
        ("no token_type", bearer(&without("token_type")), "token_not_valid"),
        ("no exp", bearer(&without("exp")), "token_not_valid"),
        ("no user_id", bearer(&without("user_id")), "token_not_valid"),
        ("string user_id", bearer(&claims(json!(a.id.to_string()))), "token_not_valid"),
        ("unknown user", bearer(&claims(json!(424_242))), "user_not_found"),
        ("deleted user", bearer(&claims(json!(gone.id))), "user_not_found"),
        ("tampered payload", Some(format!("Bearer {}", tamper(&good, b.id))), "token_not_valid"),
        ("truncated", Some(format!("Bearer {}", &good[..good.len() - 5])), "token_not_valid"),
        ("extra segment", Some(format!("Bearer {good}.abc")), "token_not_valid"),
        ("huge", Some(format!("Bearer {}", "a".repeat(16 * 1024))), "token_not_valid"),
        ("RS256 header, HMAC body", Some(format!("Bearer {}", with_header(&good, r#"{"alg":"RS256","typ":"JWT"}"#))), "token_not_valid"),
        ("numeric token_type", bearer(&with("token_type", json!(1))), "token_not_valid"),
        ("float user_id", bearer(&claims(json!(1.5))), "token_not_valid"),
        ("negative exp", bearer(&with("exp", json!(-1))), "token_not_valid"),
    ];

    for (name, header, code) in cases {
        let mut request = app.client.post(app.url(&format!("/api/v2/user/{}/connection/request/", b.id)));
        if let Some(header) = &header {
            request = request.header("Authorization", header);
        }
        let response = request.send().await.unwrap();
        let challenge = response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("{name}: no WWW-Authenticate"));
        assert!(challenge.starts_with("Bearer"), "{name}: {challenge}");
        let token_sent = code != "not_authenticated";
        assert_eq!(challenge.contains("error=\"invalid_token\""), token_sent, "{name}: {challenge}");
        let body = assert_error(response, 401, code).await;
        assert!(!body.to_string().contains(std::str::from_utf8(SECRET).unwrap()), "{name}: no secret in errors");
    }
    assert_eq!(app.repo.relation_counts().await.unwrap(), RelationCounts { requests: 0, connections: 0 });
}

/// The good token with another header (and its original signature).
fn with_header(token: &str, header: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!("{}.{}.{}", base64url(header.as_bytes()), parts[1], parts[2])
}

/// The good token's payload, with another user id, keeping the original signature.
fn tamper(token: &str, user_id: i64) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let payload = base64url(claims(json!(user_id)).to_string().as_bytes());
    format!("{}.{}.{}", parts[0], payload, parts[2])
}

#[tokio::test]
async fn a_token_within_the_leeway_is_accepted() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.user("alice").await, app.user("bob").await);
    let mut recently_expired = claims(json!(a.id));
    recently_expired["exp"] = json!(unix_now() - 5);
    let response = app
        .client
        .post(app.url(&format!("/api/v2/user/{}/connection/request/", b.id)))
        .bearer_auth(sign(Algorithm::HS256, SECRET, &recently_expired))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// Header values that are not visible ASCII never reach the token check and never crash.
#[tokio::test]
async fn non_ascii_authorization_is_401() {
    let app = TestApp::spawn().await;
    let b = app.user("bob").await;
    let value = reqwest::header::HeaderValue::from_bytes("Bearer ünïcödé".as_bytes()).unwrap();
    let response = app
        .client
        .post(app.url(&format!("/api/v2/user/{}/connection/request/", b.id)))
        .header("Authorization", value)
        .send()
        .await
        .unwrap();
    assert!(response.headers().contains_key("www-authenticate"));
    assert_error(response, 401, "not_authenticated").await;
}
