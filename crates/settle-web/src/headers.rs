//! Response headers of every page: a Content-Security-Policy that allows nothing from
//! elsewhere (and no inline script or style), no referrer to other sites, no caching of pages
//! with ledger data, and for the payment page also no referrer at all, no indexing and no form
//! posts.
//!
//! The back office says `Referrer-Policy: same-origin`, not `no-referrer`: under `no-referrer` a
//! browser sends `Origin: null` with the sign-in form's POST, the same as a page elsewhere can,
//! so the sign-in's origin check could not tell them apart. `same-origin` still sends nothing
//! to other sites.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The back office's policy: scripts, styles and images only from this origin, forms only to it.
const BACK_OFFICE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; \
    frame-ancestors 'none'";

/// The payment page's policy: no script at all, its one style sheet, no forms.
const PAY_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

fn set(response: &mut Response, name: HeaderName, value: &'static str) {
    response.headers_mut().insert(name, HeaderValue::from_static(value));
}

/// Headers of back-office pages (assets keep their own `Cache-Control`).
pub(crate) async fn back_office(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    set(&mut response, header::CONTENT_SECURITY_POLICY, BACK_OFFICE_CSP);
    set(&mut response, header::REFERRER_POLICY, "same-origin");
    set(&mut response, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(&mut response, header::X_FRAME_OPTIONS, "DENY");
    if !response.headers().contains_key(header::CACHE_CONTROL) {
        set(&mut response, header::CACHE_CONTROL, "no-store");
    }
    response
}

/// Headers of `/pay/…`, whatever the answer (the page, its JSON or the bare 404).
pub(crate) async fn pay(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    set(&mut response, header::CONTENT_SECURITY_POLICY, PAY_CSP);
    set(&mut response, header::REFERRER_POLICY, "no-referrer");
    set(&mut response, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(&mut response, header::X_FRAME_OPTIONS, "DENY");
    set(&mut response, header::CACHE_CONTROL, "no-store");
    set(&mut response, HeaderName::from_static("x-robots-tag"), "noindex");
    response
}
