//! When a grant applies: validity, weekly windows in the site's local time, exception dates,
//! one-off bookings and a maximum number of uses.
//!
//! A [`ScheduleSpec`] is plain data (what the API and storage carry); [`Schedule::new`] validates
//! it and normalizes it (overlapping windows merged, dates deduplicated). Serializing a
//! `Schedule` yields the normalized spec, and deserializing one validates again, so an invalid
//! schedule cannot be built from JSON either.
//!
//! # Meaning (wall-clock definition)
//!
//! A weekly window `days start–end` opens, on every local date `D` whose weekday is in `days`
//! and which is not closed, the range of wall-clock readings `[D start, D end)`. If `end <= start`
//! the window is *overnight*: it runs to `end` on the next day (22:00–06:00 on Friday closes
//! Saturday 06:00) and belongs to the date it starts on, so closing Friday closes it entirely and
//! closing Saturday does not touch it. `24:00` is allowed as an end (the end of the day); a window
//! may not start at `24:00` nor have `start == end` (write `00:00–24:00` for a whole day).
//!
//! An instant is inside the recurring part iff the site's wall clock *at that instant* reads a
//! value inside one of those ranges. Consequences on DST days, by construction and tested:
//! a window lying in a spring-forward gap opens for no instant; a window crossing the gap is
//! shorter in real time; on a fall-back day the repeated hour is inside the window both times
//! (so one window can yield two disjoint UTC intervals).
//!
//! A date is closed if listed in `closed_dates`, or if `closed_on_holidays` is set and the site's
//! holiday calendar lists it. An `open_dates` entry adds its own windows to that date, whether or
//! not its weekday has windows and even if the date is a site holiday (explicit beats calendar);
//! a date may not be both explicitly closed and open.
//!
//! Bookings are UTC intervals, open regardless of weekly windows and closed dates. Everything is
//! bounded by the validity `[valid_from_ms, valid_until_ms)`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::calendar::{DAY_MS, LocalClock, MINUTE_MS, epoch_day, weekday_of_epoch_day};
use super::interval::{Interval, normalize, set_contains};
use crate::error::DomainError;

/// At most this many weekly windows in one schedule (before merging).
pub const MAX_WEEKLY_WINDOWS: usize = 300;
/// At most this many exception dates (closed plus open) in one schedule.
pub const MAX_EXCEPTION_DATES: usize = 400;
/// At most this many windows on one extra open date.
pub const MAX_WINDOWS_PER_OPEN_DATE: usize = 48;
/// At most this many one-off bookings in one schedule.
pub const MAX_BOOKINGS: usize = 500;

const MINUTES_PER_DAY: u16 = 1440;

/// A schedule failed validation: the field at fault and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ScheduleError {
    /// The field at fault (snake_case, as in the API).
    pub field: &'static str,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl ScheduleError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl From<ScheduleError> for DomainError {
    fn from(error: ScheduleError) -> Self {
        DomainError::invalid(error.field, error.message)
    }
}

/// A wall-clock time at minute precision, `00:00` to `24:00` (the latter only as an end).
/// Serialized as `"HH:MM"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WallTime(u16);

impl WallTime {
    /// Midnight at the start of the day.
    pub const MIDNIGHT: WallTime = WallTime(0);
    /// `24:00`, the end of the day.
    pub const END_OF_DAY: WallTime = WallTime(MINUTES_PER_DAY);

    /// `hour:minute`; `24:00` is the only valid time with hour 24.
    pub fn hm(hour: u8, minute: u8) -> Result<Self, ScheduleError> {
        let total = u16::from(hour) * 60 + u16::from(minute);
        if minute >= 60 || total > MINUTES_PER_DAY {
            return Err(ScheduleError::new(
                "time",
                format!("{hour:02}:{minute:02} is not a time of day (00:00 to 24:00)"),
            ));
        }
        Ok(WallTime(total))
    }

    /// Minutes since midnight (0..=1440).
    pub const fn minutes(self) -> u16 {
        self.0
    }
}

