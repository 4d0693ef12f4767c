//! Who is signed in: the session cookie, the check every back-office request passes (a live
//! session, else 303 to `/login`), the CSRF token every POST must carry, and the roles.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::AppState;
use crate::call::{WebError, blocking};
use crate::form::Fields;
use settle_engine::{Role, StaffSession};

/// The session cookie's name.
pub(crate) const COOKIE: &str = "settle_session";

/// The largest form body the back office reads.
pub(crate) const MAX_FORM_BYTES: usize = 256 * 1024;

/// What the layout shows of the signed-in user, and the token its forms carry.
#[derive(Debug, Clone)]
pub(crate) struct Nav {
    /// The user's email.
    pub(crate) email: String,
    /// `admin`, `clerk` or `viewer`.
    pub(crate) role: &'static str,
    /// The session's CSRF token, for every form's hidden `csrf` field.
    pub(crate) csrf: String,
    /// Clerks and admins may change things; viewers only look.
    pub(crate) can_write: bool,
    /// Admins see Settings.
    pub(crate) is_admin: bool,
    /// How many situations Attention lists (the sidebar's count).
    pub(crate) attention: usize,
}

impl Nav {
    fn of(session: &StaffSession) -> Nav {
        Nav {
            email: session.email.clone(),
            role: session.role.name(),
            csrf: session.csrf.clone(),
            can_write: session.role != Role::Viewer,
            is_admin: session.role == Role::Admin,
            attention: 0,
        }
    }
}

tokio::task_local! {
    static NAV: Nav;
}

/// The signed-in user's nav, inside a back-office request (error pages use it).
pub(crate) fn current_nav() -> Option<Nav> {
    NAV.try_with(Clone::clone).ok()
}

/// The raw session token of the request's cookie.
pub(crate) fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty())
}

/// The live session of a request, if any.
pub(crate) async fn session_of(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<StaffSession>, WebError> {
    match cookie_token(headers) {
        Some(token) => blocking(state, move |e| e.session(&token)).await,
        None => Ok(None),
    }
}

/// Compares two tokens in time that does not depend on where they differ.
fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The check in front of every back-office page: no session → 303 `/login` (nothing of the
/// tenant is read); a POST must carry the session's `csrf` and a role that may write (a viewer
/// may only sign out), else 403 before the handler runs, so nothing is written.
pub(crate) async fn require(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let session = match session_of(&state, request.headers()).await {
        Ok(Some(session)) => session,
        Ok(None) => return Redirect::to("/login").into_response(),
        Err(err) => return err.into_response(),
    };
    // The server's request span (if any) names the tenant in every log line of the request.
    tracing::Span::current().record("tenant", session.tenant_id.as_str());
    let mut nav = Nav::of(&session);
    // Every signed-in page shows the count, the pages a POST draws too (a preview, a refused
    // form): counted before the handler runs, which is what those pages show, since they
    // write nothing.
    let tenant_id = session.tenant_id.clone();
    let counted = blocking(&state, move |e| crate::pages::attention::count(e, &tenant_id));
    // The count is a hint: a page still shows when it cannot be read.
    nav.attention = counted.await.unwrap_or_default();
    let mut request = request;
    if request.method() == Method::POST {
        let (parts, body) = request.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
            return NAV.scope(nav, async { too_large() }).await;
        };
        let sent = Fields::parse(&bytes);
        let may_write = session.role != Role::Viewer || parts.uri.path() == "/logout";
        if !same_token(sent.get("csrf"), &session.csrf) || !may_write {
            return NAV.scope(nav, async { WebError::Forbidden.into_response() }).await;
        }
        request = Request::from_parts(parts, Body::from(bytes));
    }
    request.extensions_mut().insert(session);
    NAV.scope(nav, next.run(request)).await
}

fn too_large() -> Response {
    (StatusCode::PAYLOAD_TOO_LARGE, "the form is too large").into_response()
}

/// The `Set-Cookie` value that holds `token`; `Secure` when served over HTTPS.
pub(crate) fn set_cookie(token: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/{secure}"))
        .unwrap_or_else(|_| HeaderValue::from_static("settle_session=; Path=/"))
}

/// The `Set-Cookie` value that drops the session cookie.
pub(crate) fn clear_cookie(secure: bool) -> HeaderValue {
    let value = if secure {
        "settle_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0; Secure"
    } else {
        "settle_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"
    };
    HeaderValue::from_static(value)
}

/// Whether the request came over HTTPS: the configured public URL says so, or the proxy in
/// front says `X-Forwarded-Proto: https`.
pub(crate) fn is_https(state: &AppState, headers: &HeaderMap) -> bool {
    let configured = state.config.public_url.as_deref().is_some_and(|u| u.starts_with("https://"));
    let forwarded = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    configured || forwarded
}

/// 403 unless the session's role is admin.
pub(crate) fn require_admin(session: &StaffSession) -> Result<(), WebError> {
    if session.role == Role::Admin { Ok(()) } else { Err(WebError::Forbidden) }
}

/// 403 for a viewer: the forms that change things are not theirs to open.
pub(crate) fn require_writer(session: &StaffSession) -> Result<(), WebError> {
    if session.role == Role::Viewer { Err(WebError::Forbidden) } else { Ok(()) }
}

/// Whether a POST without a session (the sign-in form) comes from a page of this server: a
/// browser sends `Origin` with every POST, and another site's origin (or `null`, which any page
/// can make its browser send) is refused, so no page elsewhere can sign a visitor in to an
/// account of its choosing. Clients that send no `Origin` (scripts) are let through; they can
/// only sign themselves in.
pub(crate) fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let public = state.config.public_url.as_deref().map(|u| u.trim_end_matches('/'));
    let own = origin.split_once("://").is_some_and(|(_, rest)| rest == host);
    own || public == Some(origin)
}
