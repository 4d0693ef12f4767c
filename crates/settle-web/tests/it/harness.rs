//! A test back office: the real router over a fresh SQLite store, a clock the test moves and
//! counting ids.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use http_body_util::BodyExt;
use settle_core::ids::{IdGen, TenantId};
use settle_engine::{Clock, Engine};
use settle_store_sqlite::{Durability, SqliteStore};
use tower::ServiceExt;

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

/// A response: status, headers and body text.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Page {
    /// The `Location` of a redirect.
    pub(crate) fn location(&self) -> Option<&str> {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok())
    }

    /// A header's text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The back office over its own database.
pub(crate) struct TestWeb {
    pub(crate) engine: Engine,
    pub(crate) router: Router,
    clock: Arc<PinnedClock>,
    pub(crate) tenant_id: TenantId,
    _dir: tempfile::TempDir,
}

impl TestWeb {
    pub(crate) fn new() -> TestWeb {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("settle.db");
        let store = SqliteStore::open(&path, Durability::Full).expect("open store");
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).single().expect("valid time");
        let clock = Arc::new(PinnedClock(Mutex::new(at)));
        let engine = Engine::new(Arc::new(store), clock.clone(), Arc::new(CountingIds::default()));
        engine.bootstrap(None).expect("bootstrap");
        let tenant_id = engine.tenants().expect("tenants").into_iter().next().expect("a tenant");
        let router = settle_web::router(engine.clone(), settle_web::WebConfig::default());
        TestWeb { engine, router, clock, tenant_id, _dir: dir }
    }

    /// Moves the engine's clock forward.
    #[allow(dead_code, reason = "used by the session tests")]
    pub(crate) fn advance_clock(&self, by: TimeDelta) {
        let mut now = self.clock.0.lock().expect("clock");
        *now += by;
    }

    /// Sends a request with an optional session cookie and form body.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        cookie: Option<&str>,
        form: Option<&[(&str, &str)]>,
    ) -> Page {
        let mut request =
            Request::builder().method(method).uri(path).header(header::HOST, "settle.test");
        if let Some(token) = cookie {
            request = request.header(header::COOKIE, format!("settle_session={token}"));
        }
        let body = match form {
            Some(fields) => {
                request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Body::from(serde_urlencoded::to_string(fields).expect("form"))
            }
            None => Body::empty(),
        };
        let response =
            self.router.clone().oneshot(request.body(body).expect("request")).await.expect("reply");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        Page { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    pub(crate) async fn get(&self, path: &str, cookie: Option<&str>) -> Page {
        self.send(Method::GET, path, cookie, None).await
    }

    pub(crate) async fn post(
        &self,
        path: &str,
        cookie: Option<&str>,
        form: &[(&str, &str)],
    ) -> Page {
        self.send(Method::POST, path, cookie, Some(form)).await
    }
}
