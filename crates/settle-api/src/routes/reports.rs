//! `/v1/reports/trial-balance`, `/v1/reports/aging` and `/v1/journal`.

use axum::Json;
use axum::extract::State;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use settle_core::aging::{AgingReport, Buckets};
use settle_core::ids::CustomerId;
use settle_core::money::{Currency, format_minor};
use settle_engine::{Aging, TrialBalance};
use utoipa::{IntoParams, ToSchema};

use super::{list_out, page_request};
use crate::call::blocking;
use crate::dto::{DateIn, JournalOut, TxnOut};
use crate::error::ApiError;
use crate::extract::{Caller, QueryParams};
use crate::state::AppState;

/// Reads `?currency=`.
fn currency_param(code: Option<String>) -> Result<Option<Currency>, ApiError> {
    code.map(|c| Currency::parse(&c).map_err(|_| ApiError::invalid("currency", "an ISO 4217 code")))
        .transpose()
}

/// Query of `GET /v1/reports/trial-balance`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TrialBalanceQuery {
    /// `YYYY-MM-DD`: only transactions effective on or before this day (the balances at its
    /// end); default the whole journal.
    #[param(schema_with = crate::schema::date)]
    as_of: Option<DateIn>,
    /// ISO 4217 code: only this currency; default every currency the tenant uses.
    currency: Option<String>,
}

/// One account of a currency's trial balance.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AccountRow {
    account: &'static str,
    #[schema(schema_with = crate::schema::amount)]
    debit: String,
    #[schema(schema_with = crate::schema::amount)]
    credit: String,
}

/// The trial balance of one currency.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TrialBalanceCurrencyOut {
    currency: &'static str,
    /// Accounts with postings in this currency, by name.
    accounts: Vec<AccountRow>,
    #[schema(schema_with = crate::schema::amount)]
    total_debit: String,
    #[schema(schema_with = crate::schema::amount)]
    total_credit: String,
}

impl From<&TrialBalance> for TrialBalanceCurrencyOut {
    fn from(balance: &TrialBalance) -> TrialBalanceCurrencyOut {
        let currency = balance.currency;
        TrialBalanceCurrencyOut {
            currency: currency.code(),
            accounts: balance
                .accounts
                .iter()
                .map(|t| AccountRow {
                    account: t.account.name(),
                    debit: format_minor(t.debit, currency),
                    credit: format_minor(t.credit, currency),
                })
                .collect(),
            total_debit: format_minor(balance.total_debit, currency),
            total_credit: format_minor(balance.total_credit, currency),
        }
    }
}

/// The trial balance, per currency.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TrialBalanceOut {
    /// One trial balance per currency, by code.
    currencies: Vec<TrialBalanceCurrencyOut>,
}

#[utoipa::path(
    get,
    path = "/v1/reports/trial-balance",
    tag = "reports",
    summary = "Trial balance",
    description = "`?as_of=YYYY-MM-DD&currency=` → `{currencies:[{currency, accounts:[{account, \
        debit, credit}], total_debit, total_credit}]}`: debit and credit totals per account, one \
        trial balance per currency (by code): every currency the tenant uses (its customers' \
        currencies and any with postings), or only `currency`. With `as_of`, only transactions \
        effective on or before that day count (the ledger at its end, back-dated transactions \
        included); without it, the whole journal. The totals are equal in every currency.",
    params(TrialBalanceQuery),
    responses((status = 200, description = "The trial balance.", body = TrialBalanceOut))
)]
/// The trial balance of every currency the tenant uses, or of one.
pub(crate) async fn trial_balance(
    State(state): State<AppState>,
    Caller(caller): Caller,
    QueryParams(query): QueryParams<TrialBalanceQuery>,
) -> Result<Json<TrialBalanceOut>, ApiError> {
    let currency = currency_param(query.currency)?;
    let as_of = query.as_of.map(|d| d.0);
    let balances =
        blocking(&state, move |e| e.trial_balance(&caller.tenant_id, as_of, currency)).await?;
    Ok(Json(TrialBalanceOut { currencies: balances.iter().map(Into::into).collect() }))
}

