//! What every request leaves behind for the people who run Settle: an `X-Request-Id` on its
//! response, a tracing span that carries the id (and the tenant, once known) into every log line
//! of the request, one `info` line when it is answered, and the request's counter and latency
//! in the metrics.
//!
//! Two layers do it. [`observed`] wraps the whole server (API and back office), so every
//! response is counted, logged and carries the id, whatever answered it. [`mark_routes`] sits on
//! each router's routes and hands the matched route template (`/v1/customers/{id}`) out to the
//! outer layer in the response's extensions: logs and metrics name the template, never the path,
//! so a payment link's token or an id never becomes a label or a log field.
//! Neither layer reads a header other than `X-Request-Id`, a query string or a body, so keys,
//! passwords, tokens and idempotency keys are never logged.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use tracing::field::Empty;

/// The header that carries a request's id both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The longest client-sent request id that is kept.
const MAX_REQUEST_ID: usize = 64;

/// Makes a new request id when the client sent none (or one that is not sane).
pub type NewRequestId = Arc<dyn Fn() -> String + Send + Sync>;

tokio::task_local! {
    /// The id of the request being served, for problem+json bodies.
    static REQUEST_ID: Arc<str>;
    /// The matched route's method and template (`POST /v1/customers`), for command metrics.
    static ROUTE: Arc<str>;
}

/// A client's request id, kept when it is 1 to 64 characters of `[A-Za-z0-9._-]`: anything else
/// could forge log lines or carry a secret into them, so it is replaced.
pub fn sane_request_id(value: &str) -> Option<&str> {
    let sane = !value.is_empty()
        && value.len() <= MAX_REQUEST_ID
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    sane.then_some(value)
}

/// The id of the request being served, if any (outside a request, or in a test that serves the
/// router without [`observed`], there is none).
pub(crate) fn current_request_id() -> Option<Arc<str>> {
    REQUEST_ID.try_with(Arc::clone).ok()
}

/// The method and route template of the request being served, if a route matched.
pub(crate) fn current_route() -> Option<Arc<str>> {
    ROUTE.try_with(Arc::clone).ok()
}

/// Wraps a whole server: request ids, the request span, one log line per request and the HTTP
/// metrics. `new_id` makes the id of a request that came without a sane one.
pub fn observed(app: Router, new_id: NewRequestId) -> Router {
    app.layer(axum::middleware::from_fn_with_state(new_id, track))
}

/// Marks each route of `router` so that [`observed`] can name it by its template. Routes added
/// after this call, and fallbacks, are not marked (they are counted as `unmatched`).
pub fn mark_routes<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.route_layer(axum::middleware::from_fn(mark_route))
}

async fn mark_route(request: Request, next: Next) -> Response {
    let Some(matched) = request.extensions().get::<MatchedPath>().cloned() else {
        return next.run(request).await;
    };
    tracing::Span::current().record("route", matched.as_str());
    let route: Arc<str> = format!("{} {}", request.method(), matched.as_str()).into();
    let mut response = ROUTE.scope(route, next.run(request)).await;
    response.extensions_mut().insert(matched);
    response
}

async fn track(State(new_id): State<NewRequestId>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id: Arc<str> = match request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(sane_request_id)
    {
        Some(sent) => sent.into(),
        None => new_id().into(),
    };
    let method = request.method().clone();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        route = Empty,
        tenant = Empty,
    );
    let mut response =
        REQUEST_ID.scope(Arc::clone(&id), next.run(request)).instrument(span.clone()).await;
    let route = match response.extensions().get::<MatchedPath>() {
        Some(matched) => matched.as_str().to_owned(),
        None => {
            span.record("route", "unmatched");
            "unmatched".to_owned()
        }
    };
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    span.in_scope(|| {
        tracing::info!(status, duration_ms = elapsed.as_millis() as u64, "request answered");
    });
    let labels = [("method", method.to_string()), ("route", route)];
    metrics::histogram!("settle_http_request_duration_seconds", &labels)
        .record(elapsed.as_secs_f64());
    let mut labels = labels.to_vec();
    labels.push(("status", status.to_string()));
    metrics::counter!("settle_http_requests_total", &labels).increment(1);
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// Names the tenant in the current request's span (and so in its log lines), once the caller
/// is known.
pub fn record_tenant(tenant_id: &str) {
    tracing::Span::current().record("tenant", tenant_id);
}