impl fmt::Display for WallTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl FromStr for WallTime {
    type Err = ScheduleError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            ScheduleError::new(
                "time",
                format!("{s:?} is not a time: use HH:MM, e.g. 09:00 or 24:00"),
            )
        };
        let (h, m) = s.split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let hour: u8 = h.parse().map_err(|_| bad())?;
        let minute: u8 = m.parse().map_err(|_| bad())?;
        WallTime::hm(hour, minute)
    }
}

impl Serialize for WallTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for WallTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(|e: ScheduleError| serde::de::Error::custom(e.message))
    }
}

/// A set of weekdays. Serialized as a list of `"mon"` … `"sun"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Weekdays(u8);

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl Weekdays {
    /// Monday to Friday.
    pub const WORKDAYS: Weekdays = Weekdays(0b001_1111);
    /// Saturday and Sunday.
    pub const WEEKEND: Weekdays = Weekdays(0b110_0000);
    /// Every day.
    pub const ALL: Weekdays = Weekdays(0b111_1111);
    /// No day.
    pub const NONE: Weekdays = Weekdays(0);

    /// One day, Monday = 0 … Sunday = 6 (larger numbers give the empty set).
    pub const fn day(monday_zero: u8) -> Weekdays {
        if monday_zero < 7 {
            Weekdays(1 << monday_zero)
        } else {
            Weekdays(0)
        }
    }

    /// The set holds the day (Monday = 0).
    pub const fn contains(self, monday_zero: usize) -> bool {
        monday_zero < 7 && self.0 & (1 << monday_zero) != 0
    }

    /// Both sets' days.
    #[must_use]
    pub const fn with(self, other: Weekdays) -> Weekdays {
        Weekdays(self.0 | other.0)
    }

    /// No day in the set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl Serialize for Weekdays {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let names: Vec<&str> = DAY_NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.contains(*i))
            .map(|(_, name)| *name)
            .collect();
        names.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Weekdays {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        names.iter().try_fold(Weekdays::NONE, |acc, name| {
            let lower = name.to_ascii_lowercase();
            DAY_NAMES
                .iter()
                .position(|known| *known == lower)
                .and_then(|i| u8::try_from(i).ok())
                .map(|i| acc.with(Weekdays::day(i)))
                .ok_or_else(|| {
                    serde::de::Error::custom(format!("unknown weekday {name:?}: use mon … sun"))
                })
        })
    }
}

/// A recurring weekly window in the site's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WeeklyWindow {
    /// The weekdays on which the window starts.
    pub days: Weekdays,
    /// Local start (inclusive), `00:00`..`23:59`.
    pub start: WallTime,
    /// Local end (exclusive); `end <= start` means overnight into the next day.
    pub end: WallTime,
}

/// A window on one date (used by extra open dates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DayWindow {
    /// Local start (inclusive).
    pub start: WallTime,
    /// Local end (exclusive); `end <= start` means overnight into the next day.
    pub end: WallTime,
}

/// An extra open date with its own windows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OpenDate {
    /// The site-local date.
    pub date: Date,
    /// The windows opened on that date.
    pub windows: Vec<DayWindow>,
}

/// A schedule as plain data, before validation. See the module documentation for the meaning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleSpec {
    /// First instant of validity (inclusive), UTC epoch ms.
    pub valid_from_ms: i64,
    /// End of validity (exclusive), UTC epoch ms; none = open-ended.
    #[serde(default)]
    pub valid_until_ms: Option<i64>,
    /// Recurring weekly windows.
    #[serde(default)]
    pub weekly: Vec<WeeklyWindow>,
    /// Dates on which no weekly window starts.
    #[serde(default)]
    pub closed_dates: Vec<Date>,
    /// Also close the dates of the site's holiday calendar.
    #[serde(default)]
    pub closed_on_holidays: bool,
    /// Extra open dates with their own windows.
    #[serde(default)]
    pub open_dates: Vec<OpenDate>,
    /// One-off bookings (UTC intervals).
    #[serde(default)]
    pub bookings: Vec<Interval>,
    /// At most this many uses (unlocks), counted against this grant and its ancestors.
    #[serde(default)]
    pub max_uses: Option<u32>,
}