/// Query of `GET /v1/journal`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct JournalQuery {
    /// Only this customer's transactions (a plain list); without it, the tenant's feed.
    customer_id: Option<String>,
    /// Page size, 1–500; default 50.
    #[param(schema_with = crate::schema::limit)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page (or of the last page read, to poll the feed).
    cursor: Option<String>,
}

#[utoipa::path(
    get,
    path = "/v1/journal",
    tag = "reports",
    summary = "The journal",
    description = "`?customer_id=&limit=&cursor=` — transactions with postings, oldest first \
        (posting order; unlike the other lists). Without `customer_id` it is the tenant's feed: \
        every page answers `has_more` and a `next_cursor` that is never null (on the last page, \
        the place to poll from later), and following it from the first page never skips or \
        repeats a transaction, even while others commit concurrently. With `customer_id`, a \
        list: no `has_more`, and `next_cursor` is null on the last page.",
    params(JournalQuery),
    responses((status = 200, description = "A page of transactions.", body = JournalOut))
)]
/// Journal transactions with their postings, in order.
pub(crate) async fn journal(
    State(state): State<AppState>,
    Caller(caller): Caller,
    QueryParams(query): QueryParams<JournalQuery>,
) -> Result<Json<JournalOut>, ApiError> {
    let page = page_request(query.limit, query.cursor)?;
    let Some(customer_id) = query.customer_id else {
        let feed = blocking(&state, move |e| e.journal_feed(&caller.tenant_id, &page)).await?;
        return Ok(Json(JournalOut {
            object: "list",
            data: feed.rows.iter().map(TxnOut::from).collect(),
            has_more: Some(feed.has_more),
            next_cursor: Some(URL_SAFE_NO_PAD.encode(feed.next_cursor.as_bytes())),
        }));
    };
    let Some(customer_id) = CustomerId::parse(&customer_id) else {
        return Ok(Json(JournalOut {
            object: "list",
            data: Vec::new(),
            has_more: None,
            next_cursor: None,
        }));
    };
    let got =
        blocking(&state, move |e| e.journal(&caller.tenant_id, Some(&customer_id), &page)).await?;
    let list = list_out(&got, |r| TxnOut::from(r));
    Ok(Json(JournalOut {
        object: list.object,
        data: list.data,
        has_more: None,
        next_cursor: list.next_cursor,
    }))
}

/// Query of `GET /v1/reports/aging`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AgingQuery {
    /// `YYYY-MM-DD`: age the balances as they stood at the end of this day; default today in
    /// the tenant's time zone.
    #[param(schema_with = crate::schema::date)]
    as_of: Option<DateIn>,
    /// ISO 4217 code: only this currency; default every currency of the tenant's customers.
    currency: Option<String>,
}

/// Open balances per bucket of days past due, and the credit available against them.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AgingTotalsOut {
    /// Not yet past due (days past due ≤ 0).
    #[schema(schema_with = crate::schema::amount)]
    current: String,
    /// 1 to 30 days past due.
    #[schema(schema_with = crate::schema::amount)]
    days_1_30: String,
    /// 31 to 60 days past due.
    #[schema(schema_with = crate::schema::amount)]
    days_31_60: String,
    /// 61 to 90 days past due.
    #[schema(schema_with = crate::schema::amount)]
    days_61_90: String,
    /// More than 90 days past due.
    #[schema(schema_with = crate::schema::amount)]
    days_over_90: String,
    /// The sum of the buckets.
    #[schema(schema_with = crate::schema::amount)]
    total: String,
    /// Unapplied payments + credit memo balances + credit balance at the date.
    #[schema(schema_with = crate::schema::amount)]
    available_credit: String,
    /// `total − available_credit`: minus the balance at the date.
    #[schema(schema_with = crate::schema::amount)]
    net: String,
}

