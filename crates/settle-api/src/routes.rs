//! The handlers, one module per resource, and helpers they share. Handlers depend on DTOs,
//! errors and extractors, never the other way; `crate::router` lists them.

pub(crate) mod applications;
pub(crate) mod credits;
pub(crate) mod customers;
pub(crate) mod documents;
pub(crate) mod export;
pub(crate) mod imports;
pub(crate) mod keys;
pub(crate) mod links;
pub(crate) mod payments;
pub(crate) mod ready;
pub(crate) mod reports;
pub(crate) mod subscriptions;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use settle_store::{Page, PageRequest};

use crate::dto::ListOut;
use crate::error::ApiError;

/// `GET /healthz`.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "meta",
    summary = "Liveness",
    description = "Answers 200 `ok` without auth.",
    responses((status = 200, description = "`ok`", body = String, content_type = "text/plain"))
)]
pub(crate) async fn health() -> &'static str {
    "ok"
}

/// Default page size of lists.
const DEFAULT_LIMIT: u32 = 50;

/// Reads `limit` (1–500, default 50) and the opaque `cursor`.
pub(crate) fn page_request(
    limit: Option<u32>,
    cursor: Option<String>,
) -> Result<PageRequest, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit", "between 1 and 500"));
    }
    let cursor = cursor
        .map(|c| {
            URL_SAFE_NO_PAD
                .decode(c.as_bytes())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| ApiError::invalid("cursor", "not a cursor of this list"))
        })
        .transpose()?;
    Ok(PageRequest { limit, cursor })
}

/// A list response from a page, converting each row.
pub(crate) fn list_out<T, O: Serialize>(page: &Page<T>, convert: impl Fn(&T) -> O) -> ListOut<O> {
    ListOut {
        object: "list",
        data: page.rows.iter().map(convert).collect(),
        next_cursor: page.next_cursor.as_ref().map(|c| URL_SAFE_NO_PAD.encode(c.as_bytes())),
    }
}

/// Parses an id in a path or a body; text that cannot be such an id is simply not found.
pub(crate) fn parse_id<T>(
    text: &str,
    parse: fn(&str) -> Option<T>,
    what: &str,
) -> Result<T, ApiError> {
    parse(text).ok_or_else(|| ApiError::not_found(what))
}
