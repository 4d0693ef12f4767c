//! `/readyz`: 200 while the store answers and its schema is at this build's migrations, a 503
//! problem otherwise; `/healthz` stays 200 throughout, since it never touches the store.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::{KEY, Server, TestStore, send};

/// Probes sent while waiting for `/readyz` to change; each waits up to the probe's own timeout.
const PROBES: usize = 20;

/// `/readyz`'s status and body.
fn ready(server: &Server) -> (u16, String, String) {
    send(&server.addr, "GET", "/readyz", "", None, "").expect("an answer")
}

/// Probes `/readyz` until it answers `status` (at most [`PROBES`] times); answers the last reply.
fn ready_until(server: &Server, status: u16) -> (u16, String, String) {
    let mut last = ready(server);
    for _ in 1..PROBES {
        if last.0 == status {
            break;
        }
        last = ready(server);
    }
    last
}

fn assert_not_ready(reply: &(u16, String, String)) {
    let (status, head, body) = reply;
    assert_eq!(*status, 503, "{body}");
    assert!(head.to_lowercase().contains("content-type: application/problem+json"), "{head}");
    let problem: serde_json::Value = serde_json::from_str(body).expect("json");
    assert_eq!(problem["code"], "not_ready");
    assert_eq!(problem["status"], 503);
}

#[test]
fn readyz_on_sqlite_is_503_while_the_schema_is_not_this_builds() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("settle.db");
    let server = Server::start(&db, Some(KEY));
    let (status, _, body) = ready(&server);
    assert_eq!((status, body.as_str()), (200, "ready"));

    let conn = rusqlite::Connection::open(&db).expect("open");
    let current: i64 = conn.query_row("pragma user_version", [], |r| r.get(0)).expect("version");
    // As if a newer Settle had migrated the file under this server.
    conn.execute_batch(&format!("pragma user_version = {}", current + 1)).expect("set");
    assert_not_ready(&ready(&server));
    assert_eq!(server.request("GET", "/healthz", "", ""), (200, "ok".to_owned()));
    conn.execute_batch(&format!("pragma user_version = {current}")).expect("set back");
    let (status, _, body) = ready(&server);
    assert_eq!((status, body.as_str()), (200, "ready"));
}

/// A TCP proxy on loopback to the PostgreSQL server, which the test stops (closing every
/// connection through it) and starts again on the same port, leaving the shared server alone.
struct Proxy {
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    streams: Arc<Mutex<Vec<TcpStream>>>,
    accepting: JoinHandle<()>,
}

impl Proxy {
    fn start(addr: SocketAddr, upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind(addr).expect("bind the proxy");
        let addr = listener.local_addr().expect("address");
        let stopping = Arc::new(AtomicBool::new(false));
        let streams: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let accepting = {
            let stopping = Arc::clone(&stopping);
            let streams = Arc::clone(&streams);
            std::thread::spawn(move || {
                for client in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let (Ok(client), Ok(server)) = (client, TcpStream::connect(upstream)) else {
                        continue;
                    };
                    let mut kept = streams.lock().expect("streams");
                    for stream in [&client, &server] {
                        kept.push(stream.try_clone().expect("clone"));
                    }
                    pipe(client.try_clone().expect("clone"), server.try_clone().expect("clone"));
                    pipe(server, client);
                }
            })
        };
        Proxy { addr, stopping, streams, accepting }
    }

    /// Closes the port and every connection through it.
    fn stop(self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wakes the accepting thread, which then drops the listener.
        let _ = TcpStream::connect(self.addr);
        self.accepting.join().expect("proxy thread");
        for stream in self.streams.lock().expect("streams").drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

/// Copies bytes from `from` to `to` on a thread of its own until either side closes.
fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n @ 1..) = from.read(&mut buf) {
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Both);
    });
}

#[test]
fn readyz_on_postgres_is_503_while_the_database_is_unreachable_and_200_again_after() {
    if std::env::var("SETTLE_TEST_POSTGRES_URL").is_err() {
        assert!(std::env::var("CI").is_err(), "CI runs this test: set SETTLE_TEST_POSTGRES_URL");
        println!("not run: SETTLE_TEST_POSTGRES_URL is not set");
        return;
    }
    // A database of its own on the shared server, dropped at the end.
    let store = TestStore::postgres();
    let (before, after) = store.url.split_once("@").expect("a user in the URL");
    let (host_port, database) = after.split_once('/').expect("a database in the URL");
    let upstream: SocketAddr = host_port.parse().expect("an IP address and port in the URL");
    let proxy = Proxy::start("127.0.0.1:0".parse().expect("address"), upstream);
    let url = format!("{before}@{}/{database}", proxy.addr);
    let server = Server::start_url(&url, Some(KEY));
    let (status, _, body) = ready(&server);
    assert_eq!((status, body.as_str()), (200, "ready"));

    let addr = proxy.addr;
    proxy.stop();
    assert_not_ready(&ready_until(&server, 503));
    assert_eq!(server.request("GET", "/healthz", "", ""), (200, "ok".to_owned()));

    let proxy = Proxy::start(addr, upstream);
    let (status, _, body) = ready_until(&server, 200);
    assert_eq!((status, body.as_str()), (200, "ready"));
    drop(server);
    proxy.stop();
}
