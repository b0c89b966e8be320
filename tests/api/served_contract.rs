//! The server serves the committed contract and Swagger UI from its own binary.

use crate::harness::TestApp;

const COMMITTED: &str = include_str!("../../openapi.yaml");

#[tokio::test]
async fn openapi_yaml_and_json_are_the_committed_contract() {
    let app = TestApp::spawn().await;
    let yaml = app.client.get(app.url("/openapi.yaml")).send().await.unwrap();
    assert_eq!(yaml.status(), 200);
    assert_eq!(yaml.text().await.unwrap(), COMMITTED);

    let json = app.client.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(json.status(), 200);
    assert!(json.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let served: serde_json::Value = json.json().await.unwrap();
    let committed: serde_json::Value = serde_yaml::from_str(COMMITTED).unwrap();
    assert_eq!(served, committed);
}

#[tokio::test]
async fn swagger_ui_is_served_offline_and_reads_our_spec() {
    let app = TestApp::spawn().await;
    let redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/docs"))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), 308);
    assert_eq!(redirect.headers()["location"], "/docs/");

    let index = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(index.status(), 200);
    let html = index.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    // Every script and stylesheet comes from this server: no CDN.
    assert!(!html.contains("http://") && !html.contains("https://"), "{html}");

    let initializer = app.client.get(app.url("/docs/swagger-initializer.js")).send().await.unwrap();
    let script = initializer.text().await.unwrap();
    assert!(script.contains("\"/openapi.json\""), "{script}");
    assert!(script.contains("\"persistAuthorization\": true"), "{script}");

    for asset in ["swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"] {
        let response = app.client.get(app.url(&format!("/docs/{asset}"))).send().await.unwrap();
        assert_eq!(response.status(), 200, "{asset}");
        assert!(response.bytes().await.unwrap().len() > 1000, "{asset}");
    }
}

/// The PostgreSQL leg really runs on PostgreSQL (and the default one on SQLite).
#[tokio::test]
async fn the_suite_runs_on_the_database_it_was_asked_for() {
    let app = TestApp::spawn().await;
    let expected = match std::env::var("TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => sea_orm::DbBackend::Postgres,
        _ => sea_orm::DbBackend::Sqlite,
    };
    assert_eq!(app.repo.backend(), expected);
}

/// The reference page renders every operation from the same schema, with nothing from outside.
#[tokio::test]
async fn the_reference_page_lists_every_operation() {
    let app = TestApp::spawn().await;
    let response = app.client.get(app.url("/docs/reference/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = response.text().await.unwrap();
    let spec: serde_json::Value = serde_yaml::from_str(COMMITTED).unwrap();
    for item in spec["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let id = op["operationId"].as_str().unwrap();
            assert!(html.contains(&format!("id=\"api-{id}\"")), "{id} has a section");
            assert!(html.contains(op["summary"].as_str().unwrap()), "{id} summary");
        }
    }
    assert!(html.contains("id=\"connections\""), "the state machine page");
    assert!(!html.contains("<script") && !html.contains("src=\"http"), "nothing loaded from outside");
}

/// The benchmark's ceiling route is not part of the API: off unless `serve --bench-ceiling`.
#[tokio::test]
async fn the_bench_ceiling_is_off_by_default() {
    let app = TestApp::spawn().await;
    let a = app.user("alice").await;
    let response = app.get(&a, "/bench/ceiling").await;
    assert_eq!(response.status(), 404);
}

/// Operations: `/healthz`, `/readyz`, and an `X-Request-Id` on every answer, errors included.
#[tokio::test]
async fn health_readiness_and_request_ids() {
    let app = TestApp::spawn().await;
    for (path, body) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let answer: serde_json::Value = response.json().await.unwrap();
        assert_eq!(answer["status"], body, "{path}");
    }
    let fresh = app.client.get(app.url("/nope")).send().await.unwrap();
    let id = fresh.headers().get("x-request-id").expect("a request id on an error").to_str().unwrap().to_owned();
    assert_eq!(id.len(), 16);
    let kept = app.client.get(app.url("/healthz")).header("X-Request-Id", "trace-42").send().await.unwrap();
    assert_eq!(kept.headers()["x-request-id"], "trace-42", "the client's id is kept");
    let long = "x".repeat(200);
    let replaced = app.client.get(app.url("/healthz")).header("X-Request-Id", long.as_str()).send().await.unwrap();
    assert_ne!(replaced.headers()["x-request-id"], long.as_str(), "an unreasonable id is replaced");
}

/// `GET /metrics`: requests by operation and status, latency by operation, the pool's use.
#[tokio::test]
async fn metrics_count_requests_by_operation_and_status() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.user("alice").await, app.user("bob").await);
    app.request(&a, b.id).await;
    app.request(&a, b.id).await;
    app.request(&a, a.id).await;
    app.client.get(app.url("/no/such/path")).send().await.unwrap();
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = response.text().await.unwrap();
    for line in [
        "connections_http_requests_total{operation=\"userRequestConnection\",status=\"200\"} 2",
        "connections_http_requests_total{operation=\"userRequestConnection\",status=\"400\"} 1",
        "connections_http_requests_total{operation=\"other\",status=\"404\"} 1",
        "connections_http_request_duration_seconds_count{operation=\"userRequestConnection\"} 3",
        "connections_http_request_duration_seconds_bucket{le=\"+Inf\",operation=\"userRequestConnection\"} 3",
        "# TYPE connections_db_pool_connections gauge",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    assert!(text.contains("connections_db_pool_max_connections "), "{text}");
    assert!(text.ends_with("# EOF\n"), "OpenMetrics ends with # EOF:\n{text}");
}
