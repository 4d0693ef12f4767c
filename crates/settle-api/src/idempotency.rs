//! `Idempotency-Key` on POST requests: a middleware hashes method, path and body and scopes the
//! key to the request; write handlers hand the engine a renderer so the response is saved in the
//! same transaction as the effect; replays answer the saved response verbatim.

use std::any::Any;

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use settle_core::application::Application;
use settle_core::customer::{Customer, HistoryLine};
use settle_core::document::Document;
use settle_core::payment::Payment;
use settle_engine::{EntryOutcome, Idempotency, Render};
use sha2::{Digest, Sha256};

use crate::MAX_BODY_BYTES;
use crate::dto::{
    AdjustmentOut, ApplicationOut, CustomerOut, DocumentOut, PaymentOut, RefundOut, TransferOut,
};
use crate::error::ApiError;
use crate::routes::entry_out;

/// The key and request hash of the request being served.
#[derive(Debug, Clone)]
pub(crate) struct KeyedRequest {
    pub(crate) key: String,
    pub(crate) request_hash: String,
}

tokio::task_local! {
    /// Set for the duration of a POST that carries an `Idempotency-Key`.
    pub(crate) static KEYED: KeyedRequest;
}

/// Longest accepted key.
const MAX_KEY_LEN: usize = 255;

/// Reads the key and hashes the request; runs the rest of the stack inside the key's scope.
pub(crate) async fn scope(request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(value) = request.headers().get("idempotency-key").cloned() else {
        return next.run(request).await;
    };
    let key = match value.to_str() {
        Ok(key)
            if !key.is_empty()
                && key.len() <= MAX_KEY_LEN
                && key.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            key.to_owned()
        }
        _ => {
            return ApiError::invalid("Idempotency-Key", "1 to 255 printable ASCII characters")
                .into_response();
        }
    };
    let (parts, body) = request.into_parts();
    let bytes = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the body is over 256 KiB",
            )
            .into_response();
        }
    };
    let mut hasher = Sha256::new();
    hasher.update(parts.method.as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(parts.uri.path().as_bytes());
    hasher.update(b"\n");
    hasher.update(&bytes);
    let request_hash = hex::encode(hasher.finalize());
    let request = Request::from_parts(parts, Body::from(bytes));
    KEYED.scope(KeyedRequest { key, request_hash }, next.run(request)).await
}

/// The key of the current request, if it has one.
pub(crate) fn current() -> Option<KeyedRequest> {
    KEYED.try_with(Clone::clone).ok()
}

fn json<T: Serialize>(value: &T) -> Option<String> {
    serde_json::to_string(value).ok()
}

/// Renders any result of a write command the way its handler answers it.
pub(crate) fn renderer(status: StatusCode) -> Render {
    let status = status.as_u16();
    Box::new(move |out: &dyn Any| {
        let body = if let Some(c) = out.downcast_ref::<Customer>() {
            json(&CustomerOut::from(c))
        } else if let Some(d) = out.downcast_ref::<Document>() {
            json(&DocumentOut::from(d))
        } else if let Some(p) = out.downcast_ref::<Payment>() {
            json(&PaymentOut::from(p))
        } else if let Some(a) = out.downcast_ref::<Application>() {
            json(&ApplicationOut::from(a))
        } else if let Some(r) = out.downcast_ref::<settle_core::refund::Refund>() {
            json(&RefundOut::from(r))
        } else if let Some(a) = out.downcast_ref::<settle_core::adjustment::Adjustment>() {
            json(&AdjustmentOut::from(a))
        } else if let Some((line, outcome)) = out.downcast_ref::<(HistoryLine, EntryOutcome)>() {
            entry_out(line, outcome).ok().and_then(|e| json(&e))
        } else if let Some(k) = out.downcast_ref::<settle_engine::CreatedKey>() {
            json(&crate::routes::keys::ApiKeyOut::from(k))
        } else if let Some((d, c)) = out.downcast_ref::<(Document, Customer)>() {
            json(&TransferOut { invoice: DocumentOut::from(d), customer: CustomerOut::from(c) })
        } else {
            None
        };
        body.map(|b| (status, b))
    })
}

/// The idempotency scope to give the engine for this request, if it has a key.
pub(crate) fn for_engine(status: StatusCode) -> Option<(KeyedRequest, Idempotency)> {
    current().map(|keyed| {
        let idempotency = Idempotency {
            key: keyed.key.clone(),
            request_hash: keyed.request_hash.clone(),
            render: renderer(status),
        };
        (keyed, idempotency)
    })
}

/// The saved response, answered again.
pub(crate) fn replay(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}
