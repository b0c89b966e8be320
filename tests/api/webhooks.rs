//! Connection events as webhooks: one signed delivery per change, none for a repeat, the
//! endpoint's filter, retries and their log, refused targets, slow receivers, two instances,
//! and the staff API in SelfCommunity's `WebhookService` shapes.

use std::collections::HashMap;
use std::time::Duration;

use connections_api::db::entities::users::Model as User;
use connections_api::features::webhooks::queries::EndpointFields;
use connections_api::features::webhooks::signature;
use connections_api::domain::Event;
use serde_json::{Value, json};

use crate::harness::{Options, TestApp, assert_error, json};

#[path = "../support/receiver.rs"]
mod receiver;
use receiver::{Behaviour, Receiver};

const ENDPOINTS: &str = "/api/v2/webhook/endpoint/";

fn private_targets() -> Options {
    Options { webhook_private_targets: true, ..Options::default() }
}

async fn staff(app: &TestApp) -> User {
    let user = app.user("staff").await;
    assert!(app.repo.set_role(user.id, Some("admin")).await.unwrap());
    user
}

/// Creates an endpoint through the API; answers its id and secret.
async fn endpoint(app: &TestApp, staff: &User, target: &str, events: &[&str]) -> (i64, String) {
    let events: Vec<Value> = events.iter().map(|t| json!({"type": t})).collect();
    let (status, body) = json(app.post_json(staff, ENDPOINTS, &json!({"target": target, "events": events})).await).await;
    assert_eq!(status, 201, "{body}");
    let secret = body["signing_secret"].as_str().expect("the secret is shown on creation").to_owned();
    assert_eq!(secret.len(), 64, "32 random bytes in hex: {secret}");
    (body["id"].as_i64().unwrap(), secret)
}

async fn act(app: &TestApp, caller: &User, other: &User, action: &str) {
    let response = app.post(caller, &format!("/api/v2/user/{}/connection/{action}/", other.id)).await;
    assert!(response.status().is_success(), "{action}: {}", response.status());
}

