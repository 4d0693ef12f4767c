//! Users (admins only): the tenant's staff users; invite one (a generated password shown once),
//! change a role, remove one. Users are not ledger state: no journal.

use askama::Template;
use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use settle_engine::{Role, StaffSession, StaffUser};

use super::see_other;
use crate::AppState;
use crate::call::{WebError, blocking};
use crate::form::{Errors, Fields};
use crate::session::{Nav, current_nav, require_admin};
use crate::templates::render;

/// The roles, in the order offered.
pub(crate) const ROLES: [&str; 3] = ["clerk", "viewer", "admin"];

/// What a role may do, in one line.
pub(crate) fn role_help(role: &str) -> &'static str {
    match role {
        "admin" => "everything, and users, API keys and settings",
        "clerk" => "every billing operation",
        _ => "reads only",
    }
}

/// A role from the form's text, with the API's words when it is none.
pub(crate) fn role_of(text: &str, errors: &mut Errors) -> Option<Role> {
    let role = Role::parse(text);
    if role.is_none() {
        errors.add("role", "admin, clerk or viewer");
    }
    role
}

/// One user's line.
pub(crate) struct UserRow {
    id: String,
    email: String,
    role: &'static str,
    created: String,
    removed: Option<String>,
    is_me: bool,
    error: Option<String>,
}

/// The users page, with the invite form and, once, a new user's password.
#[derive(Template)]
#[template(path = "users.html")]
pub(crate) struct UsersPage {
    nav: Option<Nav>,
    section: &'static str,
    rows: Vec<UserRow>,
    roles: [&'static str; 3],
    fields: Fields,
    errors: Errors,
    invited: Option<Invited>,
    done: Option<&'static str>,
}

/// A user just invited, with the password Settle generated (shown only now).
pub(crate) struct Invited {
    email: String,
    password: String,
}

impl UsersPage {
    fn role_help(&self, role: &str) -> &'static str {
        role_help(role)
    }
}

fn rows(users: Vec<StaffUser>, me: &StaffSession, error: Option<(&str, String)>) -> Vec<UserRow> {
    users
        .into_iter()
        .map(|u| {
            let id = u.id.to_string();
            UserRow {
                error: error.as_ref().filter(|(who, _)| *who == id).map(|(_, m)| m.clone()),
                is_me: u.id == me.user_id,
                email: u.email,
                role: u.role.name(),
                created: u.created_at.format("%Y-%m-%d").to_string(),
                removed: u.removed_at.map(|at| at.format("%Y-%m-%d").to_string()),
                id,
            }
        })
        .collect()
}

/// What the page shows besides the list.
#[derive(Default)]
struct Extra<'a> {
    fields: Fields,
    errors: Errors,
    invited: Option<Invited>,
    row_error: Option<(&'a str, String)>,
    done: Option<&'static str>,
}

/// The page with the tenant's users as they are now.
async fn page(
    state: &AppState,
    session: &StaffSession,
    extra: Extra<'_>,
) -> Result<UsersPage, WebError> {
    let tenant_id = session.tenant_id.clone();
    let users = blocking(state, move |e| e.users(&tenant_id)).await?;
    Ok(UsersPage {
        nav: current_nav(),
        section: "users",
        rows: rows(users, session, extra.row_error),
        roles: ROLES,
        fields: extra.fields,
        errors: extra.errors,
        invited: extra.invited,
        done: extra.done,
    })
}

fn answer(status: StatusCode, page: Result<UsersPage, WebError>) -> Response {
    match page {
        Ok(page) => (status, render(&page)).into_response(),
        Err(err) => err.into_response(),
    }
}

fn confirmation(done: &str) -> Option<&'static str> {
    match done {
        "role" => Some("Role changed. It applies from the user's next page."),
        "removed" => Some("User removed. Their sessions have ended."),
        _ => None,
    }
}

/// `GET /users?done=`.
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(err) = require_admin(&session) {
        return err.into_response();
    }
    let query = Fields::parse(query.unwrap_or_default().as_bytes());
    let extra = Extra { done: confirmation(query.get("done")), ..Extra::default() };
    answer(StatusCode::OK, page(&state, &session, extra).await)
}

/// `POST /users` (`email`, `role`): invites a user with a generated password, shown only on
/// the page this answers.
pub(crate) async fn invite(
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
        let (tenant_id, email) = (session.tenant_id.clone(), fields.get("email").to_owned());
        match blocking(&state, move |e| e.create_user(&tenant_id, &email, role, None)).await {
            Ok(created) => {
                let password = created.password.unwrap_or_default();
                let invited = Invited { email: created.user.email, password };
                let extra = Extra { invited: Some(invited), ..Extra::default() };
                return answer(StatusCode::CREATED, page(&state, &session, extra).await);
            }
            Err(WebError::Refused(rejection)) => {
                errors = Errors::from_rejection(&rejection, &["email", "role"]);
            }
            Err(err) => return err.into_response(),
        }
    }
    let extra = Extra { fields, errors, ..Extra::default() };
    answer(StatusCode::UNPROCESSABLE_ENTITY, page(&state, &session, extra).await)
}

/// `POST /users/{id}/role` (`role`).
pub(crate) async fn change_role(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Path(user_id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(err) = require_admin(&session) {
        return err.into_response();
    }
    let fields = Fields::parse(&body);
    let mut errors = Errors::default();
    let message = match role_of(fields.get("role"), &mut errors) {
        Some(role) => {
            let (tenant_id, id) = (session.tenant_id.clone(), user_id.clone());
            match blocking(&state, move |e| e.change_user_role(&tenant_id, &id, role)).await {
                Ok(_) => return see_other("/users?done=role"),
                Err(WebError::Refused(rejection)) => message_of(&rejection),
                Err(err) => return err.into_response(),
            }
        }
        None => errors.get("role").unwrap_or_default().to_owned(),
    };
    let extra = Extra { row_error: Some((&user_id, message)), ..Extra::default() };
    answer(StatusCode::UNPROCESSABLE_ENTITY, page(&state, &session, extra).await)
}

/// The API's words for a refusal about one user's row.
fn message_of(rejection: &settle_core::error::Rejection) -> String {
    settle_api::field_error(rejection)
        .map_or_else(|| crate::view::rejection_text(rejection), |e| e.message)
}

/// `POST /users/{id}/remove`: the user can no longer sign in; their sessions end.
pub(crate) async fn remove(
    State(state): State<AppState>,
    Extension(session): Extension<StaffSession>,
    Path(user_id): Path<String>,
) -> Response {
    if let Err(err) = require_admin(&session) {
        return err.into_response();
    }
    let (tenant_id, id) = (session.tenant_id.clone(), user_id.clone());
    let message = match blocking(&state, move |e| e.remove_user(&tenant_id, &id)).await {
        Ok(()) => return see_other("/users?done=removed"),
        Err(WebError::Refused(rejection)) => message_of(&rejection),
        Err(err) => return err.into_response(),
    };
    let extra = Extra { row_error: Some((&user_id, message)), ..Extra::default() };
    answer(StatusCode::UNPROCESSABLE_ENTITY, page(&state, &session, extra).await)
}
