//! The back office served by `settle serve` beside the API: `/` sends a visitor to sign in,
//! and a payment link's token never reaches the server's log, even at the `trace` level.

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;

use super::{KEY, field, send, settle};

#[test]
fn the_back_office_is_served_beside_the_api_and_link_tokens_never_reach_the_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("settle.db");
    let log_path = dir.path().join("stderr.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut child = settle()
        .env("RUST_LOG", "trace")
        .env("SETTLE_API_KEY", KEY)
        .args([
            "serve",
            "--database",
            &format!("sqlite:{}", db.display()),
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("spawn settle serve");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut printed = String::new();
    let mut addr = None;
    loop {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).expect("read") > 0, "server exited: {printed}");
        printed.push_str(&line);
        if addr.is_none()
            && let Some(rest) = line.split("http://").nth(1)
        {
            addr = rest.split('/').next().map(str::to_owned);
        }
        if line.starts_with("Back office: ") {
            break;
        }
    }
    let addr = addr.expect("the listening address");
    assert!(printed.contains(&format!("Back office: http://{addr}/")), "{printed}");

    let (status, head, _) = send(&addr, "GET", "/", "", None, "").expect("GET /");
    assert_eq!(status, 303);
    assert!(head.to_ascii_lowercase().contains("location: /login"), "{head}");
    let (status, _, body) = send(&addr, "GET", "/login", "", None, "").expect("GET /login");
    assert_eq!(status, 200);
    assert!(body.contains(r#"name="password""#));
    let (status, _, _) = send(&addr, "GET", "/healthz", "", None, "").expect("GET /healthz");
    assert_eq!(status, 200);

    let (status, _, body) =
        send(&addr, "POST", "/v1/customers", KEY, None, r#"{"name": "Ann Smith"}"#)
            .expect("customer");
    assert_eq!(status, 201, "{body}");
    let customer = field(&body, "id");
    let path = format!("/v1/customers/{customer}/payment-links");
    let (status, _, body) = send(&addr, "POST", &path, KEY, None, "{}").expect("link");
    assert_eq!(status, 201, "{body}");
    let (token, link_id) = (field(&body, "token"), field(&body, "id"));
    assert_eq!(field(&body, "url"), format!("http://{addr}/pay/{token}"));
    let (status, head, body) =
        send(&addr, "GET", &format!("/pay/{token}"), "", None, "").expect("pay");
    assert_eq!(status, 200, "{head}");
    assert!(body.contains("Ann Smith"));
    let (status, _, _) =
        send(&addr, "GET", &format!("/pay/{token}/summary.json"), "", None, "").expect("summary");
    assert_eq!(status, 200);
    let (status, _, _) =
        send(&addr, "DELETE", &format!("/v1/payment-links/{link_id}"), KEY, None, "")
            .expect("revoke");
    assert_eq!(status, 204);
    let (status, _, _) = send(&addr, "GET", &format!("/pay/{token}"), "", None, "").expect("gone");
    assert_eq!(status, 404);

    let _ = child.kill();
    let _ = child.wait();
    let mut rest = String::new();
    let _ = stdout.read_to_string(&mut rest);
    let log = std::fs::read_to_string(&log_path).expect("log");
    assert!(!printed.contains(&token) && !rest.contains(&token), "the token was printed");
    assert!(!log.contains(&token), "the token reached the log:\n{log}");
}