/// The endpoint's attempts' log, newest first, once it has at least `n` entries.
async fn attempts(app: &TestApp, staff: &User, id: i64, n: usize) -> Vec<Value> {
    for _ in 0..600 {
        let (status, body) = json(app.get(staff, &format!("{ENDPOINTS}{id}/attempt/")).await).await;
        assert_eq!(status, 200, "{body}");
        let results = body["results"].as_array().unwrap().clone();
        if results.len() >= n {
            return results;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the log did not reach {n} attempts");
}

/// The endpoint's deliveries once there are `n` and none is still to be made (each delivered or
/// failed): from then on the receiver gets nothing more for them. A bounded poll, not a pause.
async fn settled(app: &TestApp, id: i64, n: usize) -> Vec<(i64, String, i64)> {
    for _ in 0..1200 {
        let deliveries = app.repo.deliveries_of(id).await.unwrap();
        if deliveries.len() >= n && deliveries.iter().all(|(_, state, _)| state != "pending") {
            return deliveries;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the endpoint's deliveries did not settle at {n}");
}

/// Payloads by `event_id`, each verified against `secret`, in `event_id` order.
fn verified(received: &[receiver::Received], secret: &str) -> Vec<Value> {
    let mut payloads: Vec<Value> = received
        .iter()
        .map(|r| {
            assert!(signature::verify(secret, &r.signature, r.body.as_bytes()).is_some(), "a valid signature: {}", r.signature);
            assert!(r.signature.contains(",v1=") && r.signature.contains(",v0="), "both schemes: {}", r.signature);
            r.json()
        })
        .collect();
    payloads.sort_by_key(|p| p["event_id"].as_i64());
    payloads
}

#[tokio::test]
async fn each_change_delivers_one_signed_event_and_a_repeat_none() {
    let app = TestApp::spawn_with(private_targets()).await;
    let boss = staff(&app).await;
    let (a, b, c) = (app.user("alice").await, app.user("bob").await, app.user("carol").await);
    let hook = Receiver::start(Behaviour::Answer).await;
    let (id, secret) = endpoint(&app, &boss, &hook.url, &[]).await;

    act(&app, &a, &b, "request").await;
    act(&app, &b, &a, "reject").await;
    act(&app, &b, &a, "cancel_reject").await;
    act(&app, &b, &a, "accept").await;
    act(&app, &a, &b, "remove").await;
    act(&app, &a, &b, "request").await;
    act(&app, &a, &b, "cancel_request").await;
    // Repeats change nothing and publish nothing.
    act(&app, &a, &b, "cancel_request").await;
    act(&app, &b, &a, "remove").await;
    // A request answered by a request connects: created, then connection.created from the first.
    act(&app, &c, &a, "request").await;
    act(&app, &c, &a, "request").await;
    act(&app, &a, &c, "request").await;

    let payloads = verified(&hook.wait_for(9).await, &secret);
    let expected = [
        ("connection_request.created", &a, &b),
        ("connection_request.rejected", &a, &b),
        ("connection_request.restored", &a, &b),
        ("connection.created", &a, &b),
        ("connection.deleted", &a, &b),
        ("connection_request.created", &a, &b),
        ("connection_request.cancelled", &a, &b),
        ("connection_request.created", &c, &a),
        ("connection.created", &c, &a),
    ];
    let mut previous = 0;
    for (payload, (kind, from, to)) in payloads.iter().zip(expected) {
        assert_eq!(payload["type"], kind, "{payload}");
        assert_eq!(payload["data"]["from_user"]["id"], from.id, "{payload}");
        assert_eq!(payload["data"]["to_user"]["id"], to.id, "{payload}");
        assert_eq!(payload["data"]["from_user"]["username"], from.username.as_str(), "{payload}");
        assert!(payload["created"].as_f64().is_some_and(|t| t > 1.7e9), "seconds since the epoch: {payload}");
        let id = payload["event_id"].as_i64().unwrap();
        assert_eq!(id, previous + 1, "event ids follow each other in commit order: {payload}");
        previous = id;
    }
    // Counters as they were right after each change.
    let counters = |p: &Value, who: &str| {
        let u = &p["data"][who];
        [&u["connections_counter"], &u["connection_requests_received_counter"], &u["connection_requests_sent_counter"]]
            .map(|v| v.as_i64().unwrap())
    };
    assert_eq!(counters(&payloads[0], "from_user"), [0, 0, 1], "alice sent one");
    assert_eq!(counters(&payloads[0], "to_user"), [0, 1, 0], "bob received one");
    assert_eq!(counters(&payloads[1], "to_user"), [0, 0, 0], "a rejected request is not pending");
    assert_eq!(counters(&payloads[1], "from_user"), [0, 0, 1], "rejection is silent to the sender");
    assert_eq!(counters(&payloads[3], "from_user"), [1, 0, 0]);
    assert_eq!(counters(&payloads[3], "to_user"), [1, 0, 0]);
    assert_eq!(counters(&payloads[4], "from_user"), [0, 0, 0]);
    assert_eq!(counters(&payloads[8], "to_user"), [1, 0, 0], "alice connected to carol");

    assert_eq!(settled(&app, id, 9).await.len(), 9, "one delivery per change");
    assert_eq!(hook.received().len(), 9, "one delivery per change, nothing more");

    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains(r#"connections_webhook_deliveries_total{event_type="connection.created",outcome="delivered"} 2"#),
        "{metrics}"
    );
    assert!(metrics.contains("connections_webhook_outbox_backlog"), "{metrics}");
}

#[tokio::test]
async fn an_endpoint_gets_only_the_event_types_it_subscribes_to() {
    let app = TestApp::spawn_with(private_targets()).await;
    let boss = staff(&app).await;
    let (a, b) = (app.user("alice").await, app.user("bob").await);
    let (only_connections, everything) = (Receiver::start(Behaviour::Answer).await, Receiver::start(Behaviour::Answer).await);
    let (only, _) = endpoint(&app, &boss, &only_connections.url, &["connection.created"]).await;
    let (all, _) = endpoint(&app, &boss, &everything.url, &[]).await;
    act(&app, &a, &b, "request").await;
    act(&app, &b, &a, "accept").await;
    everything.wait_for(2).await;
    let got = only_connections.wait_for(1).await;
    assert_eq!(got[0].json()["type"], "connection.created");
    // Both events are through the outbox once the other endpoint has both settled.
    settled(&app, all, 2).await;
    assert_eq!(settled(&app, only, 1).await.len(), 1, "no delivery of connection_request.created for it");
    assert_eq!(only_connections.received().len(), 1, "no connection_request.created for it");
}

#[tokio::test]
async fn a_failing_receiver_is_retried_and_the_log_shows_every_attempt() {
    let options = Options { webhook_retries: Some((2, 200)), ..private_targets() };
    let app = TestApp::spawn_with(options).await;
    let boss = staff(&app).await;
    let (a, b, c) = (app.user("alice").await, app.user("bob").await, app.user("carol").await);
    let hook = Receiver::start(Behaviour::Answer).await;
    let (id, secret) = endpoint(&app, &boss, &hook.url, &["connection_request.created"]).await;

    // 500, then 2xx: delivered on the retry.
    hook.answer_with(&[500]);
    act(&app, &a, &b, "request").await;
    let got = hook.wait_for(2).await;
    assert_eq!(got[0].body, got[1].body, "the same event again");
    let log = attempts(&app, &boss, id, 2).await;
    assert_eq!(log[0]["http_response_code"], 200, "newest first: {log:?}");
    assert!(log[0]["next_retry"].is_null(), "{log:?}");
    assert_eq!(log[1]["http_response_code"], 500, "{log:?}");
    assert!(log[1]["next_retry"].is_string(), "the failed attempt names its retry: {log:?}");
    assert_eq!(log[1]["event"][0]["type"], "connection_request.created");
    assert!(signature::verify(&secret, log[1]["http_request_signature_header"].as_str().unwrap(), log[1]["http_request_body"].as_str().unwrap().as_bytes()).is_some());

    // Always 500: the first attempt and the two retries, then failed; a resend delivers it.
    hook.answer_with(&[500, 500, 500]);
    act(&app, &c, &b, "request").await;
    hook.wait_for(5).await;
    let log = attempts(&app, &boss, id, 5).await;
    assert!(log[0]["next_retry"].is_null() && log[0]["http_response_code"] == 500, "the last retry failed: {:?}", log[0]);
    let event = hook.received()[4].json()["event_id"].as_i64().unwrap();
    let state = || async { app.repo.deliveries_of(id).await.unwrap().into_iter().find(|d| d.0 == event).unwrap() };
    for _ in 0..100 {
        if state().await.1 == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(state().await.1, "failed");
    let resend = app.post_json(&boss, &format!("{ENDPOINTS}{id}/event/resend/"), &json!({"event": event})).await;
    assert_eq!(resend.status(), 204);
    let again = hook.wait_for(6).await;
    assert_eq!(again[5].json()["event_id"], event);
    let unknown = app.post_json(&boss, &format!("{ENDPOINTS}{id}/event/resend/bulk/"), &json!({"event": [event, 999_999]})).await;
    assert_error(unknown, 400, "invalid").await;
}

#[tokio::test]
async fn private_targets_are_refused_and_never_called_unless_allowed() {
    let app = TestApp::spawn().await;
    let boss = staff(&app).await;
    let hook = Receiver::start(Behaviour::Answer).await;
    for target in [hook.url.clone(), format!("http://localhost:{}/hook", hook.port), "http://[::1]/x".into(), "http://169.254.169.254/".into()] {
        let body = assert_error(app.post_json(&boss, ENDPOINTS, &json!({"target": target})).await, 400, "private_target").await;
        assert_eq!(body["errors"][0]["field"], "target", "{body}");
    }
    for target in ["ftp://example.com/", "not a url", "/relative"] {
        let body = assert_error(app.post_json(&boss, ENDPOINTS, &json!({"target": target})).await, 400, "invalid").await;
        assert_eq!(body["errors"][0]["field"], "target", "{body}");
    }
    // Endpoints that got past creation (an operator's database edit, a name that resolved
    // elsewhere then): the delivery checks the address again, an IP literal's and a name's (the
    // client resolves names to public addresses only), and does not call them.
    let mut ids = Vec::new();
    for target in [hook.url.clone(), format!("http://localhost:{}/hook", hook.port)] {
        let fields = EndpointFields { target: Some(target), ..Default::default() };
        ids.push(app.repo.create_endpoint(fields, "s".repeat(64), &["connection_request.created"]).await.unwrap().row.id);
    }
    let (a, b) = (app.user("alice").await, app.user("bob").await);
    act(&app, &a, &b, "request").await;
    for id in ids {
        let log = attempts(&app, &boss, id, 1).await;
        assert!(log[0]["http_response_code"].is_null(), "{log:?}");
        assert!(log[0]["error"].as_str().is_some_and(|e| e.contains("public address")), "{log:?}");
    }
    assert!(hook.received().is_empty(), "the receiver was never called");
}

#[tokio::test]
async fn a_silent_or_endless_receiver_does_not_hold_up_the_others() {
    let options = Options { webhook_timeout_ms: Some(3000), webhook_retries: Some((0, 0)), ..private_targets() };
    let app = TestApp::spawn_with(options).await;
    let boss = staff(&app).await;
    let (silent, endless, healthy) =
        (Receiver::start(Behaviour::Silent).await, Receiver::start(Behaviour::Endless).await, Receiver::start(Behaviour::Answer).await);
    let (silent_id, _) = endpoint(&app, &boss, &silent.url, &[]).await;
    let (endless_id, _) = endpoint(&app, &boss, &endless.url, &[]).await;
    let (healthy_id, _) = endpoint(&app, &boss, &healthy.url, &[]).await;
    let (a, b) = (app.user("alice").await, app.user("bob").await);
    act(&app, &a, &b, "request").await;

    healthy.wait_for(1).await;
    silent.wait_for(1).await;
    attempts(&app, &boss, healthy_id, 1).await;
    // The healthy delivery is recorded while the silent receiver still holds its attempt.
    let (_, log) = json(app.get(&boss, &format!("{ENDPOINTS}{silent_id}/attempt/")).await).await;
    assert_eq!(log["count"], 0, "the silent attempt is still waiting: {log}");

    let log = attempts(&app, &boss, silent_id, 1).await;
    assert!(log[0]["error"].as_str().is_some_and(|e| e.contains("no answer") || e.contains("timed out")), "{log:?}");
    let log = attempts(&app, &boss, endless_id, 1).await;
    assert_eq!(log[0]["http_response_code"], 200, "{log:?}");
    assert!(log[0]["http_response_body"].as_str().unwrap().len() <= 2000, "only the start of the answer is kept");
}

#[tokio::test]
async fn webhook_operations_are_for_staff_only() {
    let app = TestApp::spawn().await;
    let someone = app.user("someone").await;
    for (method, path) in [("GET", ENDPOINTS), ("POST", ENDPOINTS), ("GET", "/api/v2/webhook/endpoint/event/"), ("GET", "/api/v2/webhook/endpoint/1/"), ("POST", "/api/v2/webhook/endpoint/1/secret/reveal/")] {
        let request = app.client.request(method.parse().unwrap(), app.url(path));
        assert_error(request.try_clone().unwrap().bearer_auth(app.token(&someone)).json(&json!({})).send().await.unwrap(), 403, "permission_denied").await;
        assert_error(request.send().await.unwrap(), 401, "not_authenticated").await;
    }
    let boss = staff(&app).await;
    let (status, types) = json(app.get(&boss, "/api/v2/webhook/endpoint/event/").await).await;
    assert_eq!(status, 200);
    assert_eq!(
        types,
        json!(["connection_request.created", "connection_request.rejected", "connection_request.restored",
            "connection_request.cancelled", "connection.created", "connection.deleted", "connection.follow", "connection.unfollow"])
    );
}

#[tokio::test]
async fn endpoints_are_managed_in_selfcommunitys_shapes() {
    let app = TestApp::spawn_with(private_targets()).await;
    let boss = staff(&app).await;
    let hook = Receiver::start(Behaviour::Answer).await;
    let (id, secret) = endpoint(&app, &boss, &hook.url, &[]).await;
    let path = format!("{ENDPOINTS}{id}/");

    let (status, got) = json(app.get(&boss, &path).await).await;
    assert_eq!(status, 200);
    assert_eq!(got["target"], hook.url.as_str());
    assert_eq!(got["is_active"], true);
    assert_eq!(got["ssl_cert_verification"], true);
    assert_eq!(got["events"].as_array().unwrap().len(), Event::ALL.len(), "no events named: every type: {got}");
    assert!(got["events"][0]["added_at"].is_string() && got.get("signing_secret").is_none(), "{got}");

    let patch = app.client.patch(app.url(&path)).bearer_auth(app.token(&boss));
    let (status, got) = json(patch.json(&json!({"description": "CRM", "events": [{"type": "connection.created"}]})).send().await.unwrap()).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!((got["description"].as_str(), got["target"].as_str()), (Some("CRM"), Some(hook.url.as_str())));
    assert_eq!(got["events"], json!([{"type": "connection.created", "added_at": got["events"][0]["added_at"]}]));
    let bad = app.client.patch(app.url(&path)).bearer_auth(app.token(&boss)).json(&json!({"events": [{"type": "post.created"}]}));
    assert_error(bad.send().await.unwrap(), 400, "invalid").await;

    let put = app.client.put(app.url(&path)).bearer_auth(app.token(&boss));
    let (status, got) = json(put.json(&json!({"target": hook.url})).send().await.unwrap()).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!((got["description"].as_str(), got["events"].as_array().map(Vec::len)), (Some(""), Some(Event::ALL.len())), "PUT replaces: {got}");

    let (_, list) = json(app.get(&boss, ENDPOINTS).await).await;
    assert_eq!(list["count"], 1);
    assert_eq!(list["results"][0]["id"], id);

    let (_, revealed) = json(app.post(&boss, &format!("{path}secret/reveal/")).await).await;
    assert_eq!(revealed["signing_secret"], secret.as_str());
    let (status, _) = json(app.post(&boss, &format!("{path}secret/expire/")).await).await;
    assert_eq!(status, 200);
    let (_, revealed) = json(app.post(&boss, &format!("{path}secret/reveal/")).await).await;
    let new_secret = revealed["signing_secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);

    // During the overlap both secrets sign: a receiver with either verifies.
    let (a, b) = (app.user("alice").await, app.user("bob").await);
    act(&app, &a, &b, "request").await;
    let got = hook.wait_for(1).await;
    assert_eq!(got[0].signature.matches("v1=").count(), 2, "{}", got[0].signature);
    assert!(signature::verify(&secret, &got[0].signature, got[0].body.as_bytes()).is_some());
    assert!(signature::verify(&new_secret, &got[0].signature, got[0].body.as_bytes()).is_some());

    let delete = app.client.delete(app.url(&path)).bearer_auth(app.token(&boss)).send().await.unwrap();
    assert_eq!(delete.status(), 204);
    assert_error(app.get(&boss, &path).await, 404, "not_found").await;
    assert_error(app.get(&boss, &format!("{ENDPOINTS}0/")).await, 400, "invalid").await;
}

#[tokio::test]
async fn two_instances_deliver_every_event_exactly_once() {
    let first = TestApp::spawn_with(private_targets()).await;
    let second = first.another_instance_with(private_targets()).await;
    let boss = staff(&first).await;
    let hook = Receiver::start(Behaviour::Answer).await;
    let (id, _) = endpoint(&first, &boss, &hook.url, &[]).await;
    let mut users = Vec::new();
    for i in 0..12 {
        users.push(first.user(&format!("u{i}")).await);
    }
    // Every pair requests (one side), through both instances at once.
    let mut tasks = Vec::new();
    for (i, a) in users.iter().enumerate() {
        for b in &users[i + 1..] {
            let app = if (a.id + b.id) % 2 == 0 { &first } else { &second };
            let (client, url, token) = (app.client.clone(), app.url(&format!("/api/v2/user/{}/connection/request/", b.id)), app.token(a));
            tasks.push(tokio::spawn(async move { client.post(url).bearer_auth(token).send().await.unwrap().status().as_u16() }));
        }
    }
    let n = tasks.len();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    let got = hook.wait_for(n).await;
    settled(&first, id, n).await;
    let mut by_id: HashMap<i64, usize> = HashMap::new();
    for r in hook.received() {
        *by_id.entry(r.json()["event_id"].as_i64().unwrap()).or_default() += 1;
    }
    assert_eq!(by_id.len(), n, "every event, {} deliveries", got.len());
    assert!(by_id.values().all(|c| *c == 1), "none twice: {by_id:?}");
    let mut ids: Vec<i64> = by_id.into_keys().collect();
    ids.sort_unstable();
    assert_eq!(ids, (1..=n as i64).collect::<Vec<_>>(), "numbered 1..{n} without gaps");
}

/// An inactive endpoint gets nothing: no delivery of a new event, no retry of a failed attempt,
/// no resend (`409 endpoint_inactive`); active again, its waiting retry and resends go on.
#[tokio::test]
async fn an_inactive_endpoint_gets_no_delivery_no_retry_and_no_resend() {
    let options = Options { webhook_retries: Some((1, 1500)), ..private_targets() };
    let app = TestApp::spawn_with(options).await;
    let boss = staff(&app).await;
    let (a, b, c, d) = (app.user("alice").await, app.user("bob").await, app.user("carol").await, app.user("dave").await);
    let (hook, witness) = (Receiver::start(Behaviour::Answer).await, Receiver::start(Behaviour::Answer).await);
    let (id, _) = endpoint(&app, &boss, &hook.url, &["connection_request.created"]).await;
    endpoint(&app, &boss, &witness.url, &["connection_request.created"]).await;
    let set_active = |active: bool| {
        let request = app.client.patch(app.url(&format!("{ENDPOINTS}{id}/"))).bearer_auth(app.token(&boss));
        async move { request.json(&json!({"is_active": active})).send().await.unwrap().status().as_u16() }
    };

    // A failed attempt; its retry is due 1.5 s later, after the endpoint is deactivated.
    hook.answer_with(&[500]);
    act(&app, &a, &b, "request").await;
    let first = hook.wait_for(1).await[0].json()["event_id"].as_i64().unwrap();
    assert_eq!(set_active(false).await, 200);
    let log = attempts(&app, &boss, id, 1).await;
    let retry_due: chrono::DateTime<chrono::Utc> = log[0]["next_retry"].as_str().expect("a retry is due").parse().unwrap();

    // The dispatcher works on: the witness gets an event made after the retry fell due, so
    // the round that would have retried has run (claims go in due order).
    while chrono::Utc::now() <= retry_due {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    act(&app, &c, &b, "request").await;
    witness.wait_for(2).await;
    act(&app, &d, &b, "request").await;
    witness.wait_for(3).await;
    assert_eq!(hook.received().len(), 1, "no retry and no new delivery while inactive");
    let deliveries = app.repo.deliveries_of(id).await.unwrap();
    assert_eq!(deliveries.len(), 1, "no delivery made for the events while inactive: {deliveries:?}");

    let resend = app.post_json(&boss, &format!("{ENDPOINTS}{id}/event/resend/"), &json!({"event": first})).await;
    assert_error(resend, 409, "endpoint_inactive").await;
    let bulk = app.post_json(&boss, &format!("{ENDPOINTS}{id}/event/resend/bulk/"), &json!({"event": [first]})).await;
    assert_error(bulk, 409, "endpoint_inactive").await;

    // Active again: the waiting retry is made.
    assert_eq!(set_active(true).await, 200);
    let got = hook.wait_for(2).await;
    assert_eq!(got[1].json()["event_id"], first, "the retry, once active again");
}

/// Deliveries never go through a proxy named by the environment (it would reach addresses the
/// dispatcher never checked). Each test runs in a process of its own (nextest), so setting the
/// environment here reaches no other test.
#[tokio::test]
async fn deliveries_ignore_proxies_named_by_the_environment() {
    let proxy = Receiver::start(Behaviour::Answer).await;
    for name in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
        // SAFETY: set before the server (and its clients) start; this process runs this test alone.
        unsafe { std::env::set_var(name, &proxy.url) };
    }
    for name in ["NO_PROXY", "no_proxy"] {
        // SAFETY: as above.
        unsafe { std::env::remove_var(name) };
    }
    let app = TestApp::spawn_with(private_targets()).await;
    let boss = staff(&app).await;
    let (a, b) = (app.user("alice").await, app.user("bob").await);
    let hook = Receiver::start(Behaviour::Answer).await;
    endpoint(&app, &boss, &hook.url, &[]).await;
    act(&app, &a, &b, "request").await;
    hook.wait_for(1).await;
    assert!(proxy.received().is_empty(), "the delivery went straight to its target, not through the proxy");
}
