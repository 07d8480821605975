//! A real, throwaway PostgreSQL 15 server for the tests: `initdb` and `pg_ctl`
//! into a temporary directory as the `postgres` user (the server refuses to run
//! as root), listening on 127.0.0.1 at a free port, stopped when dropped, even
//! when the test fails.
use std::path::{Path, PathBuf};
use std::process::Command;

use super::free_port;

pub const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
pub const PASSWORD: &str = "s3cret-test-only";

pub struct PgServer {
    pub dir: tempfile::TempDir,
    pub port: u16,
}

/// Runs a command as the postgres user and panics with its output on failure.
pub fn as_postgres(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut command = Command::new("runuser");
    command.args(["-u", "postgres", "--", "env"]);
    for (key, value) in env {
        command.arg(format!("{key}={value}"));
    }
    let output = command.args(args).output().expect("runuser runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{args:?} failed: {text}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub const DEFAULT_HBA: &str = "local all postgres trust\nhost all all 127.0.0.1/32 scram-sha-256\n";

impl PgServer {
    /// A stopped, initialised cluster; `start` runs it.
    pub fn init(conf: &str, hba: &str) -> PgServer {
        let dir = tempfile::Builder::new()
            .prefix("driftaudit-pg-")
            .tempdir()
            .unwrap();
        let status = Command::new("chown")
            .args(["postgres:postgres", dir.path().to_str().unwrap()])
            .status()
            .unwrap();
        assert!(status.success());
        let port = free_port();
        let server = PgServer { dir, port };
        as_postgres(
            &[
                &format!("{PG_BIN}/initdb"),
                "-D",
                server.data().to_str().unwrap(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            &[],
        );
        let overrides = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\n{conf}\n",
            server.socket_dir()
        );
        let conf_path = server.data().join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf_path).unwrap();
        text.push_str(&overrides);
        std::fs::write(&conf_path, text).unwrap();
        std::fs::write(server.data().join("pg_hba.conf"), hba).unwrap();
        server
    }

    pub fn start(&self, env: &[(&str, &str)]) {
        as_postgres(
            &[
                &format!("{PG_BIN}/pg_ctl"),
                "-D",
                self.data().to_str().unwrap(),
                "-l",
                self.dir.path().join("server.log").to_str().unwrap(),
                "-w",
                "start",
            ],
            env,
        );
        self.psql(
            "postgres",
            &format!("ALTER ROLE postgres PASSWORD '{PASSWORD}'"),
        );
    }

    /// Initialised and started with the given settings and hba rules.
    pub fn running(conf: &str, hba: &str) -> PgServer {
        let server = PgServer::init(conf, hba);
        server.start(&[]);
        server
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn socket_dir(&self) -> String {
        self.dir.path().display().to_string()
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs SQL through the Unix socket as postgres (trust), returns `-At` output.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let output = Command::new("psql")
            .args(["-X", "-At", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(self.socket_dir())
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                db,
                "-c",
                sql,
            ])
            .output()
            .expect("psql runs");
        assert!(
            output.status.success(),
            "psql failed: {sql}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// A connection string without password, as the CLI takes it.
    pub fn dsn(&self, db: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname={db} sslmode=disable",
            self.port
        )
    }

    /// The server label findings carry.
    pub fn label(&self, db: &str) -> String {
        format!("127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let stopped = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(format!("{PG_BIN}/pg_ctl"))
            .args([
                "-D",
                self.data().to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ])
            .output()
            .is_ok_and(|o| o.status.success());
        if !stopped {
            // pg_ctl failed: kill the postmaster by the PID it recorded.
            if let Ok(text) = std::fs::read_to_string(self.data().join("postmaster.pid")) {
                if let Some(pid) = text.lines().next() {
                    let _ = Command::new("kill").args(["-9", pid.trim()]).status();
                }
            }
        }
    }
}
