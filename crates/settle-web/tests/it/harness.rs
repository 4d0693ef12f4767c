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
        TestWeb::with_config(settle_web::WebConfig::default())
    }

    /// The back office served as `config` says.
    pub(crate) fn with_config(config: settle_web::WebConfig) -> TestWeb {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("settle.db");
        let store = SqliteStore::open(&path, Durability::Full).expect("open store");
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).single().expect("valid time");
        let clock = Arc::new(PinnedClock(Mutex::new(at)));
        let engine = Engine::new(Arc::new(store), clock.clone(), Arc::new(CountingIds::default()));
        engine.bootstrap(None).expect("bootstrap");
        let tenant_id = engine.tenants().expect("tenants").into_iter().next().expect("a tenant");
        let router = settle_web::router(engine.clone(), config);
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

/// A signed-in user: the cookie's token and the session's CSRF token.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) token: String,
    pub(crate) csrf: String,
}

/// The password every test user gets.
pub(crate) const PASSWORD: &str = "correct horse battery";

impl TestWeb {
    /// Creates a user of `tenant_id` with `role` and signs in through `POST /login`.
    pub(crate) async fn sign_in_to(
        &self,
        tenant_id: &TenantId,
        email: &str,
        role: settle_engine::Role,
    ) -> Session {
        let engine = self.engine.clone();
        let (tenant, mail) = (tenant_id.clone(), email.to_owned());
        tokio::task::spawn_blocking(move || {
            engine.create_user(&tenant, &mail, role, Some(PASSWORD)).expect("user")
        })
        .await
        .expect("join");
        let page = self.post("/login", None, &[("email", email), ("password", PASSWORD)]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert_eq!(page.location(), Some("/customers"));
        let cookie = page.header("set-cookie").expect("a session cookie").to_owned();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
        assert!(cookie.contains("Path=/") && !cookie.contains("Secure"), "{cookie}");
        let token = cookie
            .strip_prefix("settle_session=")
            .and_then(|rest| rest.split(';').next())
            .expect("token")
            .to_owned();
        Session { csrf: settle_engine::csrf_token(&token), token }
    }

    /// A clerk of the first tenant.
    pub(crate) async fn clerk(&self) -> Session {
        let tenant = self.tenant_id.clone();
        self.sign_in_to(&tenant, "clerk@example.com", settle_engine::Role::Clerk).await
    }

    /// GET as `session`.
    pub(crate) async fn get_as(&self, session: &Session, path: &str) -> Page {
        self.get(path, Some(&session.token)).await
    }

    /// POST a form as `session`, with its CSRF token added.
    pub(crate) async fn post_as(
        &self,
        session: &Session,
        path: &str,
        form: &[(&str, &str)],
    ) -> Page {
        let mut fields = vec![("csrf", session.csrf.as_str())];
        fields.extend_from_slice(form);
        self.post(path, Some(&session.token), &fields).await
    }

    /// Creates a customer through the form and returns its id.
    pub(crate) async fn new_customer(&self, session: &Session, name: &str) -> String {
        let page =
            self.post_as(session, "/customers/new", &[("name", name), ("currency", "USD")]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let location = page.location().expect("location");
        location
            .strip_prefix("/customers/")
            .and_then(|rest| rest.split('?').next())
            .expect("customer id")
            .to_owned()
    }
}

/// The `data-value` of the first element with `data-field="FIELD"` after `from` in `html`.
/// Every hidden version field of a form (`version`, `version[…]`, `target_version`), as sent.
pub(crate) fn versions_in(html: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (at, _) in html.match_indices(r#"type="hidden" name=""#) {
        let rest = &html[at + r#"type="hidden" name=""#.len()..];
        let Some(end) = rest.find('"') else { continue };
        let name = &rest[..end];
        if !name.starts_with("version") && name != "target_version" {
            continue;
        }
        let rest = &rest[end..];
        let Some(start) = rest.find("value=\"") else { continue };
        let rest = &rest[start + "value=\"".len()..];
        let Some(end) = rest.find('"') else { continue };
        found.push((name.to_owned(), rest[..end].to_owned()));
    }
    found
}

pub(crate) fn field_value<'a>(html: &'a str, from: &str, field: &str) -> Option<&'a str> {
    let start = html.find(from)?;
    let rest = &html[start..];
    let at = rest.find(&format!(r#"data-field="{field}""#))?;
    let rest = &rest[at..];
    let value = rest.find("data-value=\"")? + "data-value=\"".len();
    let rest = &rest[value..];
    Some(&rest[..rest.find('"')?])
}

/// Asserts that every element of class `amount` carries a `data-value` (UI.md).
#[track_caller]
pub(crate) fn assert_amounts_have_values(html: &str) {
    let mut seen = 0;
    for (at, _) in html.match_indices(r#"class="amount"#) {
        let tag = &html[html[..at].rfind('<').expect("tag start")..];
        let tag = &tag[..tag.find('>').expect("tag end")];
        assert!(tag.contains("data-value=\""), "an amount without data-value: {tag}");
        seen += 1;
    }
    assert!(seen > 0, "no amounts on the page");
}
