//! The static assets, compiled into the binary: one style sheet and one small script (Copy
//! button and confirmations). Nothing is fetched from elsewhere at run time.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const STYLE: &str = include_str!("../assets/settle.css");
const SCRIPT: &str = include_str!("../assets/settle.js");

/// `GET /assets/{file}`: cached for a day (the files change only with the binary).
pub(crate) async fn serve(Path(file): Path<String>) -> Response {
    let (body, content_type) = match file.as_str() {
        "settle.css" => (STYLE, "text/css; charset=utf-8"),
        "settle.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    response
}
