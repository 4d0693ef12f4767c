//! The OpenAPI 3.1 document of the whole API, served at `GET /openapi.json`. It is generated
//! with `utoipa` from the handlers' `#[utoipa::path]` annotations and the DTOs' `ToSchema`
//! derives; one modifier adds what every route shares (bearer auth on `/v1`, the
//! `Idempotency-Key` header on POSTs, the common problem+json answers) so no route can forget it.

use std::collections::BTreeSet;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{RefOr, Required, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::error::ApiError;
use crate::schema::{one_of, string};
use crate::state::AppState;

/// The security scheme's name in the document.
const BEARER: &str = "bearer";

/// The media type of errors.
const PROBLEM_JSON: &str = "application/problem+json";

/// The top of the document: the conventions of `API.md` and the choices it leaves open.
const API_DESCRIPTION: &str = "\
Settle is an accounts-receivable ledger: customers, invoices, debit and credit memos, payments, \
applications, refunds and the journal behind them. JSON in and out; base path `/v1`.

**Auth.** `Authorization: Bearer <api key>` on every `/v1` route. Keys belong to one tenant and \
have a role: `admin` (everything), `clerk` (all billing operations), `viewer` (GET only). A \
missing or bad key is 401 `unauthorized`; a role that may not do it is 403 `forbidden`; another \
tenant's object is 404 `not_found`. `GET /healthz`, `GET /readyz` and `GET /openapi.json` need no key.

**Money.** Amounts are decimal strings with exactly the currency's minor digits: `\"150.00\"`, \
`\"-3.13\"`, JPY `\"150\"`. Input also accepts JSON numbers; anything not exactly representable \
in the currency (`\"1.005\"` for USD) is 422 `validation_error`, and amounts too large to hold \
are 422 `amount_out_of_range`. Currency codes are ISO 4217.

**Ids** are opaque strings with a type prefix (`cus_`, `inv_`, `dm_`, `cm_`, `item_`, `pay_`, \
`app_`, `adj_`, `ref_`, `txn_`, `plink_`); documents also get a human number per tenant \
(`INV-000001`, `DM-000001`, `CM-000001`).

**Dates.** `effective_date` and document dates are `YYYY-MM-DD` (default: today in the tenant's \
time zone); timestamps are RFC 3339 UTC.

**Idempotency.** Every POST takes an `Idempotency-Key` header (1 to 255 printable ASCII \
characters). The same key with the same body answers the saved status and body, with \
`Idempotent-Replayed: true`, and changes nothing; the same key with another body is 422 \
`idempotency_key_reused`. Keys are kept at least 24 hours.

**Errors** are `application/problem+json` (`Problem`), with a stable machine-readable `code`; \
validation problems add `errors: [{field, message}]`. A malformed body is 400 `bad_request` or \
422 `validation_error`, never 500; a body over 256 KiB is 413 `payload_too_large`; a path that \
does not take the method is 405 `method_not_allowed`; an unknown path is 404 `not_found`; a \
request over 30 s is 408; a store write that races another is 409 `conflict` (retry it). Each \
operation lists the codes it can answer.

**Request ids.** Every response carries `X-Request-Id`: the one the request sent, when it is 1 \
to 64 characters of `[A-Za-z0-9._-]`, else a new one. A problem repeats it as `request_id`; the \
server's log lines of that request carry it too, so quote it when reporting a problem.

**Lists** take `limit` (1–500, default 50) and an opaque `cursor`, and answer \
`{\"object\": \"list\", \"data\": [...], \"next_cursor\": null | \"...\"}`. Lists are newest \
first, except the journal, which is oldest first (posting order).

**Choices this API makes where the contract is open.** A tax `rate` is a percent (`\"8.25\"` is \
8.25%); tax is rounded per tax item, half away from zero. A customer's default payment terms \
are 30 days (due date = invoice date + terms unless given). Customers sort by `-created` by \
default. A draft document owes nothing until it is posted: it has no effect on balances, aging \
or the journal. An item-level application whose total is zero (negative items offsetting \
positive ones) is legal. Auto-apply (the `auto_apply_credit` setting and the \
`transfer_and_apply` negative-invoice policy) pays open documents oldest due date first, then \
by document number, and uses payments oldest first, then credit memos, then the credit balance.";

/// The frame of the document: its info, tags and shared schemas. The paths come from the route
/// table (`crate::router` passes them to [`document`]), so no handler is listed here.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Settle API",
        description = "Accounts-receivable ledger API.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    components(schemas(
        crate::error::Problem,
        crate::error::FieldError,
        crate::error::RowErrorOut
    )),
    tags(
        (name = "meta", description = "Health and this document."),
        (name = "customers", description = "Customers, their history and entries."),
        (name = "invoices", description = "Invoices: drafts, posting, voids, adjustments."),
        (name = "debit-memos", description = "Debit memos: same shape as invoices, `dm_` ids."),
        (name = "credit-memos", description = "Credit memos: credit a customer or invoice items."),
        (name = "payments", description = "Payments, collected and optionally applied."),
        (name = "credit-balance", description = "The customer's credit balance."),
        (name = "applications", description = "Applying payments and credits to documents."),
        (name = "settings", description = "The tenant's settings."),
        (name = "api-keys", description = "The tenant's API keys (admin only)."),
        (name = "payment-links", description = "Links to a customer's read-only payment page."),
        (name = "reports", description = "Trial balance, aging and journal."),
        (name = "subscriptions", description = "Products, prices, subscriptions, amendments \
            with day proration, and bill runs."),
        (name = "imports", description = "Customers and open invoices from another system, \
            as CSV."),
    )
)]
struct ApiDoc;