impl ScheduleSpec {
    /// Valid from `valid_from_ms`, no window yet (add some before `Schedule::new`).
    pub fn starting(valid_from_ms: i64) -> Self {
        Self {
            valid_from_ms,
            valid_until_ms: None,
            weekly: Vec::new(),
            closed_dates: Vec::new(),
            closed_on_holidays: false,
            open_dates: Vec::new(),
            bookings: Vec::new(),
            max_uses: None,
        }
    }

    /// Ends validity at `valid_until_ms` (exclusive).
    #[must_use]
    pub fn until(mut self, valid_until_ms: i64) -> Self {
        self.valid_until_ms = Some(valid_until_ms);
        self
    }

    /// Adds a weekly window.
    #[must_use]
    pub fn window(mut self, days: Weekdays, start: WallTime, end: WallTime) -> Self {
        self.weekly.push(WeeklyWindow { days, start, end });
        self
    }

    /// Adds a closed date.
    #[must_use]
    pub fn closed(mut self, date: Date) -> Self {
        self.closed_dates.push(date);
        self
    }

    /// Closes the site's holidays.
    #[must_use]
    pub fn closed_on_holidays(mut self) -> Self {
        self.closed_on_holidays = true;
        self
    }

    /// Adds an extra open date.
    #[must_use]
    pub fn open(mut self, date: Date, windows: Vec<DayWindow>) -> Self {
        self.open_dates.push(OpenDate { date, windows });
        self
    }

    /// Adds a one-off booking.
    #[must_use]
    pub fn booking(mut self, start_ms: i64, end_ms: i64) -> Self {
        self.bookings.push(Interval::new(start_ms, end_ms));
        self
    }

    /// Caps the number of uses.
    #[must_use]
    pub fn max_uses(mut self, max_uses: u32) -> Self {
        self.max_uses = Some(max_uses);
        self
    }
}

/// One normalized window, in minutes from the start of the local date it belongs to; `end_min`
/// goes up to 2880 for overnight windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Span {
    pub(crate) start_min: u16,
    pub(crate) end_min: u16,
}

impl Span {
    fn of(start: WallTime, end: WallTime) -> Span {
        let end_min = if end.0 <= start.0 {
            end.0 + MINUTES_PER_DAY
        } else {
            end.0
        };
        Span {
            start_min: start.0,
            end_min,
        }
    }

    fn local_range(self, day: i64) -> (i64, i64) {
        // Saturating: days near the ends of i64 time (absurd but accepted input) must not overflow.
        let base = day.saturating_mul(DAY_MS);
        (
            base.saturating_add(i64::from(self.start_min) * MINUTE_MS),
            base.saturating_add(i64::from(self.end_min) * MINUTE_MS),
        )
    }
}

fn merge_spans(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort_unstable();
    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    for span in spans {
        match merged.last_mut() {
            Some(last) if span.start_min <= last.end_min => {
                last.end_min = last.end_min.max(span.end_min);
            }
            _ => merged.push(span),
        }
    }
    merged
}

/// The time-of-day part of a schedule (everything but validity and uses), normalized. Many grants
/// share one pattern ("office hours"), so the model interns them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Pattern {
    /// Spans per weekday (Monday = 0), merged.
    pub(crate) weekly: [Vec<Span>; 7],
    /// Closed dates as epoch days, sorted and unique.
    pub(crate) closed_days: Vec<i32>,
    pub(crate) closed_on_holidays: bool,
    /// Open dates as (epoch day, merged spans), sorted by day.
    pub(crate) open_days: Vec<(i32, Vec<Span>)>,
    /// Bookings, normalized.
    pub(crate) bookings: Vec<Interval>,
}

impl Pattern {
    fn is_closed(&self, day: i64, holidays: &[i32]) -> bool {
        let Ok(day) = i32::try_from(day) else {
            return false;
        };
        self.closed_days.binary_search(&day).is_ok()
            || (self.closed_on_holidays && holidays.binary_search(&day).is_ok())
    }

