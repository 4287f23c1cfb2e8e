//! Wall-clock times of a site, as forms take them and pages show them.

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use latchkey_domain::DomainError;

/// The zone by IANA name; a name the store holds is valid, so UTC is only a safe fallback.
pub(super) fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or(TimeZone::UTC)
}

/// "2026-12-01 10:00 Asia/Tokyo".
pub(super) fn local_text(ms: i64, zone_name: &str) -> String {
    let (date, time) = local_parts(ms, zone_name);
    format!("{date} {time} {zone_name}")
}

/// The date (`YYYY-MM-DD`) and time (`HH:MM`) of an instant on the site's wall clock.
pub(super) fn local_parts(ms: i64, zone_name: &str) -> (String, String) {
    match Timestamp::from_millisecond(ms) {
        Ok(t) => {
            let z = t.to_zoned(zone(zone_name));
            (
                z.strftime("%Y-%m-%d").to_string(),
                z.strftime("%H:%M").to_string(),
            )
        }
        Err(_) => (String::new(), String::new()),
    }
}

/// A typed date, or the message that says how to write one.
pub(super) fn parse_date(field: &'static str, raw: &str) -> Result<Date, DomainError> {
    raw.trim().parse::<Date>().map_err(|_| {
        DomainError::invalid(
            field,
            format!(
                "write the date as YYYY-MM-DD, e.g. 2026-12-01 (got {:?})",
                raw.trim()
            ),
        )
    })
}

/// A typed wall time `HH:MM`.
pub(super) fn parse_time(field: &'static str, raw: &str) -> Result<Time, DomainError> {
    let text = raw.trim();
    let parsed = text
        .split_once(':')
        .filter(|(h, m)| h.len() <= 2 && m.len() == 2)
        .and_then(|(h, m)| Some((h.parse::<i8>().ok()?, m.parse::<i8>().ok()?)))
        .and_then(|(h, m)| Time::new(h, m, 0, 0).ok());
    parsed.ok_or_else(|| {
        DomainError::invalid(
            field,
            format!("write the time as HH:MM on a 24-hour clock, e.g. 09:00 (got {text:?})"),
        )
    })
}

/// The UTC instant (epoch ms) of a date and time on the site's wall clock; an empty time is
/// midnight.
pub(super) fn parse_local(
    field: &'static str,
    date: &str,
    time: &str,
    zone_name: &str,
) -> Result<i64, DomainError> {
    let date = parse_date(field, date)?;
    let time = if time.trim().is_empty() {
        Time::midnight()
    } else {
        parse_time(field, time)?
    };
    date.to_datetime(time)
        .to_zoned(zone(zone_name))
        .map(|z| z.timestamp().as_millisecond())
        .map_err(|_| DomainError::invalid(field, "that date is out of range"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn wall_times_convert_in_the_sites_zone_both_ways() {
        let ms = parse_local("at", "2026-12-01", "10:00", "Asia/Tokyo").unwrap();
        assert_eq!(
            ms,
            "2026-12-01T01:00:00Z"
                .parse::<Timestamp>()
                .unwrap()
                .as_millisecond()
        );
        assert_eq!(local_text(ms, "Asia/Tokyo"), "2026-12-01 10:00 Asia/Tokyo");
        assert_eq!(
            local_text(ms, "Europe/Berlin"),
            "2026-12-01 02:00 Europe/Berlin"
        );
        let berlin = parse_local("at", "2026-07-01", "", "Europe/Berlin").unwrap();
        assert_eq!(local_parts(berlin, "Europe/Berlin").1, "00:00");
    }

    #[test]
    fn bad_input_names_the_field_and_the_format() {
        let e = parse_local("valid_from_ms", "2026-13-01", "10:00", "UTC").unwrap_err();
        assert_eq!(e.field, Some("valid_from_ms"));
        assert!(e.message.contains("YYYY-MM-DD"));
        let e = parse_local("at", "2026-12-01", "25:00", "UTC").unwrap_err();
        assert!(e.message.contains("HH:MM"));
        assert!(parse_time("t", "9:30").is_ok());
        assert!(parse_time("t", "09:3").is_err());
    }
}
