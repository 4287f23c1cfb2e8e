//! The worked example of docs/access-model.md, asserted: if this test changes, update the doc.

use super::*;

const TOKYO: &str = "Asia/Tokyo";

#[test]
fn worked_example_from_the_docs() {
    let (site, tower, floor12, room1201): (SiteId, SpaceId, SpaceId, SpaceId) =
        (id(1), id(10), id(11), id(12));
    let (entrance, door1201): (DeviceId, DeviceId) = (id(20), id(21));
    let engineering: GroupId = id(40);
    let (aiko, ben, carla): (AccountId, AccountId, AccountId) = (id(50), id(51), id(52));
    let (g1, g2): (GrantId, GrantId) = (id(1001), id(1002));

    let mut b = AccessModelBuilder::new();
    b.site(SiteSpec {
        id: site,
        time_zone: TOKYO.into(),
        holidays: vec![date(2026, 11, 23)],
    });
    b.space(SpaceSpec {
        id: tower,
        site,
        parent: None,
    });
    b.space(SpaceSpec {
        id: floor12,
        site,
        parent: Some(tower),
    });
    b.space(SpaceSpec {
        id: room1201,
        site,
        parent: Some(floor12),
    });
    b.lock(LockSpec {
        id: entrance,
        space: floor12,
        enabled: true,
        device_groups: vec![],
    });
    b.lock(LockSpec {
        id: door1201,
        space: room1201,
        enabled: true,
        device_groups: vec![],
    });
    b.person(PersonSpec {
        id: aiko,
        enabled: true,
        expires_at_ms: None,
    });
    b.person(PersonSpec {
        id: ben,
        enabled: true,
        expires_at_ms: None,
    });
    b.person(PersonSpec {
        id: carla,
        enabled: true,
        expires_at_ms: Some(utc("2026-11-27T15:00:00Z")),
    });
    b.group(engineering);
    b.member(engineering, aiko);
    b.member(engineering, ben);
    // G1: Engineering may open everything on 12F, weekdays 09:00–18:00 Tokyo time, closed on the
    // site's holidays, and may share (one level: guests cannot re-share).
    let office = Schedule::new(
        ScheduleSpec::starting(utc("2026-11-01T00:00:00+09:00"))
            .window(Weekdays::WORKDAYS, wt("09:00"), wt("18:00"))
            .closed_on_holidays(),
    )
    .unwrap();
    let mut grant1 = GrantSpec::new(
        g1,
        Subject::Group(engineering),
        Target::Space(floor12),
        Rights::UNLOCK | Rights::SHARE,
        office,
    );
    grant1.reshare_depth = 0;
    b.grant(grant1);
    let model_without_share = b.clone().build().unwrap();

    // Aiko shares room 1201 with her guest Carla, Tue–Thu afternoons of one week.
    let too_wide = GrantSpec::new(
        g2,
        Subject::Person(carla),
        Target::Lock(door1201),
        Rights::UNLOCK,
        Schedule::new(
            ScheduleSpec::starting(utc("2026-11-24T00:00:00+09:00"))
                .until(utc("2026-11-27T00:00:00+09:00"))
                .window(
                    Weekdays::day(1)
                        .with(Weekdays::day(2))
                        .with(Weekdays::day(3)),
                    wt("13:00"),
                    wt("20:00"),
                ),
        )
        .unwrap(),
    )
    .derived_from(g1, aiko);
    assert_eq!(
        model_without_share.check_derived(&too_wide),
        Err(DelegationError::WindowsWider)
    );
    let grant2 = GrantSpec::new(
        g2,
        Subject::Person(carla),
        Target::Lock(door1201),
        Rights::UNLOCK,
        Schedule::new(
            ScheduleSpec::starting(utc("2026-11-24T00:00:00+09:00"))
                .until(utc("2026-11-27T00:00:00+09:00"))
                .window(
                    Weekdays::day(1)
                        .with(Weekdays::day(2))
                        .with(Weekdays::day(3)),
                    wt("13:00"),
                    wt("17:00"),
                ),
        )
        .unwrap(),
    )
    .derived_from(g1, aiko);
    assert_eq!(model_without_share.check_derived(&grant2), Ok(()));
    b.grant(grant2);
    let model = b.build().unwrap();

    let at = |text: &str| utc(text);
    let g1_reason = Reason {
        grant: g1,
        subject: SubjectPath::Group(engineering),
        target: TargetPath::Space(floor12),
        delegated_from: None,
    };
    assert_eq!(
        model.decide(ben, door1201, at("2026-11-24T10:00:00+09:00")),
        Decision::Allowed {
            because: vec![g1_reason]
        }
    );
    let denial = |d: Decision| match d {
        Decision::Denied {
            reason,
            near_misses,
        } => (
            reason,
            near_misses.iter().map(|m| m.path.grant).collect::<Vec<_>>(),
        ),
        Decision::Allowed { .. } => panic!("allowed"),
    };
    assert_eq!(
        denial(model.decide(ben, door1201, at("2026-11-24T20:00:00+09:00"))),
        (Denial::OutsideWindow, vec![g1])
    );
    assert_eq!(
        denial(model.decide(ben, door1201, at("2026-11-23T10:00:00+09:00"))),
        (Denial::OutsideWindow, vec![g1])
    );
    assert_eq!(
        model.decide(carla, door1201, at("2026-11-24T14:00:00+09:00")),
        Decision::Allowed {
            because: vec![Reason {
                grant: g2,
                subject: SubjectPath::Direct,
                target: TargetPath::Lock,
                delegated_from: Some(g1)
            }]
        }
    );
    assert_eq!(
        denial(model.decide(carla, door1201, at("2026-11-24T12:00:00+09:00"))),
        (Denial::OutsideWindow, vec![g2])
    );
    assert_eq!(
        denial(model.decide(carla, entrance, at("2026-11-24T14:00:00+09:00"))),
        (Denial::NoGrant, vec![])
    );
    assert_eq!(
        denial(model.decide(carla, door1201, at("2026-11-27T14:00:00+09:00"))),
        (Denial::Expired, vec![g2])
    );

    let week = (
        at("2026-11-23T00:00:00+09:00"),
        at("2026-11-30T00:00:00+09:00"),
    );
    let show = |list: Vec<Interval>| {
        list.iter()
            .map(|i| {
                format!(
                    "{} – {}",
                    crate::time::rfc3339_utc(i.start_ms),
                    crate::time::rfc3339_utc(i.end_ms)
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        show(model.access_windows(ben, door1201, week.0, week.1).unwrap()),
        vec![
            "2026-11-24T00:00:00Z – 2026-11-24T09:00:00Z",
            "2026-11-25T00:00:00Z – 2026-11-25T09:00:00Z",
            "2026-11-26T00:00:00Z – 2026-11-26T09:00:00Z",
            "2026-11-27T00:00:00Z – 2026-11-27T09:00:00Z",
        ]
    );
    assert_eq!(
        show(
            model
                .access_windows(carla, door1201, week.0, week.1)
                .unwrap()
        ),
        vec![
            "2026-11-24T04:00:00Z – 2026-11-24T08:00:00Z",
            "2026-11-25T04:00:00Z – 2026-11-25T08:00:00Z",
            "2026-11-26T04:00:00Z – 2026-11-26T08:00:00Z",
        ]
    );
    let who: Vec<AccountId> = model
        .who_can_open(door1201, at("2026-11-24T14:00:00+09:00"))
        .unwrap()
        .iter()
        .map(|w| w.person)
        .collect();
    assert_eq!(who, vec![aiko, ben, carla]);
    // Removing Aiko from Engineering ends her share: Carla loses the door too.
    let impact = model
        .what_changes_if(
            Removal::Membership {
                group: engineering,
                person: aiko,
            },
            at("2026-11-24T14:00:00+09:00"),
        )
        .unwrap();
    assert_eq!(
        impact.lose,
        vec![
            AccessPair {
                person: aiko,
                lock: entrance
            },
            AccessPair {
                person: aiko,
                lock: door1201
            },
            AccessPair {
                person: carla,
                lock: door1201
            },
        ]
    );
    assert_eq!(model.descendants(g1).unwrap(), vec![g2]);
}