    fn open_spans(&self, day: i64) -> &[Span] {
        let Ok(day) = i32::try_from(day) else {
            return &[];
        };
        match self.open_days.binary_search_by_key(&day, |(d, _)| *d) {
            Ok(idx) => self
                .open_days
                .get(idx)
                .map_or(&[], |(_, spans)| spans.as_slice()),
            Err(_) => &[],
        }
    }

    /// The spans that start on local `day` (weekly unless closed, plus extra open spans).
    fn spans_starting(&self, day: i64, holidays: &[i32]) -> impl Iterator<Item = &Span> {
        let weekly: &[Span] = if self.is_closed(day, holidays) {
            &[]
        } else {
            self.weekly
                .get(weekday_of_epoch_day(day))
                .map_or(&[], Vec::as_slice)
        };
        weekly.iter().chain(self.open_spans(day))
    }

    /// Whether the recurring part (weekly + open dates) is open at the wall-clock reading
    /// `local_ms`.
    pub(crate) fn recurring_open_at_local(&self, local_ms: i64, holidays: &[i32]) -> bool {
        let day = local_ms.div_euclid(DAY_MS);
        let into_day_ms = local_ms.rem_euclid(DAY_MS);
        let today = self.spans_starting(day, holidays).any(|span| {
            i64::from(span.start_min) * MINUTE_MS <= into_day_ms
                && into_day_ms < i64::from(span.end_min) * MINUTE_MS
        });
        today
            || self.spans_starting(day - 1, holidays).any(|span| {
                // Overnight spans of yesterday reach into today; their start is always before.
                into_day_ms + DAY_MS < i64::from(span.end_min) * MINUTE_MS
            })
    }

    /// Whether the pattern (recurring or bookings) is open at `at_ms` on a site with `clock`.
    pub(crate) fn open_at(&self, clock: &LocalClock, holidays: &[i32], at_ms: i64) -> bool {
        set_contains(&self.bookings, at_ms)
            || self.recurring_open_at_local(clock.local_ms(at_ms), holidays)
    }

    /// The exact UTC intervals within `[from_ms, to_ms)` in which the pattern is open.
    pub(crate) fn open_intervals(
        &self,
        clock: &LocalClock,
        holidays: &[i32],
        from_ms: i64,
        to_ms: i64,
    ) -> Vec<Interval> {
        if from_ms >= to_ms {
            return Vec::new();
        }
        let mut out: Vec<Interval> = self
            .bookings
            .iter()
            .map(|booking| booking.intersect(&Interval::new(from_ms, to_ms)))
            .collect();
        // Offsets stay within ±26 h, and a span lasts at most 48 h from the start of its date, so
        // dates from three days before to one after cover every reading in range.
        let margin = 3 * DAY_MS;
        let pieces = clock
            .constant_offset_pieces(from_ms.saturating_sub(margin), to_ms.saturating_add(margin));
        let first_day = from_ms.div_euclid(DAY_MS) - 3;
        let last_day = to_ms.div_euclid(DAY_MS) + 2;
        for day in first_day..=last_day {
            for span in self.spans_starting(day, holidays) {
                let (local_start, local_end) = span.local_range(day);
                LocalClock::instants_reading(&pieces, local_start, local_end, &mut out);
            }
        }
        let window = Interval::new(from_ms, to_ms);
        normalize(out.into_iter().map(|i| i.intersect(&window)).collect())
    }

    fn to_spec_parts(&self) -> (Vec<WeeklyWindow>, Vec<Date>, Vec<OpenDate>) {
        let to_window = |span: &Span| DayWindow {
            start: WallTime(span.start_min),
            end: WallTime(if span.end_min > MINUTES_PER_DAY {
                span.end_min - MINUTES_PER_DAY
            } else {
                span.end_min
            }),
        };
        let mut weekly = Vec::new();
        for (day, spans) in (0u8..).zip(self.weekly.iter()) {
            for span in spans {
                let window = to_window(span);
                weekly.push(WeeklyWindow {
                    days: Weekdays::day(day),
                    start: window.start,
                    end: window.end,
                });
            }
        }
        let closed = self
            .closed_days
            .iter()
            .filter_map(|d| date_of_epoch_day(*d))
            .collect();
        let open = self
            .open_days
            .iter()
            .filter_map(|(d, spans)| {
                Some(OpenDate {
                    date: date_of_epoch_day(*d)?,
                    windows: spans.iter().map(to_window).collect(),
                })
            })
            .collect();
        (weekly, closed, open)
    }
}

