//! Commands committed, refused and replayed, counted by kind (the route's method and template,
//! such as `POST /v1/customers/{id}/payments`) and, for refusals, by the problem's code.

use settle_engine::Outcome;

use crate::error::ApiError;
use crate::observe::current_route;

/// Counts the outcome of one write command and hands it back unchanged.
pub(crate) fn count<T>(outcome: Result<Outcome<T>, ApiError>) -> Result<Outcome<T>, ApiError> {
    let kind = current_route().map_or_else(|| "unmatched".to_owned(), |route| route.to_string());
    match &outcome {
        Ok(Outcome::Done(_)) => {
            metrics::counter!("settle_commands_total", "kind" => kind, "outcome" => "committed")
                .increment(1);
        }
        Ok(Outcome::Replayed(_)) => {
            metrics::counter!("settle_idempotent_replays_total", "kind" => kind).increment(1);
        }
        Err(err) if err.status().is_client_error() => {
            let code = err.code();
            metrics::counter!(
                "settle_commands_total",
                "kind" => kind.clone(),
                "outcome" => "refused"
            )
            .increment(1);
            metrics::counter!("settle_commands_refused_total", "kind" => kind, "code" => code)
                .increment(1);
        }
        Err(_) => {
            metrics::counter!("settle_commands_total", "kind" => kind, "outcome" => "failed")
                .increment(1);
        }
    }
    outcome
}
