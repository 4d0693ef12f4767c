//! `/v1/reports/trial-balance` and `/v1/journal`.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use settle_core::ids::CustomerId;
use settle_core::money::{Currency, Money};

use super::{list_out, page_request};
use crate::dto::{ListOut, TxnOut};
use crate::error::ApiError;
use crate::extract::{Caller, QueryParams};
use crate::{AppState, blocking};

#[derive(Debug, Deserialize)]
pub(crate) struct TrialBalanceQuery {
    currency: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct AccountRow {
    account: &'static str,
    currency: &'static str,
    debit: String,
    credit: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct TrialBalanceOut {
    currency: &'static str,
    accounts: Vec<AccountRow>,
    total_debit: String,
    total_credit: String,
}

/// The trial balance of one currency (default: the tenant's default currency).
pub(crate) async fn trial_balance(
    State(state): State<AppState>,
    Caller(caller): Caller,
    QueryParams(query): QueryParams<TrialBalanceQuery>,
) -> Result<Json<TrialBalanceOut>, ApiError> {
    let currency = query
        .currency
        .map(|c| Currency::parse(&c).map_err(|_| ApiError::invalid("currency", "an ISO 4217 code")))
        .transpose()?;
    let tenant_id = caller.tenant_id.clone();
    let (totals, default_currency) = blocking(&state, move |e| {
        Ok((e.trial_balance(&tenant_id)?, e.settings(&tenant_id)?.default_currency))
    })
    .await?;
    let currency = currency.unwrap_or(default_currency);
    let mut total_debit = 0_i64;
    let mut total_credit = 0_i64;
    let accounts = totals
        .iter()
        .filter(|t| t.currency == currency)
        .map(|t| {
            total_debit = total_debit.saturating_add(t.debit);
            total_credit = total_credit.saturating_add(t.credit);
            AccountRow {
                account: t.account.name(),
                currency: currency.code(),
                debit: Money::new(t.debit, currency).to_string(),
                credit: Money::new(t.credit, currency).to_string(),
            }
        })
        .collect();
    Ok(Json(TrialBalanceOut {
        currency: currency.code(),
        accounts,
        total_debit: Money::new(total_debit, currency).to_string(),
        total_credit: Money::new(total_credit, currency).to_string(),
    }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct JournalQuery {
    customer_id: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// Journal transactions with their postings, in order.
pub(crate) async fn journal(
    State(state): State<AppState>,
    Caller(caller): Caller,
    QueryParams(query): QueryParams<JournalQuery>,
) -> Result<Json<ListOut<TxnOut>>, ApiError> {
    let customer_id = match query.customer_id.map(|c| CustomerId::parse(&c)) {
        Some(None) => {
            return Ok(Json(ListOut { object: "list", data: Vec::new(), next_cursor: None }));
        }
        Some(id) => id,
        None => None,
    };
    let page = page_request(query.limit, query.cursor)?;
    let got = blocking(&state, move |e| e.journal(&caller.tenant_id, customer_id.as_ref(), &page))
        .await?;
    Ok(Json(list_out(&got, |r| TxnOut::from(r))))
}
