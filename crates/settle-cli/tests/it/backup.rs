//! `settle backup`: a copy made while clients keep writing holds every write acknowledged
//! before it began, and verifies clean.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use super::{KEY, Server, send, settle};

/// Client threads writing while the backup runs, each on its own customer.
const CLIENTS: usize = 4;

/// Writes acknowledged before the backup starts.
const ACKED_FIRST: usize = 20;

/// Posts one-dollar charges to `customer` until `stop`, sending the id of each invoice the
/// server acknowledged (201).
fn charge_until(addr: &str, customer: &str, stop: &AtomicBool, acked: &mpsc::Sender<String>) {
    let path = format!("/v1/customers/{customer}/entries");
    let body = r#"{"kind":"charge","amount":"1.00","description":"Load"}"#;
    while !stop.load(Ordering::SeqCst) {
        let (status, _, response) =
            send(addr, "POST", &path, KEY, None, body).expect("the server answers");
        assert_eq!(status, 201, "{response}");
        let value: serde_json::Value = serde_json::from_str(&response).expect("json");
        let id = value["document"]["id"].as_str().expect("document id").to_owned();
        if acked.send(id).is_err() {
            return;
        }
    }
}

fn new_customer(server: &Server, name: &str) -> String {
    let (status, body) =
        server.request("POST", "/v1/customers", KEY, &format!(r#"{{"name":"{name}"}}"#));
    assert_eq!(status, 201, "{body}");
    super::field(&body, "id")
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite:{}", path.display())
}

#[test]
fn a_backup_under_load_holds_every_write_acknowledged_before_it_and_verifies_clean() {
    let dir = tempfile::tempdir().expect("dir");
    let (db, copy) = (dir.path().join("live.db"), dir.path().join("copy.db"));
    let server = Server::start(&db, Some(KEY));
    let customers: Vec<String> =
        (0..CLIENTS).map(|n| new_customer(&server, &format!("Load {n}"))).collect();
    let stop = AtomicBool::new(false);
    let (before, backup) = std::thread::scope(|scope| {
        let (acked_tx, acked_rx) = mpsc::channel();
        for customer in &customers {
            let (addr, stop, acked) = (&server.addr, &stop, acked_tx.clone());
            scope.spawn(move || charge_until(addr, customer, stop, &acked));
        }
        drop(acked_tx);
        // Every id received here was acknowledged before the backup command started.
        let mut before: Vec<String> = acked_rx.iter().take(ACKED_FIRST).collect();
        before.extend(acked_rx.try_iter());
        let backup = settle()
            .args(["backup", "--to", &copy.display().to_string(), "--database", &sqlite_url(&db)])
            .output()
            .expect("run backup");
        stop.store(true, Ordering::SeqCst);
        // Drained until every client has stopped.
        acked_rx.iter().for_each(drop);
        (before, backup)
    });
    drop(server);
    let out = String::from_utf8_lossy(&backup.stdout);
    assert!(backup.status.success(), "{out}{}", String::from_utf8_lossy(&backup.stderr));
    assert!(out.contains(&format!("to {} (", copy.display())), "{out}");
    assert!(out.contains("verify on the copy: ") && out.contains("; 0 differences"), "{out}");

    let restored = Server::start(&copy, Some(KEY));
    for id in &before {
        let (status, body) = restored.request("GET", &format!("/v1/invoices/{id}"), KEY, "");
        assert_eq!(status, 200, "{id} was acknowledged before the backup: {body}");
    }
    drop(restored);
    let verify =
        settle().args(["verify", "--database", &sqlite_url(&copy)]).output().expect("verify");
    let out = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success() && out.contains("; 0 differences"), "{out}");
}

#[test]
fn a_backup_refuses_an_existing_file_without_force_and_postgres_is_sent_to_pg_dump() {
    let dir = tempfile::tempdir().expect("dir");
    let (db, copy) = (dir.path().join("live.db"), dir.path().join("copy.db"));
    drop(Server::start(&db, Some(KEY)));
    std::fs::write(&copy, "keep me").expect("write");
    let to = copy.display().to_string();
    let refused = settle()
        .args(["backup", "--to", &to, "--database", &sqlite_url(&db)])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(err.contains(&format!("{to} already exists; pass --force to replace it")), "{err}");
    assert_eq!(std::fs::read_to_string(&copy).expect("read"), "keep me");

    let forced = settle()
        .args(["backup", "--force", "--to", &to, "--database", &sqlite_url(&db)])
        .output()
        .expect("run");
    assert!(forced.status.success(), "{}", String::from_utf8_lossy(&forced.stderr));
    let itself = settle()
        .args([
            "backup",
            "--force",
            "--to",
            &db.display().to_string(),
            "--database",
            &sqlite_url(&db),
        ])
        .output()
        .expect("run");
    assert!(!itself.status.success());
    assert!(String::from_utf8_lossy(&itself.stderr).contains("is the store being backed up"));

    let postgres = settle()
        .args(["backup", "--to", "ledger.dump", "--database", "postgres://u:s3cret@db:5432/ledger"])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&postgres.stderr);
    assert!(!postgres.status.success());
    assert_eq!(
        err.trim_end(),
        "error: settle backup copies SQLite stores; back up PostgreSQL with pg_dump, e.g. \
         pg_dump --format=custom --file=ledger.dump 'postgres://u@db:5432/ledger'"
    );
}
