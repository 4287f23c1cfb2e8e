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

#[cfg(test)]
mod tests {
    use super::*;

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
