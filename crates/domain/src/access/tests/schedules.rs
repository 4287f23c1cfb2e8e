//! Schedules: validation, caps, merging, overnight windows, exception dates, bookings, serde.

use super::*;

const TZ: &str = "Europe/Berlin";

fn err(spec: ScheduleSpec) -> ScheduleError {
    Schedule::new(spec).unwrap_err()
}

#[test]
fn a_ten_thousand_window_schedule_is_refused_naming_the_cap() {
    let mut spec = ScheduleSpec::starting(0);
    for i in 0..10_000u32 {
        let minute = u8::try_from(i % 60).unwrap();
        spec = spec.window(Weekdays::ALL, WallTime::hm(8, minute).unwrap(), wt("18:00"));
    }
    let error = err(spec);
    assert_eq!(error.field, "weekly");
    assert!(
        error.message.contains(&MAX_WEEKLY_WINDOWS.to_string()),
        "{}",
        error.message
    );
    assert!(error.message.contains("10000"), "{}", error.message);
    let domain: crate::DomainError = error.into();
    assert_eq!(domain.code, crate::ErrorCode::InvalidField);
    assert_eq!(domain.field, Some("weekly"));
}

#[test]
fn other_caps_and_rules_give_clear_field_errors() {
    let base = || ScheduleSpec::starting(1000).window(Weekdays::ALL, wt("09:00"), wt("10:00"));
    assert_eq!(err(base().until(1000)).field, "valid_until_ms");
    assert_eq!(err(base().until(10)).field, "valid_until_ms");
    let mut many = base();
    for i in 0..=MAX_BOOKINGS {
        let i = i64::try_from(i).unwrap();
        many = many.booking(i * 10, i * 10 + 5);
    }
    assert_eq!(err(many).field, "bookings");
    let mut many = base();
    for day in 0..=MAX_EXCEPTION_DATES {
        many = many.closed(
            date(2026, 1, 1)
                .checked_add(jiff::Span::new().days(i64::try_from(day).unwrap()))
                .unwrap(),
        );
    }
    assert_eq!(err(many).field, "closed_dates");
    assert_eq!(err(base().booking(50, 40)).field, "bookings");
    assert_eq!(err(base().max_uses(0)).field, "max_uses");
    assert_eq!(err(ScheduleSpec::starting(0)).field, "weekly");
    assert_eq!(
        err(ScheduleSpec::starting(0).window(Weekdays::NONE, wt("09:00"), wt("10:00"))).field,
        "weekly"
    );
    assert_eq!(
        err(ScheduleSpec::starting(0).window(Weekdays::ALL, wt("24:00"), wt("10:00"))).field,
        "weekly"
    );
    assert_eq!(
        err(ScheduleSpec::starting(0).window(Weekdays::ALL, wt("10:00"), wt("10:00"))).field,
        "weekly"
    );
    let both = base().closed(date(2026, 5, 1)).open(
        date(2026, 5, 1),
        vec![DayWindow {
            start: wt("09:00"),
            end: wt("10:00"),
        }],
    );
    assert_eq!(err(both).field, "open_dates");
    assert_eq!(
        err(base().open(date(2026, 5, 1), vec![])).field,
        "open_dates"
    );
    assert!("25:00".parse::<WallTime>().is_err());
    assert!("9:00".parse::<WallTime>().is_err());
    assert!("09:60".parse::<WallTime>().is_err());
    assert_eq!(wt("24:00"), WallTime::END_OF_DAY);
}

