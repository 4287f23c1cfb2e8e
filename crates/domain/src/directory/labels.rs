//! Free-form labels on directory objects. A label is matched exactly (`?label=`), so it is
//! normalised once here: trimmed and lower-cased, so `Floor-3` and `floor-3` are one label.

use crate::error::DomainError;

/// Longest label, in characters.
pub const MAX_LABEL_CHARS: usize = 64;
/// Most labels on one object.
pub const MAX_LABELS: usize = 32;

/// The kinds of object that carry labels (the stored `object_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LabelKind {
    /// A site.
    Site,
    /// A space.
    Space,
    /// A person (their membership).
    Person,
    /// A group of people.
    Group,
    /// A device.
    Device,
    /// A device group.
    DeviceGroup,
}

impl LabelKind {
    /// Stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            LabelKind::Site => "site",
            LabelKind::Space => "space",
            LabelKind::Person => "person",
            LabelKind::Group => "group",
            LabelKind::Device => "device",
            LabelKind::DeviceGroup => "device_group",
        }
    }
}

/// One label: 1–64 characters after trimming, no control characters, lower-cased.
pub fn parse_label(field: &'static str, raw: &str) -> Result<String, DomainError> {
    let label = raw.trim();
    if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS {
        return Err(DomainError::invalid(
            field,
            format!("each label must be 1–{MAX_LABEL_CHARS} characters"),
        ));
    }
    if label.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            field,
            "labels must not contain control characters",
        ));
    }
    Ok(label.to_lowercase())
}

/// A set of labels: each checked, duplicates merged, sorted, at most 32.
pub fn parse_labels(raw: &[String]) -> Result<Vec<String>, DomainError> {
    let mut labels = raw
        .iter()
        .map(|l| parse_label("labels", l))
        .collect::<Result<Vec<_>, _>>()?;
    labels.sort();
    labels.dedup();
    if labels.len() > MAX_LABELS {
        return Err(DomainError::invalid(
            "labels",
            format!("at most {MAX_LABELS} labels per object"),
        ));
    }
    Ok(labels)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_normalised_deduplicated_and_bounded() {
        let got = parse_labels(&["Floor-3".into(), " floor-3 ".into(), "east".into()]).unwrap();
        assert_eq!(got, vec!["east".to_owned(), "floor-3".to_owned()]);
        assert!(parse_labels(&[String::new()]).is_err());
        assert!(parse_labels(&["a\nb".into()]).is_err());
        assert!(parse_labels(&["x".repeat(65)]).is_err());
        let many: Vec<String> = (0..33).map(|i| format!("l{i}")).collect();
        assert!(parse_labels(&many).is_err());
    }
}
