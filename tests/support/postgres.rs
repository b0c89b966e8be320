//! A throwaway PostgreSQL cluster of one test's own, which the test may stop and start again
//! (the shared cluster of `tests/with-postgres.sh` serves other tests at the same time).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Cluster {
    dir: tempfile::TempDir,
    pub port: u16,
    pg_ctl: PathBuf,
    /// initdb and postgres refuse to run as root: then they run as this user.
    run_as: Option<String>,
}

/// A PostgreSQL program: on the PATH, or in Debian's versioned directory.
fn find_bin(name: &str) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file());
    on_path.or_else(|| {
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|entry| Some(entry.ok()?.path().join("bin").join(name)))
            .filter(|candidate| candidate.is_file())
            .collect();
        found.sort_by_key(|p| p.parent().and_then(Path::parent).and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok()));
        found.pop()
    })
}

impl Cluster {
    /// A new cluster on a free loopback port, started. `None`, with a line saying so, without
    /// PostgreSQL's programs, unless `REQUIRE_POSTGRES=1` (CI), where that fails the test.
    pub fn start_new() -> Option<Cluster> {
        let (Some(initdb), Some(pg_ctl)) = (find_bin("initdb"), find_bin("pg_ctl")) else {
            assert!(
                std::env::var("REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "initdb/pg_ctl not found, and REQUIRE_POSTGRES=1"
            );
            eprintln!("SKIPPED: initdb/pg_ctl not found (apt-get install postgresql to run this test)");
            return None;
        };
        let dir = tempfile::Builder::new().prefix("connections-pg-").tempdir().expect("temp dir");
        let run_as = is_root().then(|| {
            let user = if user_exists("postgres") { "postgres" } else { "nobody" };
            let status = Command::new("chown").arg(user).arg(dir.path()).status().expect("chown");
            assert!(status.success(), "chown {user} {}", dir.path().display());
            user.to_owned()
        });
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cluster = Cluster { dir, port, pg_ctl, run_as };
        let data = cluster.data();
        let out = cluster
            .command(&initdb)
            .args(["-D", &data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"])
            .output()
            .expect("run initdb");
        assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
        cluster.start();
        Some(cluster)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn command(&self, program: &Path) -> Command {
        let mut command = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(program);
                c
            }
            None => Command::new(program),
        };
        command.stdin(Stdio::null());
        command
    }

    /// The admin database's URL.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the cluster and waits until it accepts connections. Durability as in production
    /// except `fsync` (a killed server loses nothing the OS has; only a power cut would).
    pub fn start(&self) {
        let options = format!("-h 127.0.0.1 -p {} -k {} -c fsync=off -c max_connections=200", self.port, self.dir.path().display());
        let log = self.dir.path().join("server.log").display().to_string();
        let out = self
            .command(&self.pg_ctl)
            .args(["-D", &self.data(), "-l", &log, "-w", "-t", "60", "start", "-o", &options])
            .output()
            .expect("run pg_ctl start");
        assert!(out.status.success(), "pg_ctl start: {}", std::fs::read_to_string(&log).unwrap_or_default());
    }

    /// Stops the cluster the hard way: every backend is killed, as in a crash.
    pub fn stop(&self) {
        let out = self
            .command(&self.pg_ctl)
            .args(["-D", &self.data(), "-m", "immediate", "-w", "stop"])
            .output()
            .expect("run pg_ctl stop");
        assert!(out.status.success(), "pg_ctl stop: {}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .command(&self.pg_ctl)
            .args(["-D", &self.data(), "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0\n")).unwrap_or(false)
}

fn user_exists(name: &str) -> bool {
    Command::new("id").arg(name).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}
