//! A site's holiday calendar: named dates in the site's local calendar.

use jiff::civil::Date;
use serde::Serialize;

use crate::error::DomainError;
use crate::tenancy::parse_name;

/// Most holidays one site may list (a decade of public holidays fits easily).
pub const MAX_HOLIDAYS: usize = 500;

/// One holiday.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Holiday {
    /// The date, `YYYY-MM-DD`, in the site's local calendar.
    pub date: String,
    /// What it is called.
    pub name: String,
}

/// Checks a whole calendar: every date a real `YYYY-MM-DD` date, each date once, names like any
/// display name, at most 500; returned sorted by date.
pub fn parse_holidays(raw: &[(String, String)]) -> Result<Vec<Holiday>, DomainError> {
    if raw.len() > MAX_HOLIDAYS {
        return Err(DomainError::invalid(
            "holidays",
            format!("at most {MAX_HOLIDAYS} holidays per site"),
        ));
    }
    let mut out = Vec::with_capacity(raw.len());
    for (date, name) in raw {
        let parsed: Date = date.trim().parse().map_err(|_| {
            DomainError::invalid(
                "date",
                format!("{date:?} is not a date; use YYYY-MM-DD such as 2026-12-25"),
            )
        })?;
        out.push(Holiday {
            date: parsed.to_string(),
            name: parse_name("name", name)?,
        });
    }
    out.sort();
    if out
        .windows(2)
        .any(|w| matches!(w, [a, b] if a.date == b.date))
    {
        return Err(DomainError::invalid(
            "date",
            "each date may appear once in a site's holidays",
        ));
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn holidays_are_real_dates_once_each() {
        let got = parse_holidays(&[
            ("2026-12-26".into(), "Boxing Day".into()),
            ("2026-12-25".into(), "Christmas".into()),
        ])
        .unwrap();
        assert_eq!(got[0].date, "2026-12-25");
        assert!(parse_holidays(&[("2026-02-30".into(), "x".into())]).is_err());
        assert!(parse_holidays(&[("tomorrow".into(), "x".into())]).is_err());
        assert!(
            parse_holidays(&[
                ("2026-12-25".into(), "a".into()),
                ("2026-12-25".into(), "b".into())
            ])
            .is_err()
        );
    }
}
