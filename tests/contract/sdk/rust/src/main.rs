//! The progenitor client of openapi.yaml, against a live server: BASE_URL, and for two seeded
//! users USER_A/TOKEN_A and USER_B/TOKEN_B, in friendship mode.

progenitor::generate_api!(spec = "../../../../openapi.yaml", interface = Builder);

use std::num::NonZeroU64;

use types::ConnectionStatusInner as Status;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"))
}

fn client(base: &str, token: &str) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    let value = format!("Bearer {token}").parse().expect("header value");
    headers.insert(reqwest::header::AUTHORIZATION, value);
    let http = reqwest::Client::builder().default_headers(headers).build().expect("http client");
    Client::new_with_client(base, http)
}

#[tokio::main]
async fn main() {
    let base = env("BASE_URL");
    // The spec says ids are positive int64: progenitor makes them `NonZeroU64`.
    let (a, b): (NonZeroU64, NonZeroU64) = (env("USER_A").parse().unwrap(), env("USER_B").parse().unwrap());
    let alice = client(&base, &env("TOKEN_A"));
    let bob = client(&base, &env("TOKEN_B"));

    let sent = alice.user_request_connection().id(b).send().await.expect("A requests B").into_inner();
    assert_eq!(sent.connection_status.0, Some(Status::SentConnectionRequest), "A asked B");

    let again = alice.user_request_connection().id(b).send().await.expect("again").into_inner();
    assert_eq!(again.connection_status.0, Some(Status::SentConnectionRequest), "idempotent");

    let connected = bob.user_request_connection().id(a).send().await.expect("B asks back").into_inner();
    assert_eq!(connected.connection_status.0, Some(Status::Connected), "a mutual request connects");

    match alice.user_request_connection().id(a).send().await {
        Err(Error::ErrorResponse(response)) => {
            assert_eq!(response.status().as_u16(), 400);
            let body = serde_json::to_value(response.into_inner()).unwrap();
            assert_eq!(body["errors"][0]["code"], "self_connection", "{body}");
        }
        other => panic!("requesting oneself: expected a 400 error body, got {other:?}"),
    }
    match alice.user_request_connection().id(NonZeroU64::new(i64::MAX as u64).unwrap()).send().await {
        Err(Error::ErrorResponse(response)) => assert_eq!(response.status().as_u16(), 404),
        other => panic!("unknown user: expected a 404 error body, got {other:?}"),
    }
    println!("rust sdk (progenitor): request, repeat, mutual connect, 400 and 404 as typed errors: ok");
}