#[test]
fn overlapping_windows_are_merged_not_duplicated() {
    let schedule = Schedule::new(
        ScheduleSpec::starting(0)
            .window(Weekdays::day(0), wt("09:00"), wt("12:00"))
            .window(Weekdays::day(0), wt("11:00"), wt("14:00"))
            .window(Weekdays::day(0), wt("09:00"), wt("12:00"))
            .window(
                Weekdays::day(0).with(Weekdays::day(2)),
                wt("14:00"),
                wt("15:00"),
            )
            .closed(date(2026, 5, 1))
            .closed(date(2026, 5, 1))
            .booking(100, 200)
            .booking(150, 300),
    )
    .unwrap();
    let spec = schedule.to_spec();
    let monday: Vec<(String, String)> = spec
        .weekly
        .iter()
        .filter(|w| w.days == Weekdays::day(0))
        .map(|w| (w.start.to_string(), w.end.to_string()))
        .collect();
    assert_eq!(monday, vec![("09:00".to_owned(), "15:00".to_owned())]);
    assert_eq!(spec.weekly.len(), 2, "{spec:?}");
    assert_eq!(spec.closed_dates, vec![date(2026, 5, 1)]);
    assert_eq!(spec.bookings, vec![Interval::new(100, 300)]);
    // And the model yields one interval for that Monday.
    let mut org = Org::new(TZ);
    org.grant(
        Subject::Person(org.alice),
        Target::Lock(org.room_door),
        schedule,
    );
    let model = org.build();
    let monday = date(2026, 11, 30);
    let windows = model
        .access_windows(
            org.alice,
            org.room_door,
            local(TZ, monday, 0, 0),
            local(TZ, monday, 23, 0),
        )
        .unwrap();
    assert_eq!(
        windows,
        vec![Interval::new(
            local(TZ, monday, 9, 0),
            local(TZ, monday, 15, 0)
        )]
    );
}