fn date_of_epoch_day(day: i32) -> Option<Date> {
    jiff::Timestamp::from_millisecond(i64::from(day) * DAY_MS)
        .ok()
        .map(|ts| ts.to_zoned(jiff::tz::TimeZone::UTC).date())
}

/// A validated, normalized schedule. Build with [`Schedule::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub(crate) valid_from_ms: i64,
    pub(crate) valid_until_ms: Option<i64>,
    pub(crate) max_uses: Option<u32>,
    pub(crate) pattern: Pattern,
}

fn window_span(
    start: WallTime,
    end: WallTime,
    field: &'static str,
    what: &str,
) -> Result<Span, ScheduleError> {
    if start.0 >= MINUTES_PER_DAY {
        return Err(ScheduleError::new(
            field,
            format!("{what} starts at 24:00: a window starts at 23:59 at the latest"),
        ));
    }
    if start == end {
        return Err(ScheduleError::new(
            field,
            format!("{what} starts and ends at {start}: use 00:00–24:00 for a whole day"),
        ));
    }
    Ok(Span::of(start, end))
}

impl Schedule {
    /// Validates and normalizes a spec; the error names the field and the cap or rule broken.
    pub fn new(spec: ScheduleSpec) -> Result<Schedule, ScheduleError> {
        if let Some(until) = spec.valid_until_ms
            && until <= spec.valid_from_ms
        {
            return Err(ScheduleError::new(
                "valid_until_ms",
                "valid_until_ms must be after valid_from_ms (the end comes before the start)",
            ));
        }
        if spec.weekly.len() > MAX_WEEKLY_WINDOWS {
            return Err(ScheduleError::new(
                "weekly",
                format!(
                    "a schedule has at most {MAX_WEEKLY_WINDOWS} weekly windows, got {}: merge or remove some",
                    spec.weekly.len()
                ),
            ));
        }
        let exception_count = spec.closed_dates.len() + spec.open_dates.len();
        if exception_count > MAX_EXCEPTION_DATES {
            return Err(ScheduleError::new(
                "closed_dates",
                format!(
                    "a schedule has at most {MAX_EXCEPTION_DATES} exception dates (closed plus open), got {exception_count}"
                ),
            ));
        }
        if spec.bookings.len() > MAX_BOOKINGS {
            return Err(ScheduleError::new(
                "bookings",
                format!(
                    "a schedule has at most {MAX_BOOKINGS} bookings, got {}",
                    spec.bookings.len()
                ),
            ));
        }
        if spec.max_uses == Some(0) {
            return Err(ScheduleError::new(
                "max_uses",
                "max_uses must be at least 1 (or absent for no limit)",
            ));
        }

        let mut weekly: [Vec<Span>; 7] = Default::default();
        for (idx, window) in spec.weekly.iter().enumerate() {
            if window.days.is_empty() {
                return Err(ScheduleError::new(
                    "weekly",
                    format!("weekly window {idx} has no weekday"),
                ));
            }
            let span = window_span(
                window.start,
                window.end,
                "weekly",
                &format!("weekly window {idx}"),
            )?;
            for (day, spans) in weekly.iter_mut().enumerate() {
                if window.days.contains(day) {
                    spans.push(span);
                }
            }
        }
        let weekly = weekly.map(merge_spans);

        let mut closed_days: Vec<i32> = spec.closed_dates.iter().map(|d| epoch_day(*d)).collect();
        closed_days.sort_unstable();
        closed_days.dedup();

        let mut open: BTreeMap<i32, Vec<Span>> = BTreeMap::new();
        for open_date in &spec.open_dates {
            if open_date.windows.is_empty() || open_date.windows.len() > MAX_WINDOWS_PER_OPEN_DATE {
                return Err(ScheduleError::new(
                    "open_dates",
                    format!(
                        "open date {} needs 1 to {MAX_WINDOWS_PER_OPEN_DATE} windows, got {}",
                        open_date.date,
                        open_date.windows.len()
                    ),
                ));
            }
            let day = epoch_day(open_date.date);
            if closed_days.binary_search(&day).is_ok() {
                return Err(ScheduleError::new(
                    "open_dates",
                    format!(
                        "{} is both a closed and an open date: keep one",
                        open_date.date
                    ),
                ));
            }
            for window in &open_date.windows {
                let span = window_span(
                    window.start,
                    window.end,
                    "open_dates",
                    &format!("a window on {}", open_date.date),
                )?;
                open.entry(day).or_default().push(span);
            }
        }
        let open_days: Vec<(i32, Vec<Span>)> = open
            .into_iter()
            .map(|(day, spans)| (day, merge_spans(spans)))
            .collect();

        for (idx, booking) in spec.bookings.iter().enumerate() {
            if booking.is_empty() {
                return Err(ScheduleError::new(
                    "bookings",
                    format!("booking {idx} ends before (or when) it starts"),
                ));
            }
        }
        let bookings = normalize(spec.bookings);

        if weekly.iter().all(Vec::is_empty) && open_days.is_empty() && bookings.is_empty() {
            return Err(ScheduleError::new(
                "weekly",
                "the schedule never opens: add a weekly window, an open date or a booking",
            ));
        }
        Ok(Schedule {
            valid_from_ms: spec.valid_from_ms,
            valid_until_ms: spec.valid_until_ms,
            max_uses: spec.max_uses,
            pattern: Pattern {
                weekly,
                closed_days,
                closed_on_holidays: spec.closed_on_holidays,
                open_days,
                bookings,
            },
        })
    }

