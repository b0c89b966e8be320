//! Running the real binary: a scratch directory, the command, a server on a free port.
//! Shared by the test binaries that start processes (`#[path]`-included).
#![allow(dead_code)]

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_connections-api");
pub const SECRET: &str = "cli-test-secret-cli-test-secret-00";

pub struct Cli {
    pub dir: tempfile::TempDir,
    /// `None`: the default, `connections.sqlite3` in `dir`.
    pub database_url: Option<String>,
}

impl Cli {
    pub fn new() -> Cli {
        Cli { dir: tempfile::tempdir().unwrap(), database_url: None }
    }

    /// Every command of this one works on this database.
    pub fn on(database_url: &str) -> Cli {
        Cli { database_url: Some(database_url.to_owned()), ..Cli::new() }
    }

    /// The database's URL, as the commands see it.
    pub fn url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.dir.path().join("connections.sqlite3").display()))
    }

    pub fn command(&self) -> Command {
        let mut command = Command::new(BIN);
        command
            .current_dir(self.dir.path())
            .env_remove("DATABASE_URL")
            .env_remove("BIND")
            .env("JWT_SECRET", SECRET)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null());
        if let Some(url) = &self.database_url {
            command.env("DATABASE_URL", url);
        }
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    /// Users `1..=users` in bulk, and the community in friendship mode (where the connection
    /// endpoints answer): the set-up of most tests that start a server.
    pub fn seed_friendship_community(&self, users: u32) {
        self.ok(&["seed", "--users", &users.to_string()]);
        self.ok(&["preference", "set", "configurations.follow_enabled", "false"]);
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }
}

/// A failure is one line on stderr, `error: SETTING: ...`, and no backtrace.
pub fn assert_one_line_error(out: &Output, starts_with: &str) -> String {
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {stderr:?}");
    assert!(lines[0].starts_with(starts_with), "{stderr:?}");
    assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"), "{stderr:?}");
    stderr
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn wait_until_serving(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(base.trim_start_matches("http://")).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the server did not start");
}

/// `serve` on a free port of this machine, once it accepts connections: the process, its base URL
/// and its port. `configure` adds to the command (environment, output).
pub fn start_server(cli: &Cli, configure: impl FnOnce(&mut Command)) -> (Server, String, u16) {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut command = cli.command();
    command.args(["serve", "--bind", &format!("127.0.0.1:{port}")]).stderr(Stdio::null());
    configure(&mut command);
    let server = Server(command.spawn().unwrap());
    wait_until_serving(&base);
    (server, base, port)
}

/// A server process, killed when dropped: a failing test leaves none behind.
pub struct Server(pub std::process::Child);

impl std::ops::Deref for Server {
    type Target = std::process::Child;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Server {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// The JSON body of the answer to `request`.
pub async fn json_of(request: reqwest::RequestBuilder) -> serde_json::Value {
    request.send().await.expect("an answer").json().await.expect("a JSON body")
}

/// Another process's SQLite write transaction on `url`, holding the database's write lock until
/// it is rolled back (the pool comes with it: it must outlive the transaction).
pub async fn hold_sqlite_write_lock(url: &str) -> (connections_api::db::connection::Repo, sea_orm::DatabaseTransaction) {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    let other = connections_api::db::connection::Repo::connect(url).await.unwrap();
    let options = TransactionOptions { sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate), ..Default::default() };
    let lock = other.connection().begin_with_options(options).await.unwrap();
    (other, lock)
}

/// A sample's value in the server's `/metrics` text (`None`: no such sample).
pub async fn metric(base: &str, sample: &str) -> Option<f64> {
    let text = reqwest::get(format!("{base}/metrics")).await.ok()?.text().await.ok()?;
    text.lines().find_map(|line| line.strip_prefix(sample)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Waits (a bounded poll, never a fixed pause) until `sample` in `/metrics` is at least `value`.
pub async fn wait_for_metric(base: &str, sample: &str, value: f64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if metric(base, sample).await.is_some_and(|v| v >= value) {
            return;
        }
        assert!(Instant::now() < deadline, "{sample} did not reach {value} within 60 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the server's port refuses new connections (its listener closed); how long that took.
pub fn wait_until_not_accepting(port: u16) -> Duration {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(started.elapsed() < Duration::from_secs(60), "still accepting 60 s later");
        std::thread::sleep(Duration::from_millis(20));
    }
    started.elapsed()
}
