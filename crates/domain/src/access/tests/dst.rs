//! The wall-clock definition on DST days, in Europe/Berlin, America/New_York and
//! Australia/Lord_Howe (a 30-minute shift). Expected UTC instants are worked out by hand from the
//! zones' published offsets.

use super::*;

/// A model where alice holds the room door only on `day`, between `start` and `end` local.
fn one_day(tz: &str, day: Date, start: &str, end: &str) -> (Org, AccessModel) {
    let mut org = Org::new(tz);
    let schedule = Schedule::new(ScheduleSpec::starting(0).open(
        day,
        vec![DayWindow {
            start: wt(start),
            end: wt(end),
        }],
    ))
    .unwrap();
    org.grant(
        Subject::Person(org.alice),
        Target::Lock(org.room_door),
        schedule,
    );
    let model = org.build();
    (org, model)
}

fn windows(org: &Org, model: &AccessModel, around: &str) -> Vec<(String, String)> {
    let mid = utc(around);
    model
        .access_windows(
            org.alice,
            org.room_door,
            mid - 3 * 86_400_000,
            mid + 3 * 86_400_000,
        )
        .unwrap()
        .iter()
        .map(|i| {
            (
                crate::time::rfc3339_utc(i.start_ms),
                crate::time::rfc3339_utc(i.end_ms),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

fn allowed(org: &Org, model: &AccessModel, at: &str) -> bool {
    model.decide(org.alice, org.room_door, utc(at)).is_allowed()
}

#[test]
fn berlin_spring_forward_gap_is_empty_and_crossing_window_is_shorter() {
    // 2026-03-29: 02:00 CET (01:00Z) jumps to 03:00 CEST.
    let (org, model) = one_day("Europe/Berlin", date(2026, 3, 29), "02:15", "02:45");
    assert_eq!(windows(&org, &model, "2026-03-29T00:00:00Z"), vec![]);
    assert!(!allowed(&org, &model, "2026-03-29T01:20:00Z"));
    assert!(!allowed(&org, &model, "2026-03-29T00:20:00Z"));
    let (org, model) = one_day("Europe/Berlin", date(2026, 3, 29), "01:00", "04:00");
    assert_eq!(
        windows(&org, &model, "2026-03-29T00:00:00Z"),
        pairs(&[("2026-03-29T00:00:00Z", "2026-03-29T02:00:00Z")])
    );
}

#[test]
fn berlin_fall_back_hour_is_inside_twice() {
    // 2026-10-25: 03:00 CEST (01:00Z) falls back to 02:00 CET; 02:00–03:00 local happens twice.
    let (org, model) = one_day("Europe/Berlin", date(2026, 10, 25), "02:15", "02:45");
    assert_eq!(
        windows(&org, &model, "2026-10-25T00:00:00Z"),
        pairs(&[
            ("2026-10-25T00:15:00Z", "2026-10-25T00:45:00Z"),
            ("2026-10-25T01:15:00Z", "2026-10-25T01:45:00Z"),
        ])
    );
    assert!(allowed(&org, &model, "2026-10-25T00:30:00Z"));
    assert!(!allowed(&org, &model, "2026-10-25T01:00:00Z"));
    assert!(allowed(&org, &model, "2026-10-25T01:30:00Z"));
    // A window across the fold lasts an hour longer in real time.
    let (org, model) = one_day("Europe/Berlin", date(2026, 10, 25), "01:00", "04:00");
    assert_eq!(
        windows(&org, &model, "2026-10-25T00:00:00Z"),
        pairs(&[("2026-10-24T23:00:00Z", "2026-10-25T03:00:00Z")])
    );
}

#[test]
fn new_york_gap_and_fold() {
    // 2026-03-08: 02:00 EST (07:00Z) jumps to 03:00 EDT.
    let (org, model) = one_day("America/New_York", date(2026, 3, 8), "02:00", "03:00");
    assert_eq!(windows(&org, &model, "2026-03-08T07:00:00Z"), vec![]);
    let (org, model) = one_day("America/New_York", date(2026, 3, 8), "01:30", "03:30");
    assert_eq!(
        windows(&org, &model, "2026-03-08T07:00:00Z"),
        pairs(&[("2026-03-08T06:30:00Z", "2026-03-08T07:30:00Z")])
    );
    // 2026-11-01: 02:00 EDT (06:00Z) falls back to 01:00 EST; 01:00–02:00 happens twice.
    let (org, model) = one_day("America/New_York", date(2026, 11, 1), "01:15", "01:45");
    assert_eq!(
        windows(&org, &model, "2026-11-01T06:00:00Z"),
        pairs(&[
            ("2026-11-01T05:15:00Z", "2026-11-01T05:45:00Z"),
            ("2026-11-01T06:15:00Z", "2026-11-01T06:45:00Z"),
        ])
    );
    assert!(allowed(&org, &model, "2026-11-01T06:20:00Z"));
    assert!(!allowed(&org, &model, "2026-11-01T06:00:00Z"));
}

#[test]
fn lord_howe_half_hour_gap_and_fold() {
    // 2026-04-05: 02:00 (+11, = 15:00Z on the 4th) falls back to 01:30 (+10:30);
    // 01:30–02:00 happens twice.
    let (org, model) = one_day("Australia/Lord_Howe", date(2026, 4, 5), "01:40", "01:50");
    assert_eq!(
        windows(&org, &model, "2026-04-04T15:00:00Z"),
        pairs(&[
            ("2026-04-04T14:40:00Z", "2026-04-04T14:50:00Z"),
            ("2026-04-04T15:10:00Z", "2026-04-04T15:20:00Z"),
        ])
    );
    // 2026-10-04: 02:00 (+10:30, = 15:30Z on the 3rd) jumps to 02:30 (+11).
    let (org, model) = one_day("Australia/Lord_Howe", date(2026, 10, 4), "02:00", "02:30");
    assert_eq!(windows(&org, &model, "2026-10-03T15:30:00Z"), vec![]);
    let (org, model) = one_day("Australia/Lord_Howe", date(2026, 10, 4), "01:00", "03:00");
    assert_eq!(
        windows(&org, &model, "2026-10-03T15:30:00Z"),
        pairs(&[("2026-10-03T14:30:00Z", "2026-10-03T16:00:00Z")])
    );
    assert!(allowed(&org, &model, "2026-10-03T15:45:00Z"));
    assert!(!allowed(&org, &model, "2026-10-03T16:00:00Z"));
}

#[test]
fn overnight_window_across_a_transition_in_each_zone() {
    // Saturday 22:00 – Sunday 06:00 across each zone's autumn fold: one hour (half an hour on
    // Lord Howe) longer in real time.
    for (tz, saturday, expected_hours_x2) in [
        ("Europe/Berlin", date(2026, 10, 24), 18),
        ("America/New_York", date(2026, 10, 31), 18),
        ("Australia/Lord_Howe", date(2026, 4, 4), 17),
    ] {
        let mut org = Org::new(tz);
        let schedule = Schedule::new(ScheduleSpec::starting(0).window(
            Weekdays::day(5),
            wt("22:00"),
            wt("06:00"),
        ))
        .unwrap();
        org.grant(
            Subject::Person(org.alice),
            Target::Lock(org.room_door),
            schedule,
        );
        let model = org.build();
        let from = local(tz, saturday, 12, 0);
        let got = model
            .access_windows(org.alice, org.room_door, from, from + 86_400_000)
            .unwrap();
        assert_eq!(got.len(), 1, "{tz}: {got:?}");
        assert_eq!(got[0].start_ms, local(tz, saturday, 22, 0), "{tz}");
        assert_eq!(
            (got[0].end_ms - got[0].start_ms) * 2 / 3_600_000,
            expected_hours_x2,
            "{tz}"
        );
    }
}
