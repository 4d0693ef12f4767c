//! Smoke tests of the `settle` binary: serve, restart, verify and tenant creation, run as a
//! user would in a temporary folder.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

mod backup;
mod bench;
mod bill_run;
mod bounds;
mod import;
mod observe;
mod ready;
mod shell;
mod shutdown;
mod users;
mod web;

const KEY: &str = "sk_smoke_0123456789abcdef";

fn settle() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_settle"));
    command
        .env_remove("SETTLE_DATABASE")
        .env_remove("SETTLE_LISTEN")
        .env_remove("SETTLE_API_KEY")
        .env_remove("SETTLE_ADMIN_EMAIL")
        .env_remove("SETTLE_ADMIN_PASSWORD")
        .env_remove("SETTLE_PUBLIC_URL")
        .env_remove("SETTLE_SESSION_IDLE")
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
        Server::start_url(&format!("sqlite:{}", db.display()), key)
    }

    /// Starts `settle serve` on any store URL.
    fn start_url(url: &str, key: Option<&str>) -> Server {
        Server::start_with(url, key, &[])
    }

    /// Starts `settle serve` on any store URL with `extra` options.
    fn start_with(url: &str, key: Option<&str>, extra: &[&str]) -> Server {
        let mut command = settle();
        command
            .args(["serve", "--database", url, "--listen", "127.0.0.1:0"])
            .args(extra)
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

/// Creates a store as a user does, with `settle serve` (the only command that creates one), and
/// stops the server; answers the admin key it printed for the tenant it created.
fn create_store(db: &Path) -> String {
    let server = Server::start(db, None);
    server
        .first_lines
        .iter()
        .flat_map(|l| l.split_whitespace())
        .find(|w| w.starts_with("sk_settle_"))
        .expect("serve prints the first admin key")
        .to_owned()
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
fn an_idempotency_retention_under_24_hours_or_malformed_is_refused_in_one_line() {
    let dir = tempfile::tempdir().expect("dir");
    let database = format!("sqlite:{}", dir.path().join("settle.db").display());
    for (flag, why) in [("23h", "kept at least 24h"), ("2 days", "as 48h or 3d")] {
        let out = settle()
            .args(["serve", "--database", &database, "--idempotency-retention", flag])
            .output()
            .expect("run");
        assert!(!out.status.success(), "{flag}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(why), "{flag}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{flag}: {stderr}");
    }
    let env = settle()
        .args(["serve", "--database", &database])
        .env("SETTLE_IDEMPOTENCY_RETENTION", "0d")
        .output()
        .expect("run");
    assert!(!env.status.success());
    assert!(String::from_utf8_lossy(&env.stderr).contains("kept at least 24h"));
}

#[test]
fn demo_loads_every_seed_situation_once_and_verifies() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("settle.db");
    let url = format!("sqlite:{}", db.display());
    create_store(&db);
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
    assert!(!out.contains("sk_settle_"), "the demo loads into the tenant serve created: {out}");
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
    let store = TestStore::new(&dir);
    let server = Server::start_url(&store.url, Some(KEY));
    let (status, body) = server.request("POST", "/v1/customers", KEY, r#"{"name":"Crash Test"}"#);
    assert_eq!(status, 201, "{body}");
    let customer = field(&body, "id");
    drop(server);
    let path = format!("/v1/customers/{customer}/entries");
    let entry = |key: &str| format!(r#"{{"kind":"charge","amount":"1.00","description":"{key}"}}"#);
    let mut acknowledged_total = 0;
    for cycle in 0..25 {
        let mut server = Server::start_url(&store.url, Some(KEY));
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
        // Let the load run until it is acknowledged (a server whose store connects slowly, as
        // over TLS on a loaded machine, takes a while to answer the first writes), a little
        // longer, then kill -9 (SIGKILL) mid-flight.
        let started = std::time::Instant::now();
        while acknowledged.lock().expect("lock").is_empty()
            && started.elapsed() < std::time::Duration::from_secs(30)
        {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        std::thread::sleep(std::time::Duration::from_millis(50 + 20 * (cycle % 5)));
        server.child.kill().expect("kill -9");
        server.child.wait().expect("wait");
        for client in clients {
            client.join().expect("client");
        }
        drop(server);
        let server = Server::start_url(&store.url, Some(KEY));
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
    let verify = settle().args(["verify", "--database", &store.url]).output().expect("verify");
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

/// The store a test serves from: an SQLite file, or, with `SETTLE_TEST_STORE=postgres`, a new
/// PostgreSQL database on `SETTLE_TEST_POSTGRES_URL` (dropped afterwards).
struct TestStore {
    url: String,
    postgres: Option<(String, String)>,
}

impl TestStore {
    fn new(dir: &tempfile::TempDir) -> TestStore {
        if std::env::var("SETTLE_TEST_STORE").as_deref() != Ok("postgres") {
            return TestStore {
                url: format!("sqlite:{}", dir.path().join("settle.db").display()),
                postgres: None,
            };
        }
        TestStore::postgres()
    }

    /// A new PostgreSQL database on `SETTLE_TEST_POSTGRES_URL`, whatever `SETTLE_TEST_STORE`.
    fn postgres() -> TestStore {
        let admin = std::env::var("SETTLE_TEST_POSTGRES_URL").expect("SETTLE_TEST_POSTGRES_URL");
        // Tests of one process run in parallel: each gets its own database.
        static DATABASES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = DATABASES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("settle_cli_{}_{n}", std::process::id());
        let mut client = postgres::Client::connect(&admin, postgres::NoTls).expect("connect");
        client.batch_execute(&format!("drop database if exists {name}")).expect("drop");
        client.batch_execute(&format!("create database {name}")).expect("create");
        let (base, _) = admin.rsplit_once('/').expect("a database in the URL");
        TestStore { url: format!("{base}/{name}"), postgres: Some((admin.clone(), name)) }
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.postgres
            && let Ok(mut client) = postgres::Client::connect(admin, postgres::NoTls)
        {
            let _ = client.batch_execute(&format!("drop database if exists {name} with (force)"));
        }
    }
}

/// Runs `settle export --format FORMAT` on the SQLite file `db`; asserts success, answers
/// stdout.
fn export(db: &Path, format: &str, extra: &[&str]) -> String {
    let out = settle()
        .args(["export", "--format", format, "--database", &format!("sqlite:{}", db.display())])
        .args(extra)
        .output()
        .expect("export");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

/// A request that must succeed (2xx); answers the JSON body.
fn ok(
    server: &Server,
    key: &str,
    method: &str,
    path: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let (status, text) = server.request(method, path, key, &body.to_string());
    assert!((200..300).contains(&status), "{method} {path} {body}: {status} {text}");
    serde_json::from_str(&text).expect("json")
}

/// The `id` of a JSON object.
fn id_of(value: &serde_json::Value) -> String {
    value["id"].as_str().expect("id").to_owned()
}

/// Checks a Beancount export by itself: the opens cover every account the postings use, and
/// each transaction balances in each currency (in minor units). Answers the number of
/// transactions.
fn check_beancount(text: &str) -> usize {
    use std::collections::{BTreeMap, BTreeSet};
    let mut opened = BTreeSet::new();
    let mut txns = 0;
    let mut sums: BTreeMap<&str, i128> = BTreeMap::new();
    let check = |sums: &mut BTreeMap<&str, i128>| {
        assert!(sums.values().all(|s| *s == 0), "unbalanced transaction: {sums:?}\n{text}");
        sums.clear();
    };
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.get(1) == Some(&"open") {
            opened.insert(words[2]);
        } else if words.get(1) == Some(&"*") {
            check(&mut sums);
            txns += 1;
        } else if line.starts_with("  ") && !line.starts_with("   ") && words.len() == 3 {
            let (account, amount, currency) = (words[0], words[1], words[2]);
            assert!(opened.contains(account), "{account} used but not opened");
            let minor: i128 = amount.replace('.', "").parse().expect("amount");
            *sums.entry(currency).or_default() += minor;
        }
    }
    check(&mut sums);
    txns
}

#[test]
fn export_prints_the_journal_as_beancount_and_csv_after_a_few_entries() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("settle.db");
    let server = Server::start(&db, Some(KEY));
    let customer = id_of(&ok(
        &server,
        KEY,
        "POST",
        "/v1/customers",
        serde_json::json!({"name": "Export Smoke"}),
    ));
    let entries = format!("/v1/customers/{customer}/entries");
    ok(
        &server,
        KEY,
        "POST",
        &entries,
        serde_json::json!({"kind": "charge", "amount": "150.00", "description": "Setup, \"rush\""}),
    );
    ok(
        &server,
        KEY,
        "POST",
        &entries,
        serde_json::json!({"kind": "credit", "amount": "40.10", "description": "Paid", "payment_method": "cash"}),
    );
    drop(server);

    let suffix = customer.strip_prefix("cus_").expect("customer id");
    let beancount = export(&db, "beancount", &[]);
    assert!(beancount.starts_with("; Settle journal export: 2 transactions\n"), "{beancount}");
    assert!(beancount.contains("option \"operating_currency\" \"USD\"\n"), "{beancount}");
    assert!(
        beancount.contains(&format!(" open Assets:Receivable:Cus-{suffix} USD\n")),
        "{beancount}"
    );
    assert!(beancount.contains(" open Income:Revenue USD\n"), "{beancount}");
    assert!(beancount.contains("\"Setup, \\\"rush\\\"\"\n"), "{beancount}");
    assert!(beancount.contains("  Assets:Cash  40.10 USD\n"), "{beancount}");
    assert_eq!(check_beancount(&beancount), 2);

    let csv = export(&db, "csv", &[]);
    let lines: Vec<&str> = csv.split_terminator("\r\n").collect();
    assert_eq!(
        lines[0],
        "txn_id,seq,effective_date,customer_id,kind,description,account,side,amount,currency,document_id,item_id,payment_id,application_id"
    );
    assert_eq!(lines.len(), 1 + 4, "{csv}");
    assert!(lines[1].contains(",\"Setup, \"\"rush\"\"\",receivable,debit,150.00,USD,"), "{csv}");
    assert!(lines.iter().any(|l| l.contains(",cash,debit,40.10,USD,")), "{csv}");

    let tenants = settle()
        .args(["tenant", "create", "Empty Co", "--database", &format!("sqlite:{}", db.display())])
        .output()
        .expect("tenant create");
    let tenant = String::from_utf8_lossy(&tenants.stdout)
        .split_whitespace()
        .find(|w| w.starts_with("ten_"))
        .expect("tenant id")
        .to_owned();
    assert_eq!(
        export(&db, "beancount", &["--tenant", &tenant]),
        "; Settle journal export: 0 transactions\n"
    );
    let unknown = settle()
        .args(["export", "--format", "csv", "--tenant", "ten_nope", "--database"])
        .arg(format!("sqlite:{}", db.display()))
        .output()
        .expect("export");
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no tenant ten_nope"));
    let bad = settle().args(["export", "--format", "xml"]).output().expect("export");
    assert!(!bad.status.success());
}

/// The demo, then every kind of transaction in three currencies through the API: the Beancount
/// export covers all nine accounts and balances; when `SETTLE_BEAN_CHECK` names a `bean-check`
/// executable (CI installs one), Beancount itself must accept the file without a word.
#[test]
fn the_demo_and_every_kind_of_transaction_export_to_a_ledger_bean_check_accepts() {
    use serde_json::json;

    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("settle.db");
    let url = format!("sqlite:{}", db.display());
    let key = create_store(&db);
    let demo = settle().args(["demo", "--database", &url]).output().expect("demo");
    let printed = String::from_utf8_lossy(&demo.stdout).into_owned();
    assert!(demo.status.success(), "{printed}");
    let server = Server::start(&db, None);
    let post = |path: &str, body: serde_json::Value| ok(&server, &key, "POST", path, body);

    let customer = id_of(&post("/v1/customers", json!({"name": "Ledger Check"})));
    let invoice = post(
        "/v1/invoices",
        json!({"customer_id": customer, "post": true, "items": [
            {"description": "Service \"gold\" \\ plan", "amount": "300.00",
             "taxes": [{"name": "Sales tax", "rate": "8.25"}]},
            {"description": "Setup", "amount": "45.50"}]}),
    );
    let a = id_of(&invoice);
    let service = invoice["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["amount"] == "300.00")
        .map(id_of)
        .expect("service item");
    let payment = id_of(&post(
        "/v1/payments",
        json!({"customer_id": customer, "amount": "500.00", "method": "check"}),
    ));
    let application = id_of(&post(
        "/v1/applications",
        json!({"source": {"type": "payment", "id": payment}, "target_id": a, "amount": "100.00"}),
    ));
    post(&format!("/v1/applications/{application}/reverse"), json!({"amount": "40.00"}));
    post(&format!("/v1/payments/{payment}/refunds"), json!({"amount": "50.00"}));
    post(
        "/v1/credit-memos",
        json!({"customer_id": customer, "post": true,
               "items": [{"description": "Goodwill", "amount": "25.00", "invoice_item_id": service}]}),
    );
    let mistake = id_of(&post(
        "/v1/credit-memos",
        json!({"customer_id": customer, "post": true,
               "items": [{"description": "Mistake", "amount": "5.00"}]}),
    ));
    post(&format!("/v1/credit-memos/{mistake}/cancel"), json!({}));
    post(
        &format!("/v1/invoices/{a}/adjustments"),
        json!({"item_id": service, "type": "credit", "amount": "10.00", "reason": "Discount"}),
    );
    post(
        &format!("/v1/invoices/{a}/write-off"),
        json!({"amount": "60.00", "reason": "Chapter 11"}),
    );
    let negative = id_of(&post(
        "/v1/invoices",
        json!({"customer_id": customer, "post": true,
               "items": [{"description": "Returned goods", "amount": "-30.00"}]}),
    ));
    post(&format!("/v1/invoices/{negative}/transfer-to-credit"), json!({}));
    post(&format!("/v1/customers/{customer}/credit-balance/refunds"), json!({"amount": "10.00"}));
    let netted = id_of(&post(
        "/v1/invoices",
        json!({"customer_id": customer, "post": true, "items": [
            {"description": "Plan", "amount": "50.00"}, {"description": "Promo", "amount": "-20.00"}]}),
    ));
    post(&format!("/v1/invoices/{netted}/net-items"), json!({}));
    let wrong = id_of(&post(
        "/v1/invoices",
        json!({"customer_id": customer, "post": true,
               "items": [{"description": "Wrong", "amount": "20.00"}]}),
    ));
    post(&format!("/v1/invoices/{wrong}/void"), json!({}));
    let cash = id_of(&post(
        "/v1/payments",
        json!({"customer_id": customer, "amount": "5.00", "method": "cash"}),
    ));
    post(&format!("/v1/payments/{cash}/void"), json!({}));
    post(
        &format!("/v1/customers/{customer}/entries"),
        json!({"kind": "credit", "amount": "12.00", "payment_method": "card",
               "description": "Café crème, \"merci\"\nsecond line"}),
    );
    for (currency, amount, paid) in [("EUR", "99.99", "50.00"), ("JPY", "1500", "700")] {
        let foreign = id_of(&post(
            "/v1/customers",
            json!({"name": format!("{currency} Customer"), "currency": currency}),
        ));
        let invoice = id_of(&post(
            "/v1/invoices",
            json!({"customer_id": foreign, "post": true, "items": [{"description": "Licence",
                   "amount": amount, "taxes": [{"name": "VAT", "rate": "19"}]}]}),
        ));
        post(
            "/v1/payments",
            json!({"customer_id": foreign, "amount": paid, "method": "ach",
                   "applications": [{"target_id": invoice, "amount": paid}]}),
        );
    }
    drop(server);
    let verify = settle().args(["verify", "--database", &url]).output().expect("verify");
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));

    let text = export(&db, "beancount", &[]);
    let path = dir.path().join("journal.beancount");
    std::fs::write(&path, &text).expect("write the export");
    for account in [
        "Assets:Receivable:Cus-",
        "Assets:Cash ",
        "Liabilities:UnappliedPayments:Cus-",
        "Liabilities:CreditMemos:Cus-",
        "Liabilities:CreditBalance:Cus-",
        "Income:Revenue ",
        "Income:RevenueAdjustments ",
        "Liabilities:TaxPayable ",
        "Expenses:BadDebt ",
    ] {
        assert!(text.contains(&format!(" open {account}")), "{account} is never used: {text}");
    }
    for currency in ["EUR", "JPY", "USD"] {
        assert!(text.contains(&format!("option \"operating_currency\" \"{currency}\"\n")));
    }
    assert!(text.contains(" -1500 JPY\n") || text.contains(" 1500 JPY\n"), "{text}");
    let count = check_beancount(&text);
    assert!(text.starts_with(&format!("; Settle journal export: {count} transactions\n")));
    assert!(count > 40, "{count} transactions");

    match std::env::var_os("SETTLE_BEAN_CHECK") {
        Some(bean_check) => {
            let checked = Command::new(&bean_check).arg(&path).output().unwrap_or_else(|e| {
                panic!("running SETTLE_BEAN_CHECK={}: {e}", bean_check.to_string_lossy())
            });
            let said = format!(
                "{}{}",
                String::from_utf8_lossy(&checked.stdout),
                String::from_utf8_lossy(&checked.stderr)
            );
            assert!(checked.status.success() && said.trim().is_empty(), "bean-check: {said}");
            eprintln!("bean-check accepted {count} transactions ({})", path.display());
        }
        None => eprintln!("SETTLE_BEAN_CHECK is not set: bean-check was not run"),
    }
}

/// Every command but `serve`, run on `url`.
fn every_command_but_serve(url: &str) -> Vec<(&'static str, std::process::Output)> {
    let run = |args: &[&str]| settle().args(args).output().expect("run settle");
    vec![
        ("verify", run(&["verify", "--database", url])),
        ("export", run(&["export", "--format", "csv", "--database", url])),
        ("demo", run(&["demo", "--database", url])),
        ("tenant create", run(&["tenant", "create", "Nobody", "--database", url])),
        ("import", run(&["import", "customers", "customers.csv", "--database", url])),
        (
            "user create",
            run(&["user", "create", "ana@example.com", "--role", "clerk", "--database", url]),
        ),
    ]
}

#[test]
fn every_command_but_serve_refuses_a_missing_sqlite_file_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("settle.db");
    let url = format!("sqlite:{}", db.display());
    for (command, out) in every_command_but_serve(&url) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{command} succeeded: {stderr}");
        assert!(
            stderr.contains(&db.display().to_string()) && stderr.contains("does not exist"),
            "{command}: {stderr}"
        );
        assert_eq!(stderr.trim_end().lines().count(), 1, "{command}: one line: {stderr}");
        assert!(!db.exists(), "{command} created {}", db.display());
    }
    // The default store, settle.db in the working folder, is not created either.
    let out = settle().current_dir(dir.path()).arg("verify").output().expect("verify");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("settle.db does not exist"));
    assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 0, "nothing was created");
    // An empty file is not a store either, and is left empty.
    std::fs::write(&db, b"").expect("an empty file");
    for (command, out) in every_command_but_serve(&url) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{command} succeeded: {stderr}");
        assert!(stderr.contains("holds no Settle database"), "{command}: {stderr}");
        assert_eq!(std::fs::metadata(&db).expect("file").len(), 0, "{command} wrote to it");
    }
    // `serve` creates the store; then the other commands work on it.
    create_store(&db);
    let verify = settle().args(["verify", "--database", &url]).output().expect("verify");
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
}

