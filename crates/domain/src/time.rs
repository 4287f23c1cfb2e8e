//! Time formatting. Every time Latchkey shows, logs or exports is UTC in RFC 3339 with `Z`
//! (whitepaper requirement 17: all logs in UTC).

/// Formats epoch milliseconds as RFC 3339 UTC with a `Z` suffix, e.g. `2026-11-29T09:00:00Z`.
/// Times outside the representable range (year ±9999) are shown as the raw number.
pub fn rfc3339_utc(at_ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(at_ms) {
        Ok(ts) => ts.to_string(),
        Err(_) => format!("{at_ms}ms"),
    }
}

/// Parses an RFC 3339 time with an offset (`2026-12-01T09:00:00Z`) into epoch milliseconds.
pub fn parse_rfc3339(field: &'static str, raw: &str) -> Result<i64, crate::DomainError> {
    raw.trim()
        .parse::<jiff::Timestamp>()
        .map(|ts| ts.as_millisecond())
        .map_err(|_| {
            crate::DomainError::invalid(
                field,
                format!("{field} must be an RFC 3339 time such as 2026-12-01T09:00:00Z"),
            )
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_it_formats_and_refuses_garbage() {
        assert_eq!(
            parse_rfc3339("at", &rfc3339_utc(1_796_115_600_123)).unwrap(),
            1_796_115_600_123
        );
        assert!(parse_rfc3339("at", "tomorrow").is_err());
        assert!(parse_rfc3339("at", "2026-12-01T09:00:00").is_err());
    }

    #[test]
    fn formats_utc_with_z() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(1_796_115_600_123), "2026-12-01T09:00:00.123Z");
    }

    #[test]
    fn out_of_range_does_not_panic() {
        assert_eq!(rfc3339_utc(i64::MAX), format!("{}ms", i64::MAX));
    }
}
