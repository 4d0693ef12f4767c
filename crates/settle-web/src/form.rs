//! Posted form fields. Every field is read as text (a missing one is empty), so a form can
//! never fail to parse; the engine's request types then say what is wrong, by field.

use std::collections::BTreeMap;

/// The fields of an `application/x-www-form-urlencoded` body or a query string.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fields(BTreeMap<String, String>, Vec<(String, String)>);

impl Fields {
    /// Reads a body; a repeated name keeps its first value.
    pub(crate) fn parse(bytes: &[u8]) -> Fields {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes).unwrap_or_default();
        let mut map = BTreeMap::new();
        for (name, value) in &pairs {
            map.entry(name.clone()).or_insert_with(|| value.clone());
        }
        Fields(map, pairs)
    }

    /// Every value sent under `name` (checkboxes), in the order sent.
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.1.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect()
    }

    /// Every field as sent, in order, but those named in `skip`: what a preview's confirm form
    /// sends again, hidden.
    pub(crate) fn hidden(&self, skip: &[&str]) -> Vec<(String, String)> {
        self.1.iter().filter(|(n, _)| !skip.contains(&n.as_str())).cloned().collect()
    }

    /// Sets `name` to `value` (a prefilled field).
    pub(crate) fn set(&mut self, name: &str, value: String) {
        self.0.insert(name.to_owned(), value);
    }

    /// The field's text, empty when absent.
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }

    /// The field's trimmed text, `None` when absent or blank.
    pub(crate) fn opt(&self, name: &str) -> Option<String> {
        let text = self.get(name).trim();
        (!text.is_empty()).then(|| text.to_owned())
    }
}

/// Messages to show beside fields, by field name, and one for the form as a whole.
#[derive(Debug, Clone, Default)]
pub(crate) struct Errors {
    by_field: BTreeMap<String, String>,
    /// What applies to no one field.
    pub(crate) general: Option<String>,
}

impl Errors {
    /// The message beside `field`.
    pub(crate) fn get(&self, field: &str) -> Option<&str> {
        self.by_field.get(field).map(String::as_str)
    }

    /// Adds a message beside `field`.
    pub(crate) fn add(&mut self, field: &str, message: impl Into<String>) {
        self.by_field.insert(field.to_owned(), message.into());
    }

    /// Whether there is nothing to say.
    pub(crate) fn is_empty(&self) -> bool {
        self.by_field.is_empty() && self.general.is_none()
    }

    /// Places the engine's refusal beside the field it names when the form has that field
    /// (`known`), else at the top of the form.
    pub(crate) fn from_rejection(
        rejection: &settle_core::error::Rejection,
        known: &[&str],
    ) -> Errors {
        let mut errors = Errors::default();
        match settle_api::field_error(rejection) {
            Some(e) if known.contains(&e.field.as_str()) => errors.add(&e.field, e.message),
            Some(e) => errors.general = Some(format!("{}: {}", e.field, e.message)),
            None => errors.general = Some(crate::view::rejection_text(rejection)),
        }
        errors
    }
}
