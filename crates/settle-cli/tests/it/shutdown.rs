//! SIGTERM under load: `settle serve` stops accepting, answers every request it started whole,
//! keeps every write it acknowledged, and exits 0.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{KEY, Server, field};

/// Client threads sending writes at once.
const CLIENTS: usize = 4;

/// Most requests one client sends; the signal comes long before.
const MAX_REQUESTS: usize = 400;

/// Acknowledged writes before the signal is sent.
const BEFORE_SIGNAL: usize = 40;

/// What one request over its own connection came to.
enum Reply {
    /// The server answered: status and body, complete as its `Content-Length` says.
    Whole(u16, String),
    /// No connection, or the connection closed before a single byte of an answer.
    NotServed,
    /// Some bytes of an answer, but not all of them: what must never happen.
    Cut(String),
}

fn create_customer(addr: &str, name: &str) -> Reply {
    let Ok(mut stream) = TcpStream::connect(addr) else { return Reply::NotServed };
    let body = format!(r#"{{"name":"{name}"}}"#);
    let request = format!(
        "POST /v1/customers HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {KEY}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return Reply::NotServed;
    }
    let mut bytes = Vec::new();
    // A reset after some bytes keeps those bytes: they are judged below.
    let _ = stream.read_to_end(&mut bytes);
    if bytes.is_empty() {
        return Reply::NotServed;
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let Some((head, body)) = text.split_once("\r\n\r\n") else { return Reply::Cut(text) };
    let length = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse::<usize>().ok())?
    });
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok());
    match (status, length) {
        (Some(status), Some(length)) if length == body.len() => {
            Reply::Whole(status, body.to_owned())
        }
        _ => Reply::Cut(text),
    }
}

#[test]
fn sigterm_under_load_answers_whole_keeps_every_acknowledged_write_and_exits_zero() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("settle.db");
    // The daily bill run is on, so its scheduler must stop too.
    let mut server = Server::start_with(
        &format!("sqlite:{}", db.display()),
        Some(KEY),
        &["--bill-daily-at", "00:00", "--shutdown-timeout", "30s"],
    );
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let addr = server.addr.clone();
            let acknowledged = Arc::clone(&acknowledged);
            std::thread::spawn(move || {
                let mut ids = Vec::new();
                let mut cut = Vec::new();
                let mut refused = 0;
                for n in 0..MAX_REQUESTS {
                    match create_customer(&addr, &format!("Load {client}-{n}")) {
                        Reply::Whole(201, body) => {
                            ids.push(field(&body, "id"));
                            acknowledged.fetch_add(1, Ordering::SeqCst);
                        }
                        Reply::Whole(status, body) => cut.push(format!("{status}: {body}")),
                        Reply::Cut(text) => cut.push(text),
                        // Once the server stops accepting, a few more tries find it gone.
                        Reply::NotServed => {
                            refused += 1;
                            if refused == 3 {
                                break;
                            }
                        }
                    }
                }
                (ids, cut)
            })
        })
        .collect();
    // The signal goes once writes are flowing; the clients keep sending through it.
    while acknowledged.load(Ordering::SeqCst) < BEFORE_SIGNAL {
        std::thread::yield_now();
    }
    let pid = rustix::process::Pid::from_child(&server.child);
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("SIGTERM");
    let status = server.child.wait().expect("the server ends");
    assert_eq!(status.code(), Some(0), "settle serve exits 0 after SIGTERM");

    let mut ids = Vec::new();
    for client in clients {
        let (acked, cut) = client.join().expect("client");
        assert_eq!(cut, Vec::<String>::new(), "no answer is cut or refused half way");
        ids.extend(acked);
    }
    assert!(ids.len() >= BEFORE_SIGNAL, "{} writes acknowledged", ids.len());

    let server = Server::start(&db, Some(KEY));
    for id in &ids {
        let (status, body) = server.request("GET", &format!("/v1/customers/{id}"), KEY, "");
        assert_eq!(status, 200, "acknowledged {id} is kept: {body}");
    }
}
