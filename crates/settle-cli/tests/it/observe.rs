//! What `settle serve` tells the people who run it: `/metrics` on `--metrics-listen`, parsed as
//! Prometheus parses it, with exact counts of the requests a test made; `X-Request-Id` on every
//! response and in every problem; one JSON log line per request; and no secret in the log of a
//! whole run at `RUST_LOG=debug`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};

use serde_json::{Value, json};

use super::settle;

/// A `settle serve` child with its addresses, killed when dropped.
struct Served {
    child: Child,
    addr: String,
    metrics: Option<String>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `settle serve` on a fresh store with `args` after the store and address, stderr to
/// `log`, and reads its first lines up to the back office's.
fn serve(dir: &std::path::Path, key: &str, args: &[&str], env: &[(&str, &str)]) -> Served {
    let db = format!("sqlite:{}", dir.join("settle.db").display());
    let log = std::fs::File::create(dir.join("stderr.log")).expect("log file");
    let mut command = settle();
    command
        .env("SETTLE_API_KEY", key)
        .args(["serve", "--database", &db, "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log));
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("spawn settle serve");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let (mut addr, mut metrics) = (None, None);
    for line in stdout.lines() {
        let line = line.expect("read");
        let url = line.split("http://").nth(1).and_then(|rest| rest.split('/').next());
        if line.starts_with("Settle is listening on ") {
            addr = url.map(str::to_owned);
        } else if line.starts_with("Metrics: ") {
            metrics = url.map(str::to_owned);
        } else if line.starts_with("Back office: ") {
            break;
        }
    }
    Served { child, addr: addr.expect("the listening address"), metrics }
}

/// One response: status, headers (names lowercased) and body.
struct Answer {
    status: u16,
    headers: HashMap<String, String>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }
}

/// One HTTP/1.1 request with `headers` (each `Name: value`) over a fresh connection.
fn call(addr: &str, method: &str, path: &str, headers: &[String], body: &str) -> Answer {
    let mut stream = TcpStream::connect(addr).expect("connect");
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for header in headers {
        request.push_str(header);
        request.push_str("\r\n");
    }
    request.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let (head, body) = response.split_once("\r\n\r\n").expect("a response");
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok());
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Answer { status: status.expect("a status"), headers, body: body.to_owned() }
}

/// The headers of a JSON API call with `key`, plus `extra`.
fn api(key: &str, extra: &[String]) -> Vec<String> {
    let mut headers =
        vec![format!("Authorization: Bearer {key}"), "Content-Type: application/json".to_owned()];
    headers.extend_from_slice(extra);
    headers
}

/// The value of the sample `name` whose labels are exactly `labels`; a histogram answers its
/// observation count (the `+Inf` bucket).
fn sample(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let found = scrape.samples.iter().find(|s| {
        s.metric == name
            && s.labels.len() == labels.len()
            && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v))
    });
    match found.map(|s| &s.value) {
        Some(
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v),
        ) => *v,
        Some(prometheus_parse::Value::Histogram(buckets)) => {
            buckets.iter().find(|b| b.less_than.is_infinite()).map_or(-1.0, |b| b.count)
        }
        other => {
            let seen: Vec<_> = scrape.samples.iter().filter(|s| s.metric == name).collect();
            panic!("no {name} {labels:?}: {other:?} among {seen:?}")
        }
    }
}

const METRICS_KEY: &str = "sk_metrics_0123456789abcdef";

