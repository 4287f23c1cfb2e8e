//! Small text fields of directory objects.

use crate::error::DomainError;

/// Longest space kind accepted, in characters.
pub const MAX_KIND_CHARS: usize = 64;

/// Checks a space's kind: a free label (building, floor, office, room, unit…), 1–64 characters
/// after trimming, no control characters.
pub fn parse_kind(raw: &str) -> Result<String, DomainError> {
    let kind = raw.trim();
    if kind.is_empty() || kind.chars().count() > MAX_KIND_CHARS {
        return Err(DomainError::invalid(
            "kind",
            format!("kind must be 1–{MAX_KIND_CHARS} characters, e.g. building, floor or room"),
        ));
    }
    if kind.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "kind",
            "kind must not contain control characters",
        ));
    }
    Ok(kind.to_owned())
}

/// Checks an optional free text (address, model, description): trimmed, empty means none, at
/// most `max` characters; line breaks and tabs are allowed (addresses span lines), other control
/// characters are not.
pub fn optional_text(
    field: &'static str,
    raw: Option<&str>,
    max: usize,
) -> Result<Option<String>, DomainError> {
    let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            format!("{field} must be at most {max} characters"),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Err(DomainError::invalid(
            field,
            format!("{field} must not contain control characters other than line breaks"),
        ));
    }
    Ok(Some(text.to_owned()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_free_texts_are_bounded() {
        assert_eq!(parse_kind(" floor ").unwrap(), "floor");
        assert!(parse_kind("").is_err());
        assert!(parse_kind(&"k".repeat(65)).is_err());
        assert_eq!(optional_text("address", Some("  "), 10).unwrap(), None);
        assert_eq!(
            optional_text("address", Some("1 Main St\nTown"), 100).unwrap(),
            Some("1 Main St\nTown".into())
        );
        assert!(optional_text("address", Some("a\u{0}b"), 100).is_err());
        assert!(optional_text("address", Some("abcdef"), 5).is_err());
    }
}
