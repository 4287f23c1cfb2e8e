//! Bad input never panics: schedules and questions at the ends of i64 time, zero-length and
//! reversed ranges, every zone. (Debug builds trap on integer overflow, so this also proves the
//! arithmetic is overflow-free.)

use proptest::prelude::*;

use super::*;

fn extreme() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(i64::MIN),
        Just(i64::MAX),
        Just(i64::MIN + 1),
        Just(i64::MAX - 1),
        Just(0),
        any::<i64>(),
        (-400_000_000_000_000i64..400_000_000_000_000),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn extreme_instants_and_bounds_do_not_panic(
        valid_from in extreme(),
        valid_until in proptest::option::of(extreme()),
        booking_start in extreme(),
        booking_len in 1i64..1_000_000_000,
        at in extreme(),
        range_start in extreme(),
        range_len in -10i64..(400 * 86_400_000),
        zone in 0usize..4,
        overnight in any::<bool>(),
    ) {
        let tz = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe"][zone];
        let mut spec = ScheduleSpec::starting(valid_from)
            .booking(booking_start, booking_start.saturating_add(booking_len))
            .closed(date(2026, 3, 29));
        spec = if overnight {
            spec.window(Weekdays::ALL, wt("22:00"), wt("06:00"))
        } else {
            spec.window(Weekdays::WORKDAYS, wt("09:00"), wt("24:00"))
        };
        spec.valid_until_ms = valid_until;
        let Ok(schedule) = Schedule::new(spec) else {
            return Ok(());
        };
        let mut org = Org::new(tz);
        org.grant(Subject::Group(org.staff), Target::Space(org.building), schedule);
        let model = org.build();
        let _ = model.decide(org.bob, org.room_door, at);
        let _ = model.who_can_open(org.room_door, at);
        let _ = model.what_can_open(org.bob, at);
        let range_end = range_start.saturating_add(range_len);
        if let Ok(windows) = model.access_windows(org.bob, org.room_door, range_start, range_end) {
            for window in windows {
                prop_assert!(window.start_ms < window.end_ms);
            }
        }
    }
}