#[test]
fn metrics_count_every_request_by_route_template_status_and_command_outcome() {
    let dir = tempfile::tempdir().expect("temp dir");
    let served = serve(dir.path(), METRICS_KEY, &["--metrics-listen", "127.0.0.1:0"], &[]);
    let addr = &served.addr;
    let post = |path: &str, extra: &[String], body: Value| {
        call(addr, "POST", path, &api(METRICS_KEY, extra), &body.to_string())
    };
    let ann = post("/v1/customers", &[], json!({"name": "Ann"}));
    assert_eq!(ann.status, 201, "{}", ann.body);
    let ann = ann.json()["id"].as_str().expect("id").to_owned();
    assert_eq!(post("/v1/customers", &[], json!({"name": "Bob"})).status, 201);
    let keyed = ["Idempotency-Key: metrics-key-1".to_owned()];
    assert_eq!(post("/v1/customers", &keyed, json!({"name": "Cy"})).status, 201);
    let replay = post("/v1/customers", &keyed, json!({"name": "Cy"}));
    assert_eq!((replay.status, replay.header("idempotent-replayed")), (201, "true"));
    for _ in 0..3 {
        let read = call(addr, "GET", &format!("/v1/customers/{ann}"), &api(METRICS_KEY, &[]), "");
        assert_eq!(read.status, 200);
    }
    let missing = call(addr, "GET", "/v1/customers/cus_missing", &api(METRICS_KEY, &[]), "");
    assert_eq!(missing.status, 404);
    assert_eq!(call(addr, "GET", "/no/such/route", &[], "").status, 404);
    let payment = post(
        "/v1/payments",
        &[],
        json!({"customer_id": ann, "amount": "10.00", "method": "check"}),
    );
    assert_eq!(payment.status, 201, "{}", payment.body);
    let refund = post(
        &format!("/v1/payments/{}/refunds", payment.json()["id"].as_str().expect("id")),
        &[],
        json!({"amount": "25.00"}),
    );
    assert_eq!(refund.status, 422, "{}", refund.body);
    let refused_code = refund.json()["code"].as_str().expect("code").to_owned();
    let journal = call(addr, "GET", "/v1/journal?limit=100", &api(METRICS_KEY, &[]), "");
    let appended = journal.json()["data"].as_array().expect("journal").len();

    let metrics = served.metrics.as_deref().expect("the metrics address");
    let scraped = call(metrics, "GET", "/metrics", &[], "");
    assert_eq!(scraped.status, 200);
    assert!(scraped.header("content-type").starts_with("text/plain"), "{:?}", scraped.headers);
    // prometheus-parse's label pattern stops at a `}` inside a quoted value, which route
    // templates have (`/v1/customers/{id}`): such braces are read as `<id>` here.
    let text = scraped.body.replace("/{", "/<").replace("}/", ">/").replace("}\"", ">\"");
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
        .expect("Prometheus text");
    assert!(scraped.body.contains(r#"route="/v1/customers/{id}""#), "{}", scraped.body);
    let requests = "settle_http_requests_total";
    let post_customers = [("method", "POST"), ("route", "/v1/customers"), ("status", "201")];
    assert_eq!(sample(&scrape, requests, &post_customers), 4.0);
    let get_one = [("method", "GET"), ("route", "/v1/customers/<id>")];
    assert_eq!(sample(&scrape, requests, &[get_one[0], get_one[1], ("status", "200")]), 3.0);
    assert_eq!(sample(&scrape, requests, &[get_one[0], get_one[1], ("status", "404")]), 1.0);
    let unmatched = [("method", "GET"), ("route", "unmatched"), ("status", "404")];
    assert_eq!(sample(&scrape, requests, &unmatched), 1.0);
    assert_eq!(sample(&scrape, "settle_http_request_duration_seconds", &get_one), 4.0);
    let commands = "settle_commands_total";
    let customers = ("kind", "POST /v1/customers");
    assert_eq!(sample(&scrape, commands, &[customers, ("outcome", "committed")]), 3.0);
    assert_eq!(sample(&scrape, "settle_idempotent_replays_total", &[customers]), 1.0);
    let refunds = ("kind", "POST /v1/payments/<id>/refunds");
    assert_eq!(sample(&scrape, commands, &[refunds, ("outcome", "refused")]), 1.0);
    let refused = [refunds, ("code", refused_code.as_str())];
    assert_eq!(sample(&scrape, "settle_commands_refused_total", &refused), 1.0);
    assert_eq!(appended, 1, "{}", journal.body);
    assert_eq!(sample(&scrape, "settle_journal_transactions_appended_total", &[]), 1.0);
    // One client, one request at a time: every SQLite group commit held one write
    // transaction, counted in the group-size buckets (not the seconds buckets).
    let groups = scrape
        .samples
        .iter()
        .find(|s| s.metric == "settle_sqlite_commit_group_members")
        .map(|s| match &s.value {
            prometheus_parse::Value::Histogram(buckets) => {
                buckets.iter().map(|b| (b.less_than, b.count)).collect::<Vec<_>>()
            }
            other => panic!("not a histogram: {other:?}"),
        })
        .expect("the group-size histogram");
    let bounds: Vec<f64> = groups.iter().map(|(le, _)| *le).collect();
    assert_eq!(bounds, [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, f64::INFINITY]);
    let all = groups.last().expect("+Inf").1;
    assert!(all >= 6.0, "{groups:?}");
    assert!(groups.iter().all(|(_, count)| *count == all), "{groups:?}");
    let version = [("version", env!("CARGO_PKG_VERSION"))];
    assert_eq!(sample(&scrape, "settle_build_info", &version), 1.0);
    // Sampled at the scrape, between requests: no reader is out and no writer waits.
    let pools = ["sqlite_readers", "sqlite_writers_waiting"];
    for pool in pools {
        assert_eq!(sample(&scrape, "settle_store_connections_in_use", &[("pool", pool)]), 0.0);
    }
}

const LOG_KEY: &str = "sk_logsecret_0123456789abcdef";
const ADMIN_EMAIL: &str = "ops@example.com";
const ADMIN_PASSWORD: &str = "correct-horse-battery-staple-42";

/// The value of `name=` in a `Set-Cookie` header.
fn cookie(answer: &Answer, name: &str) -> String {
    let set = answer.header("set-cookie");
    let value = set.strip_prefix(&format!("{name}=")).expect("the session cookie");
    value.split(';').next().expect("a value").to_owned()
}

#[test]
fn every_response_carries_a_request_id_logged_once_per_request_with_no_secret_in_the_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let env = [
        ("RUST_LOG", "debug"),
        ("SETTLE_ADMIN_EMAIL", ADMIN_EMAIL),
        ("SETTLE_ADMIN_PASSWORD", ADMIN_PASSWORD),
    ];
    let served = serve(dir.path(), LOG_KEY, &[], &env);
    let addr = &served.addr;
    let keys = ["idem-customer-7f3a", "idem-invoice-7f3a", "idem-payment-7f3a", "idem-link-7f3a"];
    let post = |path: &str, key: &str, extra: &[String], body: Value| {
        let mut headers = vec![format!("Idempotency-Key: {key}")];
        headers.extend_from_slice(extra);
        call(addr, "POST", path, &api(LOG_KEY, &headers), &body.to_string())
    };

    let sent_id = ["X-Request-Id: client-req.1_A".to_owned()];
    let customer = post("/v1/customers", keys[0], &sent_id, json!({"name": "Ann Smith"}));
    assert_eq!((customer.status, customer.header("x-request-id")), (201, "client-req.1_A"));
    let customer = customer.json()["id"].as_str().expect("id").to_owned();
    let invoice = json!({"customer_id": customer, "post": true,
        "items": [{"description": "Work", "amount": "100.00"}]});
    assert_eq!(post("/v1/invoices", keys[1], &[], invoice).status, 201);
    let payment = json!({"customer_id": customer, "amount": "40.00", "method": "check"});
    assert_eq!(post("/v1/payments", keys[2], &[], payment).status, 201);
    let link = post(&format!("/v1/customers/{customer}/payment-links"), keys[3], &[], json!({}));
    assert_eq!(link.status, 201, "{}", link.body);
    let link_token = link.json()["token"].as_str().expect("token").to_owned();

    // An id that is not sane is replaced, and a problem names the id its response carries.
    let insane = [format!("X-Request-Id: {}", "x".repeat(65))];
    let missing = call(addr, "GET", "/v1/customers/cus_missing", &api(LOG_KEY, &insane), "");
    assert_eq!(missing.status, 404);
    let new_id = missing.header("x-request-id").to_owned();
    assert_eq!(new_id.len(), 24, "{new_id}");
    assert_eq!(missing.json()["request_id"], json!(new_id));
    let unsigned = call(addr, "GET", "/v1/customers", &[], "");
    assert_eq!(unsigned.status, 401);
    assert_eq!(unsigned.json()["request_id"], json!(unsigned.header("x-request-id")));

    let form = format!("email={}&password={ADMIN_PASSWORD}", ADMIN_EMAIL.replace('@', "%40"));
    let form_type = ["Content-Type: application/x-www-form-urlencoded".to_owned()];
    let signed_in = call(addr, "POST", "/login", &form_type, &form);
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    let session = cookie(&signed_in, "settle_session");
    let page = call(addr, "GET", "/customers", &[format!("Cookie: settle_session={session}")], "");
    assert_eq!(page.status, 200);
    assert_eq!(page.header("x-request-id").len(), 24);
    let pay = call(addr, "GET", &format!("/pay/{link_token}"), &[], "");
    assert_eq!(pay.status, 200);
    drop(served);

    let log = std::fs::read_to_string(dir.path().join("stderr.log")).expect("log");
    let secrets =
        [LOG_KEY, ADMIN_PASSWORD, &session, &link_token, keys[0], keys[1], keys[2], keys[3]];
    for secret in secrets {
        assert!(!log.contains(secret), "{secret} reached the log:\n{log}");
    }
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    let answered = |method: &str, route: &str| -> Vec<&Value> {
        let span = |l: &&Value| l["span"]["method"] == method && l["span"]["route"] == route;
        lines.iter().filter(|l| l["fields"]["message"] == "request answered").filter(span).collect()
    };
    let created = answered("POST", "/v1/customers");
    assert_eq!(created.len(), 1, "{log}");
    let first = created[0];
    assert_eq!(first["level"], "INFO");
    assert_eq!(first["span"]["request_id"], "client-req.1_A");
    assert_eq!(first["fields"]["status"], 201);
    assert!(first["fields"]["duration_ms"].is_u64(), "{first}");
    assert!(first["span"]["tenant"].as_str().is_some_and(|t| !t.is_empty()), "{first}");
    let pages = answered("GET", "/customers");
    assert_eq!(pages.len(), 1, "{log}");
    assert_eq!(pages[0]["span"]["tenant"], first["span"]["tenant"]);
    assert_eq!(answered("GET", "/pay/{token}").len(), 1, "{log}");
    // Every line logged inside a request names it.
    for line in lines.iter().filter(|l| l.get("span").is_some()) {
        assert!(line["span"]["request_id"].is_string(), "{line}");
    }
}
