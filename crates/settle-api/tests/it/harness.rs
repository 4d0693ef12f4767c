//! A test server: the real router over a fresh store (SQLite, or PostgreSQL when asked), a
//! pinned clock and counting ids.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use settle_core::ids::IdGen;
use settle_engine::{Clock, Engine};
use settle_store::Store;
use settle_store_postgres::PostgresStore;
use settle_store_sqlite::{Durability, SqliteStore};
use tower::ServiceExt;

/// The public base URL the test API answers payment links under.
pub(crate) const PUBLIC_URL: &str = "https://billing.example.com";

pub(crate) const KEY: &str = "sk_test_0123456789abcdef";

/// A clock that stands still until a test moves it.
struct PinnedClock(Mutex<DateTime<Utc>>);

impl Clock for PinnedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock")
    }
}

#[derive(Default)]
struct CountingIds(AtomicU64);

impl IdGen for CountingIds {
    fn suffix(&self) -> String {
        format!("{:08}", self.0.fetch_add(1, Ordering::Relaxed) + 1)
    }
}

/// A running API over its own database.
pub(crate) struct TestApi {
    /// The engine and router; an `Option` only so that `Drop` can move them off the async
    /// runtime (a PostgreSQL client must not be dropped on it).
    served: Option<(Engine, Router)>,
    clock: Arc<PinnedClock>,
    _database: Option<TestDatabase>,
    _dir: tempfile::TempDir,
}

impl Drop for TestApi {
    fn drop(&mut self) {
        if let Some(served) = self.served.take() {
            let _ = std::thread::spawn(move || drop(served)).join();
        }
    }
}

/// A PostgreSQL database made for one test and dropped after it.
struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

static DATABASES: AtomicU64 = AtomicU64::new(0);

impl TestDatabase {
    fn create() -> TestDatabase {
        let admin_url = std::env::var("SETTLE_TEST_POSTGRES_URL")
            .expect("SETTLE_TEST_STORE=postgres needs SETTLE_TEST_POSTGRES_URL");
        let name = format!(
            "settle_api_{}_{}",
            std::process::id(),
            DATABASES.fetch_add(1, Ordering::Relaxed)
        );
        let mut client = postgres::Client::connect(&admin_url, postgres::NoTls).expect("connect");
        client.batch_execute(&format!("drop database if exists {name}")).expect("drop old");
        client.batch_execute(&format!("create database {name}")).expect("create database");
        let url = match admin_url.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => panic!("SETTLE_TEST_POSTGRES_URL names no database: {admin_url}"),
        };
        TestDatabase { admin_url, name, url }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Off any async runtime, as the client requires.
        let _ = std::thread::spawn(move || {
            if let Ok(mut client) = postgres::Client::connect(&admin_url, postgres::NoTls) {
                let _ =
                    client.batch_execute(&format!("drop database if exists {name} with (force)"));
            }
        })
        .join();
    }
}

/// A response: status and JSON body (or `Value::Null` when empty).
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) content_type: Option<String>,
    pub(crate) body: Value,
    /// The `Idempotent-Replayed` header was `true`.
    pub(crate) replayed: bool,
}