    /// Open at every hour of every day between `valid_from_ms` and `valid_until_ms`.
    pub fn always(
        valid_from_ms: i64,
        valid_until_ms: Option<i64>,
    ) -> Result<Schedule, ScheduleError> {
        let mut spec = ScheduleSpec::starting(valid_from_ms).window(
            Weekdays::ALL,
            WallTime::MIDNIGHT,
            WallTime::END_OF_DAY,
        );
        spec.valid_until_ms = valid_until_ms;
        Schedule::new(spec)
    }

    /// First instant of validity.
    pub const fn valid_from_ms(&self) -> i64 {
        self.valid_from_ms
    }

    /// End of validity (exclusive), if any.
    pub const fn valid_until_ms(&self) -> Option<i64> {
        self.valid_until_ms
    }

    /// The cap on uses, if any.
    pub const fn max_uses(&self) -> Option<u32> {
        self.max_uses
    }

    /// The validity as an interval (`i64::MAX` for open-ended).
    pub fn validity(&self) -> Interval {
        Interval::new(self.valid_from_ms, self.valid_until_ms.unwrap_or(i64::MAX))
    }

    /// The normalized plain-data form.
    pub fn to_spec(&self) -> ScheduleSpec {
        let (weekly, closed_dates, open_dates) = self.pattern.to_spec_parts();
        ScheduleSpec {
            valid_from_ms: self.valid_from_ms,
            valid_until_ms: self.valid_until_ms,
            weekly,
            closed_dates,
            closed_on_holidays: self.pattern.closed_on_holidays,
            open_dates,
            bookings: self.pattern.bookings.clone(),
            max_uses: self.max_uses,
        }
    }
}

impl From<Schedule> for ScheduleSpec {
    fn from(schedule: Schedule) -> Self {
        schedule.to_spec()
    }
}

impl TryFrom<ScheduleSpec> for Schedule {
    type Error = ScheduleError;
    fn try_from(spec: ScheduleSpec) -> Result<Self, Self::Error> {
        Schedule::new(spec)
    }
}

impl Serialize for Schedule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_spec().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Schedule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Schedule::new(ScheduleSpec::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}
