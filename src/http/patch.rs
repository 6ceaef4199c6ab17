//! One meaning for a field of a PUT body, on every route (README, "Changing a
//! resource: PUT"): an absent field keeps the stored value, `null` clears it
//! where the field may be empty, and a value replaces it. `null` on a field that
//! cannot be empty (a name, a switch) is a 400 naming the field, never a silent
//! keep. POST bodies read `null` as absent: there is nothing to keep or clear.

use serde::{Deserialize, Deserializer};

use crate::domain::ValidationError;

/// A PUT body field, read with `#[serde(default)]` so that absence is [`Patch::Keep`].
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<T>::deserialize(d)?.map_or(Self::Clear, Self::Set))
    }
}

impl<T> Patch<T> {
    /// A field that cannot be empty: the new value, or `None` to keep it; `null`
    /// is refused.
    pub fn not_null(self, field: &'static str) -> Result<Option<T>, ValidationError> {
        match self {
            Self::Keep => Ok(None),
            Self::Set(v) => Ok(Some(v)),
            Self::Clear => Err(ValidationError::new(
                field,
                "cannot be null (it cannot be empty); omit it to keep the current value",
            )),
        }
    }

    /// A field that may be empty: the new value (`empty` for `null`), or `None`
    /// to keep it.
    pub fn or_empty(self, empty: T) -> Option<T> {
        match self {
            Self::Keep => None,
            Self::Clear => Some(empty),
            Self::Set(v) => Some(v),
        }
    }

    /// The value given, `None` when absent or `null`.
    pub fn given(self) -> Option<T> {
        match self {
            Self::Set(v) => Some(v),
            Self::Keep | Self::Clear => None,
        }
    }

    pub fn is_keep(&self) -> bool {
        matches!(self, Self::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        name: Patch<String>,
    }

    fn read(json: &str) -> Patch<String> {
        serde_json::from_str::<Body>(json).expect("a body").name
    }

    #[test]
    fn absent_keeps_null_clears_and_a_value_sets() {
        assert_eq!(read("{}"), Patch::Keep);
        assert_eq!(read(r#"{"name": null}"#), Patch::Clear);
        assert_eq!(read(r#"{"name": "x"}"#), Patch::Set("x".to_owned()));
    }

    #[test]
    fn null_on_a_field_that_cannot_be_empty_is_refused_by_name() {
        let err = Patch::<bool>::Clear.not_null("Enabled").unwrap_err();
        assert_eq!(err.field, "Enabled");
        assert!(err.reason.contains("omit it"), "{}", err.reason);
        assert_eq!(Patch::<bool>::Keep.not_null("Enabled").unwrap(), None);
        assert_eq!(Patch::Set(true).not_null("Enabled").unwrap(), Some(true));
    }

    #[test]
    fn null_on_a_field_that_may_be_empty_gives_the_empty_value() {
        assert_eq!(
            Patch::<Vec<u8>>::Clear.or_empty(Vec::new()),
            Some(Vec::new())
        );
        assert_eq!(Patch::<Vec<u8>>::Keep.or_empty(Vec::new()), None);
    }
}