impl Reply {
    /// Asserts the status and returns the body.
    #[track_caller]
    pub(crate) fn expect(self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {:#}", self.body);
        self.body
    }

    /// Asserts a problem+json answer with `status` and `code`.
    #[track_caller]
    pub(crate) fn expect_problem(self, status: u16, code: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {:#}", self.body);
        assert_eq!(self.content_type.as_deref(), Some("application/problem+json"));
        assert_eq!(self.body["code"], code, "unexpected code; body: {:#}", self.body);
        assert_eq!(self.body["status"], status);
        self.body
    }
}

impl TestApi {
    /// A fresh API over a fresh store: SQLite in a temporary folder, or, when
    /// `SETTLE_TEST_STORE=postgres`, a new PostgreSQL database on `SETTLE_TEST_POSTGRES_URL`.
    pub(crate) fn new() -> TestApi {
        // The PostgreSQL client blocks on its own runtime, so the store is built off the test's.
        std::thread::spawn(TestApi::build).join().expect("building the test API")
    }

    fn build() -> TestApi {
        let dir = tempfile::tempdir().expect("temp dir");
        let (store, database): (Arc<dyn Store>, Option<TestDatabase>) =
            match std::env::var("SETTLE_TEST_STORE").as_deref() {
                Ok("postgres") => {
                    let database = TestDatabase::create();
                    let store = PostgresStore::open(&database.url).expect("open PostgreSQL store");
                    (Arc::new(store), Some(database))
                }
                _ => {
                    let path = dir.path().join("settle.db");
                    let store = SqliteStore::open(&path, Durability::Full).expect("open store");
                    (Arc::new(store), None)
                }
            };
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).single().expect("valid time");
        let clock = Arc::new(PinnedClock(Mutex::new(at)));
        let engine = Engine::new(store, clock.clone(), Arc::new(CountingIds::default()));
        engine.bootstrap(Some(KEY)).expect("bootstrap");
        let router = settle_api::router(engine.clone(), PUBLIC_URL);
        TestApi { served: Some((engine, router)), clock, _database: database, _dir: dir }
    }

    /// Moves the engine's clock forward.
    pub(crate) fn advance_clock(&self, by: TimeDelta) {
        let mut now = self.clock.0.lock().expect("clock");
        *now += by;
    }

    /// One batch of the server's background pruning of expired idempotency keys.
    pub(crate) async fn prune_idempotency(&self, batch: u32) -> usize {
        let engine = self.engine().clone();
        tokio::task::spawn_blocking(move || engine.prune_idempotency(batch))
            .await
            .expect("join")
            .expect("prune")
    }

    /// A second tenant's admin key.
    pub(crate) fn other_tenant_key(&self) -> String {
        let engine = self.engine().clone();
        std::thread::spawn(move || engine.create_tenant("Other tenant").expect("tenant").key)
            .join()
            .expect("join")
    }

    /// A new key of the first tenant with `role`, and its id.
    pub(crate) fn key_with_role(&self, role: settle_store::Role) -> (String, String) {
        let engine = self.engine().clone();
        std::thread::spawn(move || {
            let tenant = engine.tenants().expect("tenants").remove(0);
            let created = engine.create_api_key(&tenant, role, None).expect("key");
            (created.key, created.id)
        })
        .join()
        .expect("join")
    }

    fn engine(&self) -> &Engine {
        &self.served.as_ref().expect("served until dropped").0
    }

    fn router(&self) -> &Router {
        &self.served.as_ref().expect("served until dropped").1
    }

    pub(crate) async fn send_raw(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Body,
        json: bool,
    ) -> Reply {
        self.send(method, path, key, None, body, json).await
    }

    /// A request with every option: API key, idempotency key, body.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        idempotency_key: Option<&str>,
        body: Body,
        json: bool,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(idempotency_key) = idempotency_key {
            request = request.header("idempotency-key", idempotency_key);
        }
        if let Some(key) = key {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        if json {
            request = request.header("content-type", "application/json");
        }
        let response = self
            .router()
            .clone()
            .oneshot(request.body(body).expect("request"))
            .await
            .expect("infallible");
        let status = response.status();
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let replayed = response.headers().get("idempotent-replayed").is_some_and(|v| v == "true");
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Reply { status, content_type, body, replayed }
    }

    /// A POST of `body` as `Content-Type: text/csv`.
    pub(crate) async fn post_csv(&self, path: &str, body: &str) -> Reply {
        self.post_csv_as(KEY, path, body).await
    }

    /// [`TestApi::post_csv`] with another API key.
    pub(crate) async fn post_csv_as(&self, key: &str, path: &str, body: &str) -> Reply {
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", "text/csv")
            .body(Body::from(body.to_owned()))
            .expect("request");
        let response = self.router().clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        Reply { status, content_type, body, replayed: false }
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> Reply {
        self.send_raw(Method::POST, path, Some(KEY), Body::from(body.to_string()), true).await
    }

    /// A POST with an `Idempotency-Key`.
    pub(crate) async fn post_keyed(&self, path: &str, idempotency_key: &str, body: Value) -> Reply {
        self.send(
            Method::POST,
            path,
            Some(KEY),
            Some(idempotency_key),
            Body::from(body.to_string()),
            true,
        )
        .await
    }

    pub(crate) async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send_raw(Method::PATCH, path, Some(KEY), Body::from(body.to_string()), true).await
    }

    pub(crate) async fn get(&self, path: &str) -> Reply {
        self.send_raw(Method::GET, path, Some(KEY), Body::empty(), false).await
    }

    /// Creates a USD customer and returns its id.
    pub(crate) async fn customer(&self, name: &str) -> String {
        let body = self.post("/v1/customers", json!({"name": name, "email": format!("{}@example.com", name.to_lowercase().replace(' ', "."))})).await.expect(201);
        body["id"].as_str().expect("id").to_owned()
    }

    /// Creates and posts an invoice; returns it.
    pub(crate) async fn invoice(&self, customer_id: &str, items: Value) -> Value {
        self.post("/v1/invoices", json!({"customer_id": customer_id, "items": items, "post": true}))
            .await
            .expect(201)
    }

    /// Records a payment; returns it.
    pub(crate) async fn payment(&self, customer_id: &str, amount: &str) -> Value {
        self.post(
            "/v1/payments",
            json!({"customer_id": customer_id, "amount": amount, "method": "check"}),
        )
        .await
        .expect(201)
    }

    /// The balance fields of a customer.
    pub(crate) async fn balances(&self, customer_id: &str) -> Value {
        let c = self.get(&format!("/v1/customers/{customer_id}")).await.expect(200);
        json!({
            "balance": c["balance"], "receivable": c["receivable"],
            "unapplied_payments": c["unapplied_payments"], "credit_memo_balance": c["credit_memo_balance"],
            "credit_balance": c["credit_balance"], "available_credit": c["available_credit"],
        })
    }

    /// Item balances of a document, in order.
    pub(crate) async fn item_balances(&self, path: &str) -> Vec<String> {
        let doc = self.get(path).await.expect(200);
        doc["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["balance"].as_str().expect("balance").to_owned())
            .collect()
    }

    /// Asserts that every projection equals the replay of the journal and that the trial
    /// balance is even.
    pub(crate) async fn assert_verified(&self) {
        let engine = self.engine().clone();
        let report = tokio::task::spawn_blocking(move || engine.verify())
            .await
            .expect("join")
            .expect("verify");
        assert!(report.is_clean(), "verify found differences: {:#?}", report.differences);
        let tb = self.get("/v1/reports/trial-balance").await.expect(200);
        for currency in tb["currencies"].as_array().expect("currencies") {
            assert_eq!(currency["total_debit"], currency["total_credit"], "trial balance: {tb:#}");
        }
    }
}

/// The id field of a JSON object.
pub(crate) fn id(value: &Value) -> String {
    value["id"].as_str().expect("id").to_owned()
}

/// The id of the `n`th item of a document.
pub(crate) fn item(document: &Value, n: usize) -> String {
    document["items"][n]["id"].as_str().expect("item id").to_owned()
}

impl TestApi {
    /// The tenant's whole journal feed, `{"data": [...]}`, read to the end. On PostgreSQL the
    /// feed holds back what committed above the cluster's oldest open transaction (`has_more`
    /// stays true meanwhile), and tests share the cluster, so this follows the cursor until
    /// the feed has caught up.
    pub(crate) async fn journal(&self) -> Value {
        let mut data = Vec::new();
        let mut cursor = String::new();
        for _ in 0..2_000 {
            let path = if cursor.is_empty() {
                "/v1/journal?limit=500".to_owned()
            } else {
                format!("/v1/journal?limit=500&cursor={cursor}")
            };
            let page = self.get(&path).await.expect(200);
            data.extend(page["data"].as_array().expect("data").iter().cloned());
            cursor = page["next_cursor"].as_str().expect("a feed cursor").to_owned();
            if page["has_more"] == json!(false) {
                return json!({ "data": data });
            }
            if page["data"].as_array().is_some_and(Vec::is_empty) {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
        panic!("the journal feed did not catch up");
    }

    /// A snapshot of everything a rejected request must leave alone: the journal, and every
    /// customer with its balances.
    pub(crate) async fn snapshot(&self) -> Value {
        let journal = self.journal().await;
        let customers = self.get("/v1/customers?limit=500").await.expect(200);
        let invoices = self.get("/v1/invoices?limit=500").await.expect(200);
        let payments = self.get("/v1/payments?limit=500").await.expect(200);
        let applications = self.get("/v1/applications?limit=500").await.expect(200);
        json!([journal, customers, invoices, payments, applications])
    }
}

/// `(kind, amount)` of each line of a customer's history, newest first.
pub(crate) async fn history(api: &TestApi, customer: &str) -> Vec<(String, String)> {
    let body = api.get(&format!("/v1/customers/{customer}/history")).await.expect(200);
    body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|line| {
            (
                line["kind"].as_str().expect("kind").to_owned(),
                line["amount"].as_str().expect("amount").to_owned(),
            )
        })
        .collect()
}

/// A history line as [`history`] returns it.
pub(crate) fn line(kind: &str, amount: &str) -> (String, String) {
    (kind.to_owned(), amount.to_owned())
}
