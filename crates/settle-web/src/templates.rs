//! Rendering: every page is an askama template (checked when the crate compiles, every value
//! HTML-escaped) that extends `layout.html`; this module renders them and holds the pages that
//! belong to no area (the error page).

use askama::Template;
use axum::response::Html;

use crate::session::Nav;

/// Renders a page; a template that fails to render (it cannot, short of a formatting bug) is
/// logged and answered with a plain sentence, never a trace.
pub(crate) fn render<T: Template>(page: &T) -> Html<String> {
    match page.render() {
        Ok(html) => Html(html),
        Err(err) => {
            tracing::error!(error = %err, "a page failed to render");
            Html("<!doctype html><title>Settle</title><p>This page could not be shown.</p>".into())
        }
    }
}

/// The page of a 403, 404, refused request or failure, in the layout when signed in.
#[derive(Template)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage {
    pub(crate) nav: Option<Nav>,
    pub(crate) section: &'static str,
    pub(crate) title: &'static str,
    pub(crate) message: String,
}
