//! Smoke tests of the `settle` binary: serve, restart, verify and tenant creation, run as a
//! user would in a temporary folder.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

const KEY: &str = "sk_smoke_0123456789abcdef";

fn settle() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_settle"));
    command
        .env_remove("SETTLE_DATABASE")
        .env_remove("SETTLE_LISTEN")
        .env_remove("SETTLE_API_KEY")
        .env("RUST_LOG", "warn");
    command
}

/// A server process and the address it listens on.
struct Server {
    child: Child,
    addr: String,
    first_lines: Vec<String>,
}

impl Server {
    fn start(db: &Path, key: Option<&str>) -> Server {
        let mut command = settle();
        command
            .args([
                "serve",
                "--database",
                &format!("sqlite:{}", db.display()),
                "--listen",
                "127.0.0.1:0",
            ])
            .stdout(Stdio::piped());
        if let Some(key) = key {
            command.env("SETTLE_API_KEY", key);
        }
        // The child is killed and waited for when the `Server` is dropped.
        #[allow(clippy::zombie_processes, reason = "Server's Drop waits for the child")]
        let mut child = command.spawn().expect("spawn settle serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        let mut first_lines = Vec::new();
        loop {
            let mut line = String::new();
            assert!(
                reader.read_line(&mut line).expect("read") > 0,
                "server exited early: {first_lines:?}"
            );
            let found = line
                .split("http://")
                .nth(1)
                .and_then(|rest| rest.split('/').next())
                .map(str::to_owned);
            first_lines.push(line);
            if let Some(addr) = found {
                return Server { child, addr, first_lines };
            }
        }
    }

    /// One HTTP/1.1 request; returns status and body.
    fn request(&self, method: &str, path: &str, key: &str, body: &str) -> (u16, String) {
        let (status, _, body) = send(&self.addr, method, path, key, None, body).expect("request");
        (status, body)
    }
}

/// One HTTP/1.1 request over a fresh connection: status, headers and body; `None` when the
/// server is gone.
fn send(
    addr: &str,
    method: &str,
    path: &str,
    key: &str,
    idempotency_key: Option<&str>,
    body: &str,
) -> Option<(u16, String, String)> {
    let mut stream = TcpStream::connect(addr).ok()?;
    let idempotency =
        idempotency_key.map(|k| format!("Idempotency-Key: {k}\r\n")).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\n{idempotency}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok())?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    Some((status, head.to_owned(), body.to_owned()))
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn field(body: &str, name: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(body).expect("json");
    value[name].as_str().expect("string field").to_owned()
}

#[test]
fn serve_answers_keeps_data_across_a_restart_and_verify_agrees() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("settle.db");
    let server = Server::start(&db, Some(KEY));
    assert_eq!(server.request("GET", "/healthz", "", "").0, 200);
    assert_eq!(server.request("GET", "/v1/customers", "sk_wrong_0000000000", "").0, 401);
    let (status, body) = server.request("POST", "/v1/customers", KEY, r#"{"name":"Smoke Test"}"#);
    assert_eq!(status, 201, "{body}");
    let customer = field(&body, "id");
    let (status, body) = server.request(
        "POST",
        &format!("/v1/customers/{customer}/entries"),
        KEY,
        r#"{"kind":"charge","amount":"150.00","description":"Setup"}"#,
    );
    assert_eq!(status, 201, "{body}");
    drop(server);

    let server = Server::start(&db, Some(KEY));
    let (status, body) = server.request("GET", &format!("/v1/customers/{customer}"), KEY, "");
    assert_eq!(status, 200, "{body}");
    assert_eq!(field(&body, "balance"), "-150.00");
    drop(server);

    let verify = settle()
        .args(["verify", "--database", &format!("sqlite:{}", db.display())])
        .output()
        .expect("verify");
    let out = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success(), "{out}");
    assert!(out.contains("0 differences"), "{out}");
}

#[test]
fn an_empty_store_prints_a_new_admin_key_once_and_tenants_can_be_added() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("settle.db");
    let server = Server::start(&db, None);
    let printed = server.first_lines.join("");
    let key = printed
        .split_whitespace()
        .find(|w| w.starts_with("sk_settle_"))
        .expect("a key is printed")
        .to_owned();
    assert_eq!(server.request("GET", "/v1/customers", &key, "").0, 200);
    drop(server);
    let again = Server::start(&db, None);
    assert!(!again.first_lines.join("").contains("sk_settle_"), "the key is shown only once");
    drop(again);

    let created = settle()
        .args(["tenant", "create", "Second Co", "--database", &format!("sqlite:{}", db.display())])
        .output()
        .expect("tenant create");
    let out = String::from_utf8_lossy(&created.stdout);
    assert!(created.status.success(), "{out}");
    assert!(out.contains("tenant: ten_"), "{out}");
    assert!(out.contains("sk_settle_"), "{out}");
}

