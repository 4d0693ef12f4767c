//! API keys (admins only): the tenant's keys (never their text), create one (its text shown
//! once, on the page the form answers) and revoke one (effective on the key's next request).

use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use settle_engine::{ApiKey, CreatedKey, StaffSession};

use super::see_other;
use super::users::{ROLES, role_help, role_of};
use crate::AppState;
use crate::call::{WebError, blocking};
use crate::form::{Errors, Fields};
use crate::session::{Nav, current_nav, require_admin};
use crate::templates::render;

/// One key's line.
pub(crate) struct KeyRow {
    id: String,
    name: String,
    role: &'static str,
    created: String,
    revoked: Option<String>,
}

impl KeyRow {
    fn of(key: ApiKey) -> KeyRow {
        KeyRow {
            id: key.id,
            name: key.name.unwrap_or_default(),
            role: key.role.name(),
            created: key.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            revoked: key.revoked_at.map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string()),
        }
    }
}

/// The API keys page.
#[derive(Template)]
#[template(path = "api_keys.html")]
pub(crate) struct KeysPage {
    nav: Option<Nav>,
    section: &'static str,
    rows: Vec<KeyRow>,
    roles: [&'static str; 3],
    fields: Fields,
    errors: Errors,
    created: Option<CreatedKey>,
    done: Option<&'static str>,
}

impl KeysPage {
    fn role_help(&self, role: &str) -> &'static str {
        role_help(role)
    }
}

/// The page with the tenant's keys as they are now.
async fn answer(
    state: &AppState,
    session: &StaffSession,
    status: StatusCode,
    fields: Fields,
    errors: Errors,
    created: Option<CreatedKey>,
    done: Option<&'static str>,
) -> Response {
    let tenant_id = session.tenant_id.clone();
    match blocking(state, move |e| e.api_keys(&tenant_id)).await {
        Ok(keys) => {
            let rows = keys.into_iter().map(KeyRow::of).collect();
            let section = "api-keys";
            let page = KeysPage {
                nav: current_nav(),
                section,
                rows,
                roles: ROLES,
                fields,
                errors,
                created,
                done,
            };
            (status, render(&page)).into_response()
        }
        Err(err) => err.into_response(),
    }
}

/// `GET /api-keys?done=`.
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(err) = require_admin(&session) {
        return err.into_response();
    }
    let query = Fields::parse(query.unwrap_or_default().as_bytes());
    let done = (query.get("done") == "revoked")
        .then_some("Key revoked. Requests with it are refused from now on.");
    let (fields, errors) = (Fields::default(), Errors::default());
    answer(&state, &session, StatusCode::OK, fields, errors, None, done).await
}

/// `POST /api-keys` (`role`, `name`): makes a key and shows its text, the only time.
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    body: Bytes,
) -> Response {
    if let Err(err) = require_admin(&session) {
        return err.into_response();
    }
    let fields = Fields::parse(&body);
    let mut errors = Errors::default();
    if let Some(role) = role_of(fields.get("role"), &mut errors) {
        let (tenant_id, name) = (session.tenant_id.clone(), fields.opt("name"));
        match blocking(&state, move |e| e.create_api_key(&tenant_id, role, name)).await {
            Ok(created) => {
                let (empty, none) = (Fields::default(), Errors::default());
                let status = StatusCode::CREATED;
                return answer(&state, &session, status, empty, none, Some(created), None).await;
            }
            Err(WebError::Refused(rejection)) => {
                errors = Errors::from_rejection(&rejection, &["role", "name"]);
            }
            Err(err) => return err.into_response(),
        }
    }
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    answer(&state, &session, status, fields, errors, None, None).await
}

/// `POST /api-keys/{id}/revoke`.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Path(key_id): Path<String>,
) -> Response {
    if let Err(err) = require_admin(&session) {
        return err.into_response();
    }
    let tenant_id = session.tenant_id.clone();
    match blocking(&state, move |e| e.revoke_api_key(&tenant_id, &key_id)).await {
        Ok(()) => see_other("/api-keys?done=revoked"),
        Err(err) => err.into_response(),
    }
}
