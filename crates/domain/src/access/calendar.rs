//! Civil-time arithmetic for the decision core: local dates as epoch days, and a site's clock that
//! turns UTC instants into wall-clock readings (and back, as sets of instants).
//!
//! The hot path (`decide`) only needs "what does the site's wall clock read at this instant", which
//! is `utc + offset(utc)`. The offset comes from a table of the zone's transitions between 1900 and
//! 2200, precomputed from jiff's bundled tzdb when the model is built (a binary search over a few
//! hundred entries instead of evaluating POSIX TZ rules per decision); instants outside the table ask
//! jiff directly, so both paths agree by construction.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::interval::Interval;

/// Milliseconds in a civil day (wall-clock arithmetic ignores DST by definition).
pub const DAY_MS: i64 = 86_400_000;
/// Milliseconds in a minute.
pub const MINUTE_MS: i64 = 60_000;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian; H. Hinnant's algorithm).
pub fn epoch_day(date: jiff::civil::Date) -> i32 {
    let (y, m, d) = (
        i32::from(date.year()),
        i32::from(date.month()),
        i32::from(date.day()),
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Monday = 0 … Sunday = 6 for a day number since 1970-01-01 (a Thursday).
pub fn weekday_of_epoch_day(day: i64) -> usize {
    // rem_euclid(7) is in 0..7, so the cast cannot truncate.
    (day + 3).rem_euclid(7) as usize
}

/// A site's time zone with a precomputed offset table.
#[derive(Debug, Clone)]
pub struct LocalClock {
    tz: TimeZone,
    table_start_ms: i64,
    table_end_ms: i64,
    offset_at_table_start_ms: i64,
    /// (instant of the transition, offset in force from then on), sorted by instant.
    transitions: Vec<(i64, i64)>,
}

const TABLE_START_MS: i64 = -2_208_988_800_000; // 1900-01-01T00:00:00Z
const TABLE_END_MS: i64 = 7_258_118_400_000; // 2200-01-01T00:00:00Z

fn jiff_offset_ms(tz: &TimeZone, at_ms: i64) -> i64 {
    // Instants beyond jiff's range (about ±9999 years) have no meaningful local time; UTC keeps
    // decisions total instead of panicking on absurd input.
    Timestamp::from_millisecond(at_ms)
        .map(|ts| i64::from(tz.to_offset(ts).seconds()) * 1000)
        .unwrap_or(0)
}

impl LocalClock {
    /// Precomputes the transition table of `tz`.
    pub fn new(tz: TimeZone) -> Self {
        let offset_at_table_start_ms = jiff_offset_ms(&tz, TABLE_START_MS);
        let mut transitions = Vec::new();
        if let Ok(start) = Timestamp::from_millisecond(TABLE_START_MS) {
            for transition in tz.following(start) {
                let at_ms = transition.timestamp().as_millisecond();
                if at_ms >= TABLE_END_MS {
                    break;
                }
                transitions.push((at_ms, i64::from(transition.offset().seconds()) * 1000));
            }
        }
        Self {
            tz,
            table_start_ms: TABLE_START_MS,
            table_end_ms: TABLE_END_MS,
            offset_at_table_start_ms,
            transitions,
        }
    }

    /// UTC offset in force at `at_ms`, in milliseconds.
    pub fn offset_ms(&self, at_ms: i64) -> i64 {
        if at_ms < self.table_start_ms || at_ms >= self.table_end_ms {
            return jiff_offset_ms(&self.tz, at_ms);
        }
        let idx = self.transitions.partition_point(|(t, _)| *t <= at_ms);
        match idx.checked_sub(1).and_then(|i| self.transitions.get(i)) {
            Some((_, offset)) => *offset,
            None => self.offset_at_table_start_ms,
        }
    }

    /// What the site's wall clock reads at `at_ms`, as "local epoch milliseconds" (the UTC
    /// instant that would show the same reading in UTC).
    pub fn local_ms(&self, at_ms: i64) -> i64 {
        at_ms.saturating_add(self.offset_ms(at_ms))
    }

    /// Pieces of `[from_ms, to_ms)` with a constant offset: (piece, offset in force).
    pub fn constant_offset_pieces(&self, from_ms: i64, to_ms: i64) -> Vec<(Interval, i64)> {
        let mut pieces = Vec::new();
        let mut cursor = from_ms;
        while cursor < to_ms {
            let offset = self.offset_ms(cursor);
            let next = self
                .next_transition_after(cursor)
                .unwrap_or(to_ms)
                .min(to_ms);
            // A transition that does not move forward would loop forever; treat it as the end.
            let next = if next <= cursor { to_ms } else { next };
            pieces.push((Interval::new(cursor, next), offset));
            cursor = next;
        }
        pieces
    }

    fn next_transition_after(&self, at_ms: i64) -> Option<i64> {
        if at_ms >= self.table_start_ms && at_ms < self.table_end_ms {
            let idx = self.transitions.partition_point(|(t, _)| *t <= at_ms);
            return Some(
                self.transitions
                    .get(idx)
                    .map_or(self.table_end_ms, |(t, _)| *t),
            );
        }
        let ts = Timestamp::from_millisecond(at_ms).ok()?;
        self.tz
            .following(ts)
            .next()
            .map(|transition| transition.timestamp().as_millisecond())
    }

    /// Every UTC instant in `[from_ms, to_ms)` whose wall-clock reading lies in
    /// `[local_start, local_end)`, given the constant-offset pieces covering that range. On a
    /// fall-back day one local range can yield two disjoint UTC intervals; in a spring-forward gap
    /// it can yield none.
    pub fn instants_reading(
        pieces: &[(Interval, i64)],
        local_start: i64,
        local_end: i64,
        out: &mut Vec<Interval>,
    ) {
        for (piece, offset) in pieces {
            let candidate = Interval::new(
                local_start.saturating_sub(*offset),
                local_end.saturating_sub(*offset),
            )
            .intersect(piece);
            if !candidate.is_empty() {
                out.push(candidate);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn epoch_days_and_weekdays_match_jiff() {
        for d in [
            date(1970, 1, 1),
            date(1969, 12, 31),
            date(2000, 2, 29),
            date(2026, 3, 29),
            date(2100, 3, 1),
            date(1900, 1, 1),
        ] {
            let expected = d
                .to_zoned(TimeZone::UTC)
                .unwrap()
                .timestamp()
                .as_millisecond()
                .div_euclid(DAY_MS);
            assert_eq!(i64::from(epoch_day(d)), expected, "{d}");
            assert_eq!(
                weekday_of_epoch_day(expected),
                usize::try_from(d.weekday().to_monday_zero_offset()).unwrap(),
                "{d}"
            );
        }
    }

    #[test]
    fn table_offsets_agree_with_jiff() {
        for name in [
            "Europe/Berlin",
            "America/New_York",
            "Australia/Lord_Howe",
            "Asia/Tokyo",
        ] {
            let tz = TimeZone::get(name).unwrap();
            let clock = LocalClock::new(tz.clone());
            let mut t = 1_700_000_000_000_i64;
            while t < 1_900_000_000_000 {
                assert_eq!(clock.offset_ms(t), jiff_offset_ms(&tz, t), "{name} at {t}");
                t += 3_600_000 * 7 + 1234;
            }
        }
    }
}