#[test]
fn a_short_api_key_and_an_unknown_store_url_are_refused() {
    let short = settle()
        .args(["serve", "--database", "sqlite::memory:"])
        .env("SETTLE_API_KEY", "short")
        .output()
        .expect("run");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 16 characters"));
    let unknown = settle().args(["verify", "--database", "mysql://x"]).output().expect("run");
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown store URL"));
}

#[test]
fn demo_loads_every_seed_situation_once_and_verifies() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite:{}", dir.path().join("settle.db").display());
    let demo = settle().args(["demo", "--database", &url]).output().expect("demo");
    let out = String::from_utf8_lossy(&demo.stdout);
    assert!(demo.status.success(), "{out}");
    for seed in [
        "seed 000 option 1",
        "seed 000 option 2",
        "seed 000 option 3",
        "seed 001",
        "seed 002",
        "seed 003",
    ] {
        assert!(out.contains(seed), "{seed} missing from: {out}");
    }
    assert!(out.contains("is at -50.00 from a negative line"), "{out}");
    assert!(out.contains("items at 50.00, 3.13, -50.00, -3.13"), "{out}");
    assert!(out.contains("sk_settle_"), "the new admin key is printed: {out}");
    let again = settle().args(["demo", "--database", &url]).output().expect("demo again");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already has customers"));
    let verify = settle().args(["verify", "--database", &url]).output().expect("verify");
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
}

#[test]
fn kill_nine_under_load_loses_no_acknowledged_operation_in_25_cycles() {
    use std::sync::{Arc, Mutex};

    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("settle.db");
    let server = Server::start(&db, Some(KEY));
    let (status, body) = server.request("POST", "/v1/customers", KEY, r#"{"name":"Crash Test"}"#);
    assert_eq!(status, 201, "{body}");
    let customer = field(&body, "id");
    drop(server);
    let path = format!("/v1/customers/{customer}/entries");
    let entry = |key: &str| format!(r#"{{"kind":"charge","amount":"1.00","description":"{key}"}}"#);
    let mut acknowledged_total = 0;
    for cycle in 0..25 {
        let mut server = Server::start(&db, Some(KEY));
        let acknowledged = Arc::new(Mutex::new(Vec::new()));
        let mut clients = Vec::new();
        for client in 0..4 {
            let (addr, path, acknowledged) =
                (server.addr.clone(), path.clone(), Arc::clone(&acknowledged));
            clients.push(std::thread::spawn(move || {
                for n in 0.. {
                    let key = format!("c{cycle}-t{client}-n{n}");
                    match send(&addr, "POST", &path, KEY, Some(&key), &entry(&key)) {
                        Some((201, _, _)) => acknowledged.lock().expect("lock").push(key),
                        Some((status, _, body)) => panic!("{key}: {status} {body}"),
                        None => break,
                    }
                }
            }));
        }
        // Let the load run, then kill -9 (SIGKILL) mid-flight.
        std::thread::sleep(std::time::Duration::from_millis(150 + 20 * (cycle % 5)));
        server.child.kill().expect("kill -9");
        server.child.wait().expect("wait");
        for client in clients {
            client.join().expect("client");
        }
        drop(server);
        let server = Server::start(&db, Some(KEY));
        let keys = acknowledged.lock().expect("lock").clone();
        assert!(!keys.is_empty(), "cycle {cycle}: the load made progress");
        for key in &keys {
            let (status, head, body) =
                send(&server.addr, "POST", &path, KEY, Some(key), &entry(key)).expect("replay");
            assert_eq!(status, 201, "cycle {cycle} {key}: {body}");
            assert!(
                head.to_lowercase().contains("idempotent-replayed: true"),
                "cycle {cycle}: acknowledged {key} was lost"
            );
        }
        acknowledged_total += keys.len();
        drop(server);
    }
    assert!(acknowledged_total >= 25);
    let verify = settle()
        .args(["verify", "--database", &format!("sqlite:{}", db.display())])
        .output()
        .expect("verify");
    let out = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success() && out.contains("0 differences"), "{out}");
}

#[test]
fn serve_refuses_to_start_on_a_journal_whose_totals_do_not_balance() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("settle.db");
    let server = Server::start(&db, Some(KEY));
    let (status, body) = server.request("POST", "/v1/customers", KEY, r#"{"name":"Audit"}"#);
    assert_eq!(status, 201, "{body}");
    let customer = field(&body, "id");
    let (status, _) = server.request(
        "POST",
        &format!("/v1/customers/{customer}/entries"),
        KEY,
        r#"{"kind":"charge","amount":"10.00","description":"x"}"#,
    );
    assert_eq!(status, 201);
    drop(server);
    let conn = rusqlite::Connection::open(&db).expect("open");
    conn.execute(
        "update customer_account set debit_minor = debit_minor + 1 where account = 'receivable'",
        [],
    )
    .expect("tamper");
    drop(conn);
    let out = settle()
        .args([
            "serve",
            "--database",
            &format!("sqlite:{}", db.display()),
            "--listen",
            "127.0.0.1:0",
        ])
        .env("SETTLE_API_KEY", KEY)
        .output()
        .expect("serve");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("the journal does not balance"));
}