/// The whole document: `paths` (every route's path item) in the frame, with what every
/// operation shares added by [`Conventions`].
pub(crate) fn document(paths: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let mut document = ApiDoc::openapi();
    document.merge(paths);
    Conventions.modify(&mut document);
    document
}

/// `GET /openapi.json`.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    summary = "The OpenAPI 3.1 document of the whole API",
    description = "Serves this document. No auth.",
    responses((
        status = 200, description = "The OpenAPI document", content_type = "application/json"
    ))
)]
pub(crate) async fn serve(State(state): State<AppState>) -> Response {
    match state.openapi {
        Some(body) => {
            let mut response = (StatusCode::OK, body).into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        None => ApiError::internal().into_response(),
    }
}

// ---- what every operation shares ----

/// The status a problem `code` is answered with.
fn status_of(code: &str) -> u16 {
    match code {
        "bad_request" => 400,
        "unauthorized" => 401,
        "forbidden" => 403,
        "not_found" => 404,
        "method_not_allowed" => 405,
        "request_timeout" => 408,
        "conflict" | "document_not_draft" | "stale" => 409,
        "payload_too_large" => 413,
        "unsupported_media_type" => 415,
        "not_ready" => 503,
        _ => 422,
    }
}

/// The problem codes every operation of `method` on `path` can answer, whatever it does.
fn common_codes(
    method: &str,
    path: &str,
    takes_body: bool,
    takes_query: bool,
) -> Vec<&'static str> {
    let mut codes = vec!["method_not_allowed"];
    if path.starts_with("/v1/") {
        codes.extend(["unauthorized", "request_timeout"]);
        if path.contains('{') {
            codes.push("not_found");
        }
        if method != "get" {
            codes.extend(["forbidden", "conflict"]);
        }
    }
    if takes_body {
        codes.extend(["bad_request", "validation_error", "payload_too_large"]);
    }
    if takes_query {
        codes.push("validation_error");
    }
    if method == "post" {
        codes.extend(["idempotency_key_reused", "validation_error", "payload_too_large"]);
    }
    codes
}

/// Adds what every operation shares; see the module doc.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.info.description = Some(API_DESCRIPTION.to_owned());
        openapi.info.version = env!("CARGO_PKG_VERSION").to_owned();
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("API key")
                    .description(Some("`Authorization: Bearer <api key>`"))
                    .build(),
            ),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            for (method, operation) in operations_mut(item) {
                complete(method, path, operation);
            }
        }
    }
}

/// The operations of a path item with their lower-case methods.
pub(crate) fn operations_mut(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.map(|op| (method, op)))
    .collect()
}

fn complete(method: &str, path: &str, operation: &mut Operation) {
    if path.starts_with("/v1/") {
        operation.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
    } else {
        // No auth: an empty list overrides any document-wide requirement.
        operation.security = Some(Vec::new());
    }
    if method == "post" {
        idempotency(operation);
    }
    problems(method, path, operation);
}

/// The `Idempotency-Key` request header and the `Idempotent-Replayed` response header.
fn idempotency(operation: &mut Operation) {
    let key = ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "1 to 255 printable ASCII characters. The same key with the same body answers the \
             saved status and body and changes nothing; the same key with another body is 422 \
             `idempotency_key_reused`. Kept at least 24 hours.",
        ))
        .schema(Some(string().min_length(Some(1)).max_length(Some(255))))
        .build();
    operation.parameters.get_or_insert_with(Vec::new).push(RefOr::T(key));
    for (status, response) in operation.responses.responses.iter_mut() {
        if let (true, RefOr::T(response)) = (status.starts_with('2'), response) {
            response.headers.insert(
                "Idempotent-Replayed".to_owned(),
                RefOr::T(
                    HeaderBuilder::new()
                        .schema(Some(one_of(&["true"])))
                        .description(Some(
                            "`true` when this is the saved answer to an earlier request with \
                             the same `Idempotency-Key`.",
                        ))
                        .build(),
                ),
            );
        }
    }
}

/// Gathers the codes of the operation's own problem responses (their descriptions list codes)
/// and the common ones, answers each status with the `Problem` schema, and lists every code in
/// the operation's description.
fn problems(method: &str, path: &str, operation: &mut Operation) {
    let mut codes: BTreeSet<&str> = BTreeSet::new();
    let mut own: Vec<String> = Vec::new();
    for (status, response) in &operation.responses.responses {
        if let (false, RefOr::T(response)) = (status.starts_with('2'), response) {
            own.extend(response.description.split(',').map(|c| c.trim().to_owned()));
        }
    }
    let takes_body = operation.request_body.is_some();
    let takes_query = operation.parameters.iter().flatten().any(|p| {
        matches!(p, RefOr::T(p) if matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query))
    });
    codes.extend(common_codes(method, path, takes_body, takes_query));
    codes.extend(own.iter().map(String::as_str));
    codes.remove("");
    let mut by_status: std::collections::BTreeMap<u16, Vec<&str>> = Default::default();
    for code in &codes {
        by_status.entry(status_of(code)).or_default().push(code);
    }
    for (status, codes) in &by_status {
        let list = codes.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ");
        let response = ResponseBuilder::new()
            .description(format!("Problem (`application/problem+json`); `code`: {list}."))
            .content(
                PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("Problem"))))
                    .build(),
            )
            .build();
        operation.responses.responses.insert(status.to_string(), RefOr::T(response));
    }
    let all = codes.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ");
    let line = format!("Problem codes: {all}.");
    operation.description = Some(match operation.description.take() {
        Some(text) if !text.is_empty() => format!("{text}\n\n{line}"),
        _ => line,
    });
}
