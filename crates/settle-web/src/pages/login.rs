//! Signing in and out: `GET/POST /login`, `POST /logout`, and `/`, which sends a visitor to
//! the customers or to the sign-in form.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::see_other;
use crate::AppState;
use crate::call::{WebError, blocking};
use crate::form::Fields;
use crate::session::{self, Nav};
use crate::templates::render;
use settle_engine::SignIn;

/// The sign-in form.
#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct LoginPage {
    nav: Option<Nav>,
    section: &'static str,
    email: String,
    message: Option<String>,
}

fn page(email: String, message: Option<String>) -> LoginPage {
    LoginPage { nav: None, section: "", email, message }
}

/// `GET /`: the customers when signed in, else the sign-in form.
pub(crate) async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match session::session_of(&state, &headers).await {
        Ok(Some(_)) => see_other("/customers"),
        Ok(None) => see_other("/login"),
        Err(err) => err.into_response(),
    }
}

/// `GET /login`.
pub(crate) async fn show(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Ok(Some(_)) = session::session_of(&state, &headers).await {
        return see_other("/customers");
    }
    render(&page(String::new(), None)).into_response()
}

/// `POST /login`: one message for a wrong email or password, another when locked out.
pub(crate) async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !session::same_origin(&state, &headers) {
        return WebError::Forbidden.into_response();
    }
    let fields = Fields::parse(&body);
    let email = fields.get("email").trim().to_owned();
    let password = fields.get("password").to_owned();
    let attempt = {
        let email = email.clone();
        blocking(&state, move |e| e.sign_in(&email, &password)).await
    };
    match attempt {
        Ok(SignIn::Ok { token, .. }) => {
            let mut response = see_other("/customers");
            let cookie = session::set_cookie(&token, session::is_https(&state, &headers));
            response.headers_mut().insert(header::SET_COOKIE, cookie);
            response
        }
        Ok(SignIn::Refused) => {
            let message = "Wrong email or password.".to_owned();
            (StatusCode::UNAUTHORIZED, render(&page(email, Some(message)))).into_response()
        }
        Ok(SignIn::Locked { until }) => {
            let message = format!(
                "Too many failed sign-ins for this email. It is locked until {} UTC; \
                 try again then.",
                until.format("%Y-%m-%d %H:%M")
            );
            (StatusCode::TOO_MANY_REQUESTS, render(&page(email, Some(message)))).into_response()
        }
        Err(err) => err.into_response(),
    }
}

/// `POST /logout` (behind the session check, so it carries the CSRF token).
pub(crate) async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = session::cookie_token(&headers)
        && let Err(err) = blocking(&state, move |e| e.sign_out(&token)).await
    {
        return err.into_response();
    }
    let mut response = see_other("/login");
    let cookie = session::clear_cookie(session::is_https(&state, &headers));
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    response
}
