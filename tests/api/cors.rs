//! Browsers on other origins (`CORS_ALLOWED_ORIGINS`): exactly the allowed origins get CORS
//! headers, on every answer (errors included) and on preflights; any other origin gets none,
//! and is still served.

use crate::harness::{Options, TestApp, json};

const FRONT_END: &str = "https://community.example.com";

#[tokio::test]
async fn allowed_origins_get_cors_headers_on_every_answer_and_others_none() {
    let app = TestApp::spawn_with(Options { cors_origin: Some(FRONT_END), ..Options::default() }).await;
    let me = app.user("me").await;
    let allow_origin = |r: &reqwest::Response| r.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap().to_owned());

    // A preflight for an authenticated call.
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v2/user/me/"))
        .header("Origin", FRONT_END)
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(allow_origin(&preflight).as_deref(), Some(FRONT_END));
    let allowed_headers = preflight.headers().get("access-control-allow-headers").unwrap().to_str().unwrap().to_lowercase();
    assert!(allowed_headers.contains("authorization"), "{allowed_headers}");

    // The call itself, and an error the front end must be able to read.
    let ok = app.client.get(app.url("/api/v2/user/me/")).bearer_auth(app.token(&me)).header("Origin", FRONT_END).send().await.unwrap();
    assert_eq!(allow_origin(&ok).as_deref(), Some(FRONT_END));
    assert_eq!(ok.status(), 200);
    let unauthorized = app.client.get(app.url("/api/v2/user/me/")).header("Origin", FRONT_END).send().await.unwrap();
    assert_eq!(allow_origin(&unauthorized).as_deref(), Some(FRONT_END));
    let exposed = unauthorized.headers().get("access-control-expose-headers").unwrap().to_str().unwrap().to_lowercase();
    assert!(exposed.contains("www-authenticate"), "{exposed}");
    let (status, body) = json(unauthorized).await;
    assert_eq!((status, body["errors"][0]["code"].as_str()), (401, Some("not_authenticated")), "still the JSON error body");

    // Another origin, and no origin: served, without CORS headers.
    let other = app.client.get(app.url("/api/v2/user/me/")).bearer_auth(app.token(&me)).header("Origin", "https://evil.example").send().await.unwrap();
    assert_eq!(other.status(), 200);
    assert_eq!(allow_origin(&other), None);
    let plain = app.client.get(app.url("/api/v2/user/me/")).bearer_auth(app.token(&me)).send().await.unwrap();
    assert_eq!(allow_origin(&plain), None);
}

#[tokio::test]
async fn without_allowed_origins_there_are_no_cors_headers() {
    let app = TestApp::spawn().await;
    let me = app.user("me").await;
    let response = app.client.get(app.url("/api/v2/user/me/")).bearer_auth(app.token(&me)).header("Origin", FRONT_END).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("access-control-allow-origin").is_none());
}
