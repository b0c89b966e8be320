//! The operator command line, run as the real binary.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/process.rs"]
mod process;
#[path = "support/receiver.rs"]
#[allow(dead_code)]
mod receiver;

use process::{Cli, SECRET, assert_one_line_error, hold_sqlite_write_lock, json_of, start_server, wait_for_metric, wait_until_not_accepting};

#[test]
fn users_are_created_in_the_default_database_file_and_deleted() {
    let cli = Cli::new();
    assert_eq!(cli.ok(&["user", "create", "alice", "--real-name", "Alice L"]), "1\n");
    assert_eq!(cli.ok(&["user", "create", "bob"]), "2\n");
    assert!(cli.dir.path().join("connections.sqlite3").exists(), "the default SQLite file, created");
    cli.ok(&["user", "delete", "2"]);
    let out = cli.run(&["user", "delete", "2"]);
    assert_one_line_error(&out, "error: no user 2");
    let out = cli.run(&["user", "create", "alice"]);
    assert_one_line_error(&out, "error: ");
}

/// A one-shot command prints its result and nothing else, without RUST_LOG too (a new database
/// is migrated first: the migrator's progress is not the command's output).
#[test]
fn one_shot_commands_print_only_their_result() {
    let cli = Cli::new();
    let out = cli.command().env_remove("RUST_LOG").args(["user", "create", "alice"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "nothing on stderr");
}

#[test]
fn tokens_are_signed_with_jwt_secret() {
    let cli = Cli::new();
    let token = cli.ok(&["token", "7", "--ttl", "120"]);
    let auth = connections_api::http::tokens::Authenticator::new(SECRET.as_bytes(), 0);
    let claims = auth.verify(token.trim()).expect("the printed token verifies");
    assert_eq!(claims.user_id, 7);
    assert!(claims.exp - connections_api::http::tokens::unix_now() <= 120);

    let out = cli.command().env_remove("JWT_SECRET").args(["token", "7"]).output().unwrap();
    assert_one_line_error(&out, "error: JWT_SECRET: ");

    // Secrets come from the environment only: flags show in `ps`.
    let out = cli.command().env_remove("JWT_SECRET").args(["token", "7", "--jwt-secret", "in-ps"]).output().unwrap();
    assert_one_line_error(&out, "error: JWT_SECRET: set it in the environment");
    let out = cli.command().args(["serve", "--bind", "127.0.0.1:0", "--jwt-previous-secrets", "old"]).output().unwrap();
    assert_one_line_error(&out, "error: JWT_SECRET: set it in the environment");
}

#[test]
fn preferences_are_set_and_listed() {
    let cli = Cli::new();
    let listed = cli.ok(&["preference", "list"]);
    assert!(listed.contains("configurations.follow_enabled = true"), "{listed}");
    cli.ok(&["preference", "set", "configurations.follow_enabled", "false"]);
    cli.ok(&["preference", "set", "appearance.color", "blue"]);
    let listed = cli.ok(&["preference", "list"]);
    assert!(listed.contains("configurations.follow_enabled = false"), "{listed}");
    assert!(listed.contains("appearance.color = \"blue\""), "{listed}");

    let out = cli.run(&["preference", "set", "configurations.follow_enabled", "maybe"]);
    assert_one_line_error(&out, "error: configurations.follow_enabled takes true or false");
    let out = cli.run(&["preference", "set", "nodot", "1"]);
    assert_one_line_error(&out, "error: ");
}

#[test]
fn a_user_is_made_staff_and_back() {
    let cli = Cli::new();
    let id = cli.ok(&["user", "create", "boss"]).trim().to_owned();
    cli.ok(&["user", "role", &id, "admin"]);
    cli.ok(&["user", "role", &id, "none"]);
    let out = cli.run(&["user", "role", &id, "owner"]);
    assert!(!out.status.success(), "only admin or none");
    let out = cli.run(&["user", "role", "987654", "admin"]);
    assert_one_line_error(&out, "error: no user 987654 (or deleted)");
}

#[test]
fn features_are_set_and_listed() {
    let cli = Cli::new();
    assert_eq!(cli.ok(&["feature", "list"]), "", "a fresh database has none");
    cli.ok(&["feature", "set", "groups", "true"]);
    cli.ok(&["feature", "set", "events", "false"]);
    cli.ok(&["feature", "set", "groups", "false"]);
    assert_eq!(cli.ok(&["feature", "list"]), "groups = false\nevents = false\n");
    let out = cli.run(&["feature", "set", "groups", "maybe"]);
    assert!(!out.status.success(), "a value other than true or false is refused");
    let out = cli.run(&["feature", "set", "", "true"]);
    assert_one_line_error(&out, "error: \"\": a feature's name has 1 to 100 characters");
}

#[test]
fn webhook_endpoints_are_added_listed_and_removed() {
    let cli = Cli::new();
    assert_eq!(cli.ok(&["webhook", "list"]).trim(), "[]");
    let added: serde_json::Value =
        serde_json::from_str(&cli.ok(&["webhook", "add", "https://93.184.216.34/hook", "--events", "connection.created,connection.deleted"])).unwrap();
    let id = added["id"].as_i64().expect("the new endpoint's id");
    assert_eq!(added["signing_secret"].as_str().map(str::len), Some(64), "{added}");
    let types: Vec<&str> = added["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["connection.created", "connection.deleted"]);
    let listed: serde_json::Value = serde_json::from_str(&cli.ok(&["webhook", "list"])).unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert!(listed[0].get("signing_secret").is_none(), "no secrets in the list: {listed}");
    assert_eq!(listed[0]["target"], "https://93.184.216.34/hook");

    let out = cli.run(&["webhook", "add", "http://127.0.0.1:9/hook"]);
    assert_one_line_error(&out, "error: target: This target is refused: 127.0.0.1 is not a public address");
    let out = cli.run(&["webhook", "add", "https://93.184.216.34/", "--events", "post.created"]);
    assert_one_line_error(&out, "error: events: ");
    cli.ok(&["webhook", "add", "http://127.0.0.1:9/hook", "--allow-private-targets", "true"]);

    cli.ok(&["webhook", "remove", &id.to_string()]);
    let out = cli.run(&["webhook", "remove", &id.to_string()]);
    assert_one_line_error(&out, &format!("error: no webhook endpoint {id}"));
    let listed: serde_json::Value = serde_json::from_str(&cli.ok(&["webhook", "list"])).unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
}

#[test]
fn bad_settings_stop_the_program_with_one_line_naming_them() {
    let cli = Cli::new();
    let out = cli.command().args(["serve", "--bind", "not-an-address"]).output().unwrap();
    assert_one_line_error(&out, "error: BIND: ");

    let out = cli.command().env("BIND", "999.1.1.1:80").args(["serve"]).output().unwrap();
    assert_one_line_error(&out, "error: BIND: ");

    let out = cli.command().env("DATABASE_URL", "mysql://root:pw@localhost/x").args(["migrate"]).output().unwrap();
    let stderr = assert_one_line_error(&out, "error: DATABASE_URL: ");
    assert!(!stderr.contains(":pw@"), "no password in errors: {stderr}");

    // Port 9 on loopback: nothing listens there.
    let out = cli
        .command()
        .env("DATABASE_URL", "postgres://app:hunter2@127.0.0.1:9/db")
        .args(["migrate"])
        .output()
        .unwrap();
    let stderr = assert_one_line_error(&out, "error: DATABASE_URL: ");
    assert!(!stderr.contains("hunter2"), "no password in errors: {stderr}");

    let out = cli.command().env_remove("JWT_SECRET").args(["serve", "--bind", "127.0.0.1:0"]).output().unwrap();
    assert_one_line_error(&out, "error: JWT_SECRET: ");
}

#[test]
fn openapi_prints_the_generated_spec() {
    let cli = Cli::new();
    let printed = cli.ok(&["openapi"]);
    assert_eq!(printed, connections_api::server::spec::generate_yaml().unwrap());
    let json: serde_json::Value = serde_json::from_str(&cli.ok(&["openapi", "--json"])).unwrap();
    assert_eq!(json, connections_api::server::spec::generate().unwrap());
}

/// `serve --demo` (what `make run` starts) with `extra` flags: the docs URL and the four tokens
/// it prints, and the running process.
fn start_demo(cli: &Cli, extra: &[&str]) -> (String, Vec<String>, std::process::Child) {
    let mut child = cli
        .command()
        .env_remove("JWT_SECRET")
        .args(["serve", "--demo", "--bind", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut docs, mut tokens) = (None, Vec::new());
    while tokens.len() < 4 && Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(url) = line.strip_prefix("Docs (Swagger UI): ") {
            docs = Some(url.to_owned());
        }
        if line.trim_start().starts_with(|c: char| c.is_ascii_lowercase()) && line.contains("(id ") {
            tokens.push(line.rsplit(' ').next().unwrap().to_owned());
        }
    }
    let docs = docs.expect("the docs URL is printed");
    assert_eq!(tokens.len(), 4, "a token per demo user");
    (docs, tokens, child)
}

/// `serve --demo` seeds users in follow mode (SelfCommunity's default), prints the docs URL
/// and tokens that work.
#[test]
fn demo_mode_prints_tokens_that_work_in_follow_mode() {
    let cli = Cli::new();
    let (docs, tokens, mut child) = start_demo(&cli, &[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (docs_status, follow_status, followed, request) = runtime.block_on(async {
        let client = reqwest::Client::new();
        let docs_status = client.get(&docs).send().await.unwrap().status().as_u16();
        let base = docs.trim_end_matches("/docs/");
        let follow = client.post(format!("{base}/api/v2/user/2/follow/")).bearer_auth(&tokens[0]).send().await.unwrap();
        let followed = json_of(client.get(format!("{base}/api/v2/user/2/is_followed/")).bearer_auth(&tokens[0])).await;
        let request = json_of(client.post(format!("{base}/api/v2/user/2/connection/request/")).bearer_auth(&tokens[0])).await;
        (docs_status, follow.status().as_u16(), followed, request)
    });
    child.kill().ok();
    child.wait().ok();
    assert_eq!(docs_status, 200);
    assert_eq!(follow_status, 204, "alice follows bob");
    assert_eq!(followed["is_followed"], true);
    assert_eq!(request["errors"][0]["code"], "friendship_mode_disabled", "follow mode answers requests 403: {request}");
}

/// `serve --demo --demo-mode friendship`: the same demo in friendship mode.
#[test]
fn demo_mode_switches_to_friendship_mode() {
    let cli = Cli::new();
    let (docs, tokens, mut child) = start_demo(&cli, &["--demo-mode", "friendship"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let answer = runtime.block_on(async {
        let client = reqwest::Client::new();
        let base = docs.trim_end_matches("/docs/");
        json_of(client.post(format!("{base}/api/v2/user/2/connection/request/")).bearer_auth(&tokens[0])).await
    });
    child.kill().ok();
    child.wait().ok();
    assert_eq!(answer["connection_status"], "sent_connection_request", "friendship mode: {answer}");
}

/// `seed` fills an empty database in bulk, and refuses a database that has users.
#[test]
fn seed_loads_users_and_relations_in_bulk() {
    let cli = Cli::new();
    cli.ok(&["seed", "--users", "40", "--connections", "150", "--requests", "150"]);
    let (runtime, repo) = repo_of(&cli);
    let counts = runtime.block_on(repo.relation_counts()).unwrap();
    assert_eq!(counts, connections_api::db::connection::RelationCounts { requests: 150, connections: 150 });
    let out = cli.run(&["seed", "--users", "10"]);
    assert_one_line_error(&out, "error: seed needs an empty database");
    let out = Cli::new().run(&["seed", "--users", "10", "--connections", "100"]);
    assert_one_line_error(&out, "error: 10 users make room for");
}

/// `seed --follows --celebrity-followers`: a celebrity (user 1) with its followers, follows
/// among the others, every counter equal to its rows.
#[test]
fn seed_loads_follows_and_a_celebrity() {
    let cli = Cli::new();
    cli.ok(&["seed", "--users", "40", "--follows", "300", "--celebrity-followers", "60"]);
    let (runtime, repo) = repo_of(&cli);
    let (celebrity, last, beyond, miscounted, rows) = runtime.block_on(async {
        use sea_orm::{EntityTrait, PaginatorTrait};
        let celebrity = repo.find_active_user(1).await.unwrap().unwrap();
        let last = repo.find_active_user(61).await.unwrap().map(|u| u.followings_counter);
        let beyond = repo.find_active_user(62).await.unwrap().is_some();
        let miscounted = repo.miscounted_users().await.unwrap();
        let rows = connections_api::db::entities::follows::Entity::find().count(repo.connection()).await.unwrap();
        (celebrity, last, beyond, miscounted, rows)
    });
    assert_eq!((celebrity.followers_counter, celebrity.followings_counter), (60, 0));
    assert_eq!(last, Some(1), "users are made up to the last follower of user 1, who follows only user 1");
    assert!(!beyond);
    assert!(miscounted.is_empty(), "every counter equals its rows: {miscounted:?}");
    assert_eq!(rows, 300 + 60, "300 follows among users 2..=40, and user 1's 60 followers");
    let out = Cli::new().run(&["seed", "--users", "10", "--follows", "100"]);
    assert_one_line_error(&out, "error: 10 users make room for 18 distinct follows, not 100");
}

/// A runtime and the library's repository on the CLI's database.
fn repo_of(cli: &Cli) -> (tokio::runtime::Runtime, connections_api::db::connection::Repo) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let repo = runtime.block_on(connections_api::db::connection::Repo::connect(&cli.url())).unwrap();
    (runtime, repo)
}

/// Sends a request (which the caller's write lock keeps in flight), waits until the server is
/// serving it (its in-flight gauge says so: the scrape and this request), then sends SIGTERM.
async fn sigterm_during_a_request(base: &str, pid: u32) -> tokio::task::JoinHandle<reqwest::Result<reqwest::Response>> {
    let token = connections_api::http::tokens::Authenticator::new(SECRET.as_bytes(), 0).issue(1, 600);
    let request = tokio::spawn(reqwest::Client::new().post(format!("{base}/api/v2/user/2/connection/request/")).bearer_auth(token).send());
    wait_for_metric(base, "connections_http_requests_in_flight", 2.0).await;
    Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    request
}

/// Waits for the server process to exit on its own; its status.
fn wait_for_exit(server: &mut process::Server) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = server.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the server did not stop within 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `SIGTERM` stops the server: a request in flight is answered, and it exits 0.
#[test]
fn sigterm_finishes_requests_in_flight_and_exits_0() {
    let cli = Cli::new();
    cli.seed_friendship_community(50);
    let (mut server, base, port) = start_server(&cli, |_| {});
    let url = cli.url();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let answer = runtime.block_on(async {
        // Another process's writer holds the database: the server's write waits for it, in flight.
        let (_other, lock) = hold_sqlite_write_lock(&url).await;
        let request = sigterm_during_a_request(&base, server.id()).await;
        tokio::task::spawn_blocking(move || wait_until_not_accepting(port)).await.unwrap();
        lock.rollback().await.unwrap();
        request.await.unwrap().map(|r| r.status().as_u16())
    });
    assert_eq!(answer.ok(), Some(200), "the request in flight is answered");
    let status = wait_for_exit(&mut server);
    assert!(status.success(), "exit status {status:?}");
}

/// `SHUTDOWN_DRAIN`: after SIGTERM, `/readyz` answers `503 shutting_down` (and answers close
/// their connections) while the listener still accepts and serves, for the drain's length;
/// then the listener closes and the process exits 0.
#[test]
fn sigterm_drains_with_readyz_503_before_closing_the_listener() {
    const DRAIN: Duration = Duration::from_secs(5);
    let cli = Cli::new();
    cli.seed_friendship_community(3);
    let (mut server, base, port) = start_server(&cli, |command| {
        command.env("SHUTDOWN_DRAIN", DRAIN.as_secs().to_string());
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ready = runtime.block_on(async { reqwest::get(format!("{base}/readyz")).await.unwrap().status().as_u16() });
    assert_eq!(ready, 200, "ready before SIGTERM");
    let signalled = Instant::now();
    Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    let (status, connection, code) = runtime.block_on(async {
        // Each poll is a new connection: the listener accepts it and the server answers it.
        let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
        loop {
            let response = client.get(format!("{base}/readyz")).send().await.expect("still accepting while draining");
            if response.status() == 503 {
                let connection = response.headers().get("connection").map(|v| v.to_str().unwrap().to_owned());
                let body: serde_json::Value = response.json().await.unwrap();
                return (503, connection, body["errors"][0]["code"].clone());
            }
            assert!(signalled.elapsed() < DRAIN, "/readyz still answered 200 when the drain was over");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    assert_eq!((status, connection.as_deref(), code.as_str()), (503, Some("close"), Some("shutting_down")));
    let token = connections_api::http::tokens::Authenticator::new(SECRET.as_bytes(), 0).issue(1, 600);
    let sent_after = signalled.elapsed();
    let served = runtime.block_on(async {
        let request = reqwest::Client::new().post(format!("{base}/api/v2/user/2/connection/request/")).bearer_auth(token);
        request.send().await.map(|r| r.status().as_u16())
    });
    // An ordinary request during the drain is served (unless it was sent at the drain's very end).
    assert!(served.as_ref().is_ok_and(|s| *s == 200) || sent_after + Duration::from_secs(1) > DRAIN, "{served:?}");
    wait_until_not_accepting(port);
    let closed_after = signalled.elapsed();
    assert!(closed_after >= DRAIN, "the listener closed {closed_after:?} after SIGTERM, before the drain's {DRAIN:?}");
    let status = wait_for_exit(&mut server);
    assert!(status.success(), "exit status {status:?}");
}

/// `SHUTDOWN_GRACE` bounds the wait: a request that cannot finish within it (the database is
/// locked for longer) does not keep the process alive, and the exit is still 0.
#[test]
fn sigterm_waits_no_longer_than_the_grace_period() {
    let cli = Cli::new();
    cli.seed_friendship_community(5);
    let (mut server, base, _) = start_server(&cli, |command| {
        command.env("SHUTDOWN_GRACE", "1");
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (answer, status) = runtime.block_on(async {
        // Held past the grace period: the request waits on SQLite's 5 s busy timeout.
        let (_other, lock) = hold_sqlite_write_lock(&cli.url()).await;
        let request = sigterm_during_a_request(&base, server.id()).await;
        let status = tokio::task::spawn_blocking(move || server.wait().unwrap()).await.unwrap();
        let answer = request.await.unwrap();
        lock.rollback().await.unwrap();
        (answer, status)
    });
    assert!(status.success(), "exit status {status:?}");
    assert!(answer.is_err(), "the process ended before the request could be answered: {answer:?}");
}

/// Tokens, the secret and database passwords never appear in the logs, even at `debug`.
#[test]
fn no_secret_reaches_the_logs() {
    let cli = Cli::new();
    cli.seed_friendship_community(5);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let hook = runtime.block_on(receiver::Receiver::start(receiver::Behaviour::Answer));
    let added: serde_json::Value =
        serde_json::from_str(&cli.ok(&["webhook", "add", &hook.url, "--allow-private-targets", "true"])).unwrap();
    let webhook_secret = added["signing_secret"].as_str().unwrap().to_owned();
    let log = cli.dir.path().join("server.log");
    let (mut server, base, _) = start_server(&cli, |command| {
        command
            .env("RUST_LOG", "debug")
            .env("WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")
            .stderr(std::fs::File::create(&log).unwrap());
    });
    let auth = connections_api::http::tokens::Authenticator::new(SECRET.as_bytes(), 0);
    let good = auth.issue(1, 600);
    let forged = connections_api::http::tokens::Authenticator::new(b"forged-key", 0).issue(1, 600);
    runtime.block_on(async {
        let client = reqwest::Client::new();
        for token in [&good, &forged] {
            client.post(format!("{base}/api/v2/user/2/connection/request/")).bearer_auth(token).send().await.unwrap();
            client.get(format!("{base}/api/v2/user/me/")).bearer_auth(token).send().await.unwrap();
        }
        client
            .post(format!("{base}/api/v2/jwt/verify_token/"))
            .json(&serde_json::json!({"token": good}))
            .send()
            .await
            .unwrap();
        hook.wait_for(1).await;
    });
    server.kill().ok();
    server.wait().ok();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("serving"), "the log was written: {text}");
    assert!(!hook.received().is_empty(), "a webhook was delivered while the logs were written");
    for secret in [good.as_str(), forged.as_str(), SECRET, good.split('.').nth(2).unwrap(), webhook_secret.as_str()] {
        assert!(!text.contains(secret), "a secret in the logs:\n{text}");
    }
}

/// Key rotation: a token signed with a previous secret still works; JWT_SECRET signs.
#[test]
fn previous_secrets_still_verify() {
    let cli = Cli::new();
    cli.ok(&["seed", "--users", "3"]);
    let (mut server, base, _) = start_server(&cli, |command| {
        command.env("JWT_PREVIOUS_SECRETS", "retired-one, retired-two");
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let statuses = runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut statuses = Vec::new();
        for key in [SECRET.as_bytes(), b"retired-two".as_slice(), b"never-used".as_slice()] {
            let token = connections_api::http::tokens::Authenticator::new(key, 0).issue(1, 600);
            let response = client.get(format!("{base}/api/v2/user/me/")).bearer_auth(token).send().await.unwrap();
            statuses.push(response.status().as_u16());
        }
        statuses
    });
    server.kill().ok();
    server.wait().ok();
    assert_eq!(statuses, vec![200, 200, 401]);
}

/// `LOG_FORMAT=json`: every log line is a JSON object, and those written while serving a request
/// carry its `X-Request-Id`.
#[test]
fn json_logs_carry_the_request_id() {
    let cli = Cli::new();
    cli.seed_friendship_community(3);
    let log = cli.dir.path().join("server.log");
    let (mut server, base, _) = start_server(&cli, |command| {
        command.env("LOG_FORMAT", "json").env("RUST_LOG", "info").stderr(std::fs::File::create(&log).unwrap());
    });
    let token = connections_api::http::tokens::Authenticator::new(SECRET.as_bytes(), 0).issue(1, 600);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let status = runtime.block_on(async {
        reqwest::Client::new()
            .post(format!("{base}/api/v2/user/2/connection/request/"))
            .bearer_auth(token)
            .header("X-Request-Id", "trace-json-1")
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);
    // The line is written (unbuffered, to the file) while the request is served, before its answer.
    server.kill().ok();
    server.wait().ok();
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let event = lines
        .iter()
        .find(|l| l["fields"]["message"] == "relation changed")
        .unwrap_or_else(|| panic!("no event for the request in:\n{text}"));
    assert_eq!(event["span"]["request_id"], "trace-json-1", "{event}");
    assert_eq!(event["fields"]["event"], "connection_request.created");
}

/// Tokens from an identity provider: verified with its public key (no JWT_SECRET), `iss` and
/// `aud` checked; a wrong key, issuer or audience is `401`, and bad key settings stop the start.
#[test]
fn identity_provider_tokens_verify_with_the_public_key() {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/jwt");
    let cli = Cli::new();
    cli.ok(&["seed", "--users", "3"]);
    let (mut server, base, _) = start_server(&cli, |command| {
        command
            .env_remove("JWT_SECRET")
            .env("JWT_PUBLIC_KEY_FILE", fixtures.join("es256-public.pem"))
            .env("JWT_ALGORITHM", "ES256")
            .env("JWT_ISSUER", "https://id.example.com")
            .env("JWT_AUDIENCE", "connections,community");
    });
    let sign = |key_file: &str, iss: &str, aud: &str| {
        let key = EncodingKey::from_ec_pem(&std::fs::read(fixtures.join(key_file)).unwrap()).unwrap();
        let claims = serde_json::json!({
            "user_id": 2, "exp": connections_api::http::tokens::unix_now() + 600, "iss": iss, "aud": aud,
        });
        jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &key).unwrap()
    };
    let cases = [
        ("the provider's token", sign("es256-private.pem", "https://id.example.com", "community"), 200),
        ("another key", sign("other-es256-private.pem", "https://id.example.com", "community"), 401),
        ("another issuer", sign("es256-private.pem", "https://evil.example.com", "community"), 401),
        ("another audience", sign("es256-private.pem", "https://id.example.com", "billing"), 401),
        ("an HS256 token", connections_api::http::tokens::Authenticator::new(SECRET.as_bytes(), 0).issue(2, 600), 401),
    ];
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let answers = runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut answers = Vec::new();
        for (name, token, _) in &cases {
            let response = client.get(format!("{base}/api/v2/user/me/")).bearer_auth(token).send().await.unwrap();
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap();
            answers.push((*name, status, body));
        }
        answers
    });
    server.kill().ok();
    server.wait().ok();
    for ((name, status, body), (_, _, expected)) in answers.iter().zip(&cases) {
        assert_eq!(status, expected, "{name}: {body}");
        if *status == 200 {
            assert_eq!(body["id"], 2, "{name}: {body}");
        } else {
            assert_eq!(body["errors"][0]["code"], "token_not_valid", "{name}: {body}");
        }
    }

    let out = cli
        .command()
        .env_remove("JWT_SECRET")
        .env("JWT_PUBLIC_KEY_FILE", fixtures.join("es256-public.pem"))
        .env("JWT_ALGORITHM", "RS256")
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .unwrap();
    let stderr = assert_one_line_error(&out, "error: JWT_PUBLIC_KEY_FILE: ");
    assert!(!stderr.contains("MFkw"), "the key's content is not printed: {stderr}");
    let out = cli
        .command()
        .env("JWT_PUBLIC_KEY_FILE", fixtures.join("es256-public.pem"))
        .env("JWT_ALGORITHM", "HS256")
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_one_line_error(&out, "error: JWT_ALGORITHM: ");
    let out = cli
        .command()
        .env("JWT_PUBLIC_KEY_FILE", fixtures.join("es256-public.pem"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_one_line_error(&out, "error: JWT_ALGORITHM: is not set");
}