#[test]
fn schedules_round_trip_through_json_and_invalid_json_is_refused() {
    let schedule = Schedule::new(
        ScheduleSpec::starting(5)
            .until(10_000_000_000)
            .window(Weekdays::WORKDAYS, wt("22:00"), wt("06:00"))
            .closed_on_holidays()
            .open(
                date(2026, 12, 24),
                vec![DayWindow {
                    start: wt("10:00"),
                    end: wt("24:00"),
                }],
            )
            .max_uses(3),
    )
    .unwrap();
    let json = serde_json::to_string(&schedule).unwrap();
    assert!(json.contains(r#""days":["mon"]"#), "{json}");
    assert!(json.contains(r#""start":"22:00","end":"06:00""#), "{json}");
    let back: Schedule = serde_json::from_str(&json).unwrap();
    assert_eq!(back, schedule);
    let bad = r#"{"valid_from_ms": 10, "valid_until_ms": 5, "weekly": [{"days":["mon"],"start":"09:00","end":"10:00"}]}"#;
    let error = serde_json::from_str::<Schedule>(bad)
        .unwrap_err()
        .to_string();
    assert!(error.contains("valid_until_ms"), "{error}");
    assert!(serde_json::from_str::<Schedule>(r#"{"valid_from_ms": 0, "weekly": [{"days":["someday"],"start":"09:00","end":"10:00"}]}"#).is_err());
}

#[test]
fn overnight_windows_belong_to_the_day_they_start_on() {
    // Friday 22:00–06:00; Friday 2026-11-27 closed, Saturday 2026-12-05 closed.
    let schedule = Schedule::new(
        ScheduleSpec::starting(0)
            .window(Weekdays::day(4), wt("22:00"), wt("06:00"))
            .closed(date(2026, 11, 27))
            .closed(date(2026, 12, 5)),
    )
    .unwrap();
    let mut org = Org::new(TZ);
    org.grant(
        Subject::Person(org.alice),
        Target::Lock(org.room_door),
        schedule,
    );
    let model = org.build();
    let allowed = |d, h, m| {
        model
            .decide(org.alice, org.room_door, local(TZ, d, h, m))
            .is_allowed()
    };
    // Normal Friday night: open Friday 23:00 and Saturday 05:59, closed Saturday 06:00.
    assert!(allowed(date(2026, 11, 20), 23, 0));
    assert!(allowed(date(2026, 11, 21), 5, 59));
    assert!(!allowed(date(2026, 11, 21), 6, 0));
    assert!(!allowed(date(2026, 11, 20), 21, 59));
    // Closed Friday closes the whole night, including the Saturday morning part.
    assert!(!allowed(date(2026, 11, 27), 23, 0));
    assert!(!allowed(date(2026, 11, 28), 5, 0));
    // A closed Saturday does not touch the night that started on Friday.
    assert!(allowed(date(2026, 12, 5), 5, 0));
    let windows = model
        .access_windows(
            org.alice,
            org.room_door,
            local(TZ, date(2026, 11, 20), 0, 0),
            local(TZ, date(2026, 11, 30), 0, 0),
        )
        .unwrap();
    assert_eq!(
        windows,
        vec![Interval::new(
            local(TZ, date(2026, 11, 20), 22, 0),
            local(TZ, date(2026, 11, 21), 6, 0)
        )]
    );
}

#[test]
fn holidays_close_when_asked_and_open_dates_add_windows() {
    let christmas = date(2026, 12, 25); // a Friday
    let mut org = Org::with_holidays(TZ, vec![christmas, date(2026, 12, 26)]);
    let closing = Schedule::new(
        ScheduleSpec::starting(0)
            .window(Weekdays::WORKDAYS, wt("09:00"), wt("17:00"))
            .closed_on_holidays()
            .open(
                date(2026, 12, 26),
                vec![DayWindow {
                    start: wt("10:00"),
                    end: wt("12:00"),
                }],
            )
            .open(
                date(2026, 12, 27),
                vec![DayWindow {
                    start: wt("10:00"),
                    end: wt("12:00"),
                }],
            ),
    )
    .unwrap();
    org.grant(
        Subject::Person(org.alice),
        Target::Lock(org.room_door),
        closing,
    );
    org.grant(
        Subject::Person(org.bob),
        Target::Lock(org.room_door),
        office_hours(0),
    );
    let model = org.build();
    let at = |d, h| local(TZ, d, h, 0);
    assert!(
        !model
            .decide(org.alice, org.room_door, at(christmas, 10))
            .is_allowed()
    );
    assert!(
        model
            .decide(org.bob, org.room_door, at(christmas, 10))
            .is_allowed()
    );
    // Saturday holiday, explicitly open 10–12; Sunday open 10–12.
    assert!(
        model
            .decide(org.alice, org.room_door, at(date(2026, 12, 26), 11))
            .is_allowed()
    );
    assert!(
        !model
            .decide(org.alice, org.room_door, at(date(2026, 12, 26), 13))
            .is_allowed()
    );
    assert!(
        model
            .decide(org.alice, org.room_door, at(date(2026, 12, 27), 10))
            .is_allowed()
    );
    assert!(
        model
            .decide(org.alice, org.room_door, at(date(2026, 12, 28), 10))
            .is_allowed()
    );
}

#[test]
fn bookings_open_regardless_of_windows_but_within_validity() {
    let start = utc("2026-12-05T20:00:00Z");
    let schedule = Schedule::new(
        ScheduleSpec::starting(0)
            .until(start + 3_600_000)
            .booking(start, start + 7_200_000),
    )
    .unwrap();
    let mut org = Org::new(TZ);
    org.grant(
        Subject::Person(org.alice),
        Target::Lock(org.room_door),
        schedule,
    );
    let model = org.build();
    assert!(model.decide(org.alice, org.room_door, start).is_allowed());
    assert!(
        !model
            .decide(org.alice, org.room_door, start - 1)
            .is_allowed()
    );
    assert!(
        !model
            .decide(org.alice, org.room_door, start + 3_600_000)
            .is_allowed()
    );
    assert_eq!(
        model
            .access_windows(
                org.alice,
                org.room_door,
                start - 86_400_000,
                start + 86_400_000
            )
            .unwrap(),
        vec![Interval::new(start, start + 3_600_000)]
    );
    // Unbounded ranges are refused rather than computed for minutes.
    let error = model
        .access_windows(org.alice, org.room_door, 0, i64::MAX)
        .unwrap_err();
    assert_eq!(error, QueryError::RangeTooLong);
    assert_eq!(crate::DomainError::from(error).field, Some("to_ms"));
    assert!(
        model
            .access_windows(org.alice, org.room_door, 10, 5)
            .unwrap()
            .is_empty()
    );
}
