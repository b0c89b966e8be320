//! The errors poem raises by itself leave the server in the contract's error body too.

use crate::harness::{TestApp, assert_error};

#[tokio::test]
async fn unknown_route_is_404_json() {
    let app = TestApp::spawn().await;
    for path in ["/nope", "/api/v2/user/1/connection/unknown/", "/api/v2/"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_error(response, 404, "not_found").await;
    }
}

#[tokio::test]
async fn wrong_method_is_405_with_allow() {
    let app = TestApp::spawn().await;
    let a = app.user("alice").await;
    for method in [reqwest::Method::GET, reqwest::Method::PUT, reqwest::Method::DELETE, reqwest::Method::PATCH] {
        for path in ["/api/v2/user/2/connection/request/", "/api/v2/user/2/connection/request"] {
            let response = app
                .client
                .request(method.clone(), app.url(path))
                .bearer_auth(app.token(&a))
                .send()
                .await
                .unwrap();
            let allow = response.headers().get("allow").map(|v| v.to_str().unwrap().to_owned());
            assert_eq!(allow.as_deref(), Some("POST"), "{method} {path}");
            assert_error(response, 405, "method_not_allowed").await;
        }
    }
    let response = app.client.post(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(response.headers().get("allow").unwrap(), "GET");
    assert_error(response, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn missing_token_is_401_before_anything_else() {
    let app = TestApp::spawn().await;
    let b = app.user("bob").await;
    let response = app
        .client
        .post(app.url(&format!("/api/v2/user/{}/connection/request/", b.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers().get("www-authenticate").unwrap(), "Bearer");
    assert_error(response, 401, "not_authenticated").await;
}
