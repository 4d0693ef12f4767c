//! Payment links: the body of a new link and the two shapes a link is answered in (with its
//! token and URL once, when made; without them in lists).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use settle_engine::{CreatedPaymentLink, PaymentLink};
use utoipa::ToSchema;

use super::timestamp;

/// `{expires_at?}`: an RFC 3339 instant in the future, or none for a link that never expires.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PaymentLinkIn {
    /// When the link stops working, such as `2026-04-01T00:00:00Z`.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub(crate) expires_at: Option<String>,
}

/// A link just made: its token and URL are shown only in this answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PaymentLinkCreatedOut {
    pub(crate) id: String,
    pub(crate) object: &'static str,
    pub(crate) customer_id: String,
    /// The customer's page: the public base URL, `/pay/`, and the token; `null` when the
    /// answer is an idempotent replay.
    pub(crate) url: Option<String>,
    /// The secret part of the URL (over 256 random bits); only its SHA-256 is stored, so an
    /// idempotent replay answers `null` here: revoke that link and make another if it was lost.
    pub(crate) token: Option<String>,
    pub(crate) expires_at: Option<String>,
    pub(crate) created_at: String,
}

impl PaymentLinkCreatedOut {
    /// The answer for `created`, whose page is under `public_url`.
    pub(crate) fn new(created: &CreatedPaymentLink, public_url: &str) -> PaymentLinkCreatedOut {
        let link = &created.link;
        PaymentLinkCreatedOut {
            id: link.id.to_string(),
            object: "payment_link",
            customer_id: link.customer_id.to_string(),
            url: Some(format!("{}/pay/{}", public_url.trim_end_matches('/'), created.token)),
            token: Some(created.token.clone()),
            expires_at: link.expires_at.map(timestamp),
            created_at: timestamp(link.created_at),
        }
    }
}

/// A link as listed, never with its token.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PaymentLinkOut {
    pub(crate) id: String,
    pub(crate) object: &'static str,
    pub(crate) customer_id: String,
    pub(crate) created_at: String,
    pub(crate) expires_at: Option<String>,
    pub(crate) revoked_at: Option<String>,
}

impl From<&PaymentLink> for PaymentLinkOut {
    fn from(link: &PaymentLink) -> PaymentLinkOut {
        PaymentLinkOut {
            id: link.id.to_string(),
            object: "payment_link",
            customer_id: link.customer_id.to_string(),
            created_at: timestamp(link.created_at),
            expires_at: link.expires_at.map(timestamp),
            revoked_at: link.revoked_at.map(timestamp),
        }
    }
}

/// A customer's links, all of them (a customer has few, so the list is not paged).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PaymentLinksOut {
    pub(crate) object: &'static str,
    pub(crate) data: Vec<PaymentLinkOut>,
}

/// Reads `expires_at` as an RFC 3339 instant.
pub(crate) fn instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|at| at.with_timezone(&Utc))
}