#[test]
fn every_command_but_serve_refuses_an_empty_or_unreachable_postgres_database() {
    let Ok(admin) = std::env::var("SETTLE_TEST_POSTGRES_URL") else {
        println!("not run against PostgreSQL (SETTLE_TEST_POSTGRES_URL is not set)");
        return;
    };
    let name = format!("settle_cli_empty_{}", std::process::id());
    let mut client = postgres::Client::connect(&admin, postgres::NoTls).expect("connect");
    client.batch_execute(&format!("drop database if exists {name}")).expect("drop");
    client.batch_execute(&format!("create database {name}")).expect("create");
    let (base, _) = admin.rsplit_once('/').expect("a database in the URL");
    let url = format!("{base}/{name}");
    let outcomes = every_command_but_serve(&url);
    let empty_url = url.clone();
    let mut empty = postgres::Client::connect(&empty_url, postgres::NoTls).expect("connect");
    let tables: i64 = empty
        .query_one("select count(*) from pg_tables where schemaname = 'public'", &[])
        .expect("count")
        .get(0);
    drop(empty);
    let _ = client.batch_execute(&format!("drop database if exists {name} with (force)"));
    for (command, out) in outcomes {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{command} succeeded: {stderr}");
        assert!(
            stderr.contains(&name) && stderr.contains("no Settle schema"),
            "{command}: {stderr}"
        );
    }
    assert_eq!(tables, 0, "the empty database was left empty");
    // An unreachable server: refused, naming the URL without its password.
    let unreachable = "postgres://settle:s3cret@127.0.0.1:1/ledger";
    for (command, out) in every_command_but_serve(unreachable) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{command} succeeded: {stderr}");
        assert!(stderr.contains("postgres://settle@127.0.0.1:1/ledger"), "{command}: {stderr}");
        assert!(!stderr.contains("s3cret"), "{command} printed the password: {stderr}");
    }
}