impl AgingTotalsOut {
    fn new(buckets: &Buckets, available_credit: i128, currency: Currency) -> AgingTotalsOut {
        let m = |minor: i128| format_minor(minor, currency);
        AgingTotalsOut {
            current: m(buckets.current),
            days_1_30: m(buckets.days_1_30),
            days_31_60: m(buckets.days_31_60),
            days_61_90: m(buckets.days_61_90),
            days_over_90: m(buckets.days_over_90),
            total: m(buckets.total()),
            available_credit: m(available_credit),
            net: m(buckets.total().saturating_sub(available_credit)),
        }
    }
}

/// One customer's open balances by days past due and its available credit.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AgingCustomerOut {
    customer_id: String,
    name: String,
    #[serde(flatten)]
    buckets: AgingTotalsOut,
}

/// The aging report of one currency.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AgingCurrencyOut {
    currency: &'static str,
    /// Customers with an open document or available credit, by name.
    customers: Vec<AgingCustomerOut>,
    totals: AgingTotalsOut,
}

impl From<&AgingReport> for AgingCurrencyOut {
    fn from(report: &AgingReport) -> AgingCurrencyOut {
        AgingCurrencyOut {
            currency: report.currency.code(),
            customers: report
                .customers
                .iter()
                .map(|c| AgingCustomerOut {
                    customer_id: c.customer_id.to_string(),
                    name: c.name.clone(),
                    buckets: AgingTotalsOut::new(&c.buckets, c.available_credit, report.currency),
                })
                .collect(),
            totals: AgingTotalsOut::new(&report.totals, report.available_credit, report.currency),
        }
    }
}

/// The aging report.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AgingOut {
    /// The day whose end the balances are aged at.
    #[schema(schema_with = crate::schema::date)]
    as_of: String,
    /// One report per currency, by code.
    currencies: Vec<AgingCurrencyOut>,
}

impl From<&Aging> for AgingOut {
    fn from(aging: &Aging) -> AgingOut {
        AgingOut {
            as_of: aging.as_of.format("%Y-%m-%d").to_string(),
            currencies: aging.currencies.iter().map(Into::into).collect(),
        }
    }
}

#[utoipa::path(
    get,
    path = "/v1/reports/aging",
    tag = "reports",
    summary = "Aging report",
    description = "`?as_of=YYYY-MM-DD&currency=` → `{as_of, currencies:[{currency, \
        customers:[{customer_id, name, current, days_1_30, days_31_60, days_61_90, days_over_90, \
        total, available_credit, net}], totals:{current, days_1_30, days_31_60, days_61_90, \
        days_over_90, total, available_credit, net}}]}`. Open balances of posted invoices and \
        debit memos, as they stood at the end of `as_of` (default today in the tenant's time \
        zone): each document's balance is the sum of its receivable postings of transactions \
        effective on or before `as_of`, so later payments do not change the report of an \
        earlier day. A balance goes into the bucket of its days past due (`as_of − due_date`; \
        zero or less is `current`), negative balances as negative amounts. Each customer's \
        buckets sum to its `total`; `available_credit` is its unapplied payments, credit memo \
        balances and credit balance at that date, and `net = total − available_credit` equals \
        minus its `balance` at that date (`GET /v1/customers/{id}?as_of=`). Customers with \
        credit and nothing open appear too. One report per currency (by code): every currency \
        of the tenant's customers, or only `currency`.",
    params(AgingQuery),
    responses((status = 200, description = "The aging report.", body = AgingOut))
)]
/// Open document balances by days past due and available credit, as of a date.
pub(crate) async fn aging(
    State(state): State<AppState>,
    Caller(caller): Caller,
    QueryParams(query): QueryParams<AgingQuery>,
) -> Result<Json<AgingOut>, ApiError> {
    let currency = currency_param(query.currency)?;
    let as_of = query.as_of.map(|d| d.0);
    let aging =
        blocking(&state, move |e| e.aging_report(&caller.tenant_id, as_of, currency)).await?;
    Ok(Json(AgingOut::from(&aging)))
}
