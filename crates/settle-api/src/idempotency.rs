//! `Idempotency-Key` on POST requests: a middleware parses the key, hashes method, path and
//! body and scopes the key to the request; [`Responder`] renders each kind of write result, so
//! the engine saves the response in the same transaction as the effect; replays answer the
//! saved response verbatim.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use settle_core::adjustment::Adjustment;
use settle_core::application::Application;
use settle_core::customer::{Customer, HistoryLine};
use settle_core::document::Document;
use settle_core::payment::Payment;
use settle_core::refund::Refund;
use settle_engine::{
    BillingResult, CreatedKey, CreatedPaymentLink, EntryOutcome, IdempotencyKey, SaveFailed,
    SaveResponse, SavedResponse,
};
use sha2::{Digest, Sha256};

use crate::dto::{
    AdjustmentOut, ApiKeyOut, ApplicationOut, CustomerOut, DocumentOut, PaymentLinkCreatedOut,
    PaymentOut, RefundOut, TransferOut, entry_out,
};
use crate::dto::{AmendmentOutcomeOut, BillRunOut, PriceOut, ProductOut, SubscriptionOut};
use crate::error::ApiError;
use crate::extract::MAX_BODY_BYTES;

/// The key and request hash of the request being served.
#[derive(Debug, Clone)]
pub(crate) struct KeyedRequest {
    pub(crate) key: IdempotencyKey,
    pub(crate) request_hash: String,
}

tokio::task_local! {
    /// Set for the duration of a POST that carries an `Idempotency-Key`.
    pub(crate) static KEYED: KeyedRequest;
}

/// Reads the key and hashes the request; runs the rest of the stack inside the key's scope.
pub(crate) async fn scope(request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(value) = request.headers().get("idempotency-key").cloned() else {
        return next.run(request).await;
    };
    let Some(key) = value.to_str().ok().and_then(IdempotencyKey::parse) else {
        return ApiError::invalid("Idempotency-Key", "1 to 255 printable ASCII characters")
            .into_response();
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

fn json<T: Serialize>(status: u16, value: &T) -> Result<SavedResponse, SaveFailed> {
    let body = serde_json::to_string(value).map_err(|_| SaveFailed)?;
    Ok(SavedResponse { status, body })
}

/// Renders every result of a write command the way its handler answers it, with the handler's
/// status: both the answer and the copy saved under the key come from here.
pub(crate) struct Responder {
    status: u16,
    /// The server's public base URL, which payment link URLs start with.
    public_url: std::sync::Arc<str>,
    /// Whether this response is the one kept for replays: then the secrets a response shows
    /// once (an API key's text, a payment link's token and URL) are left out, so the
    /// idempotency record never holds them (RELIABILITY.md: only their SHA-256 is stored).
    kept: bool,
}

impl Responder {
    /// Renders the live answer to the request.
    pub(crate) fn new(status: StatusCode, public_url: std::sync::Arc<str>) -> Responder {
        Responder { status: status.as_u16(), public_url, kept: false }
    }

    /// Renders the answer kept for replays: the same, without secrets.
    pub(crate) fn kept(status: StatusCode, public_url: std::sync::Arc<str>) -> Responder {
        Responder { status: status.as_u16(), public_url, kept: true }
    }
}

impl SaveResponse for Responder {
    fn customer(&self, customer: &Customer) -> Result<SavedResponse, SaveFailed> {
        json(self.status, &CustomerOut::from(customer))
    }

    fn document(&self, document: &Document) -> Result<SavedResponse, SaveFailed> {
        json(self.status, &DocumentOut::from(document))
    }

    fn payment(&self, payment: &Payment) -> Result<SavedResponse, SaveFailed> {
        json(self.status, &PaymentOut::from(payment))
    }

    fn application(&self, application: &Application) -> Result<SavedResponse, SaveFailed> {
        json(self.status, &ApplicationOut::from(application))
    }

    fn refund(&self, refund: &Refund) -> Result<SavedResponse, SaveFailed> {
        json(self.status, &RefundOut::from(refund))
    }

    fn adjustment(&self, adjustment: &Adjustment) -> Result<SavedResponse, SaveFailed> {
        json(self.status, &AdjustmentOut::from(adjustment))
    }

    fn entry(
        &self,
        line: &HistoryLine,
        outcome: &EntryOutcome,
    ) -> Result<SavedResponse, SaveFailed> {
        json(self.status, &entry_out(line, outcome).map_err(|_| SaveFailed)?)
    }

    fn api_key(&self, key: &CreatedKey) -> Result<SavedResponse, SaveFailed> {
        let mut out = ApiKeyOut::from(key);
        if self.kept {
            out.key = None;
        }
        json(self.status, &out)
    }

    fn payment_link(&self, link: &CreatedPaymentLink) -> Result<SavedResponse, SaveFailed> {
        let mut out = PaymentLinkCreatedOut::new(link, &self.public_url);
        if self.kept {
            (out.url, out.token) = (None, None);
        }
        json(self.status, &out)
    }

    fn transfer(
        &self,
        document: &Document,
        customer: &Customer,
    ) -> Result<SavedResponse, SaveFailed> {
        let out = TransferOut {
            invoice: DocumentOut::from(document),
            customer: CustomerOut::from(customer),
        };
        json(self.status, &out)
    }

    fn billing(&self, result: BillingResult<'_>) -> Result<SavedResponse, SaveFailed> {
        match result {
            BillingResult::Product(p) => json(self.status, &ProductOut::from(p)),
            BillingResult::Price(p) => json(self.status, &PriceOut::from(p)),
            BillingResult::Subscription(s) => json(self.status, &SubscriptionOut::from(s)),
            BillingResult::Amendment(a) => json(self.status, &AmendmentOutcomeOut::from(a)),
            BillingResult::BillRun(r) => json(self.status, &BillRunOut::from(r)),
        }
    }
}

/// A write's response as JSON; `replayed` marks a saved one answered again.
pub(crate) fn answer(saved: SavedResponse, replayed: bool) -> Response {
    let status = StatusCode::from_u16(saved.status).unwrap_or(StatusCode::OK);
    let mut response = (status, saved.body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}
