//! Unit tests: reasons, every denial, precedence, queries, "what changes if", references,
//! delegation.

use super::*;

const TZ: &str = "Europe/Berlin";

fn denial(decision: &Decision) -> Denial {
    match decision {
        Decision::Denied { reason, .. } => *reason,
        Decision::Allowed { because } => panic!("expected a denial, got allowed by {because:?}"),
    }
}

fn reasons(decision: &Decision) -> Vec<Reason> {
    match decision {
        Decision::Allowed { because } => because.clone(),
        Decision::Denied { reason, .. } => panic!("expected allowed, got {reason:?}"),
    }
}

#[test]
fn allowed_decisions_name_the_grant_and_the_path() {
    let mut org = Org::new(TZ);
    let direct = org.grant(
        Subject::Person(org.alice),
        Target::Lock(org.room_door),
        always(),
    );
    let via_group = org.grant(
        Subject::Group(org.staff),
        Target::Space(org.building),
        office_hours(0),
    );
    let via_dg = org.grant(
        Subject::Person(org.alice),
        Target::DeviceGroup(org.doors),
        always(),
    );
    let model = org.build();
    let at = local(TZ, TUESDAY, 10, 0);

    let alice = reasons(&model.decide(org.alice, org.room_door, at));
    assert_eq!(
        alice,
        vec![
            Reason {
                grant: direct,
                subject: SubjectPath::Direct,
                target: TargetPath::Lock,
                delegated_from: None
            },
            Reason {
                grant: via_dg,
                subject: SubjectPath::Direct,
                target: TargetPath::DeviceGroup(org.doors),
                delegated_from: None
            },
        ]
    );
    let bob = reasons(&model.decide(org.bob, org.room_door, at));
    assert_eq!(
        bob,
        vec![Reason {
            grant: via_group,
            subject: SubjectPath::Group(org.staff),
            target: TargetPath::Space(org.building),
            delegated_from: None
        }]
    );
    // The space grant covers the whole subtree but not the other building.
    assert!(model.decide(org.bob, org.floor_door, at).is_allowed());
    assert_eq!(
        denial(&model.decide(org.bob, org.garage, at)),
        Denial::NoGrant
    );
}

#[test]
fn every_denial_reason_is_reported() {
    let mut org = Org::new(TZ);
    let day = date(2026, 11, 10); // a Tuesday, before the guest expires
    let at = local(TZ, day, 10, 0);
    // Outside window: office hours, asked at 20:00.
    org.grant(
        Subject::Person(org.alice),
        Target::Lock(org.room_door),
        office_hours(0),
    );
    // Not yet valid / expired.
    org.grant(
        Subject::Person(org.alice),
        Target::Lock(org.floor_door),
        Schedule::always(at + 1, None).unwrap(),
    );
    org.grant(
        Subject::Person(org.dora),
        Target::Lock(org.floor_door),
        Schedule::always(0, Some(at)).unwrap(),
    );
    // Uses exhausted.
    org.grant_with(
        Subject::Person(org.dora),
        Target::Lock(org.room_door),
        Rights::UNLOCK,
        Schedule::new(
            ScheduleSpec::starting(0)
                .window(Weekdays::ALL, wt("00:00"), wt("24:00"))
                .max_uses(3),
        )
        .unwrap(),
        |g| g.uses = 3,
    );
    // Revoked.
    org.grant_with(
        Subject::Person(org.alice),
        Target::Lock(org.garage),
        Rights::UNLOCK,
        always(),
        |g| g.revoked = true,
    );
    // No unlock right.
    org.grant_with(
        Subject::Person(org.dora),
        Target::Lock(org.garage),
        Rights::MANAGE,
        always(),
        |_| {},
    );
    // Account disabled, guest expired, device disabled: grants that would otherwise allow.
    org.grant(
        Subject::Person(org.carol),
        Target::Lock(org.room_door),
        always(),
    );
    org.grant(
        Subject::Person(org.gus),
        Target::Lock(org.room_door),
        always(),
    );
    org.grant(
        Subject::Person(org.alice),
        Target::Lock(org.broken_door),
        always(),
    );
    let model = org.build();

    assert_eq!(
        denial(&model.decide(org.alice, org.room_door, local(TZ, day, 20, 0))),
        Denial::OutsideWindow
    );
    assert_eq!(
        denial(&model.decide(org.alice, org.floor_door, at)),
        Denial::NotYetValid
    );
    assert_eq!(
        denial(&model.decide(org.dora, org.floor_door, at)),
        Denial::Expired
    );
    assert_eq!(
        denial(&model.decide(org.dora, org.room_door, at)),
        Denial::UsesExhausted
    );
    assert_eq!(
        denial(&model.decide(org.alice, org.garage, at)),
        Denial::Revoked
    );
    assert_eq!(
        denial(&model.decide(org.dora, org.garage, at)),
        Denial::NoUnlockRight
    );
    assert_eq!(
        denial(&model.decide(org.carol, org.room_door, at)),
        Denial::AccountDisabled
    );
    assert!(model.decide(org.gus, org.room_door, at).is_allowed());
    assert_eq!(
        denial(&model.decide(org.gus, org.room_door, utc(GUEST_EXPIRY))),
        Denial::GuestExpired
    );
    assert_eq!(
        denial(&model.decide(org.alice, org.broken_door, at)),
        Denial::DeviceDisabled
    );
    assert_eq!(
        denial(&model.decide(org.bob, org.garage, at)),
        Denial::NoGrant
    );
    assert_eq!(
        denial(&model.decide(id(999), org.garage, at)),
        Denial::UnknownPerson
    );
    assert_eq!(
        denial(&model.decide(org.alice, id(999), at)),
        Denial::UnknownLock
    );
}

#[test]
fn scope_denial_when_the_lock_is_outside_the_parent_grant() {
    // Alice holds the room (share right) and shared the floor door with Bob: the floor door is
    // not in the room, so the derived grant never opens it, whatever it says.
    let mut org = Org::new(TZ);
    let parent = org.grant_with(
        Subject::Person(org.alice),
        Target::Space(org.room),
        Rights::UNLOCK | Rights::SHARE,
        always(),
        |_| {},
    );
    let child = org.grant_with(
        Subject::Person(org.bob),
        Target::Lock(org.floor_door),
        Rights::UNLOCK,
        always(),
        move |g| {
            g.delegation = Some(Delegation {
                parent,
                shared_by: org.alice,
            });
        },
    );
    let model = org.build();
    let decision = model.decide(org.bob, org.floor_door, local(TZ, TUESDAY, 10, 0));
    let Decision::Denied {
        reason,
        near_misses,
    } = decision
    else {
        panic!("allowed")
    };
    assert_eq!(reason, Denial::Scope);
    assert_eq!(near_misses.len(), 1);
    assert_eq!(near_misses[0].path.grant, child);
    assert_eq!(near_misses[0].path.delegated_from, Some(parent));
    assert_eq!(near_misses[0].refused_by, parent);
}

#[test]
fn precedence_picks_the_nearest_miss_and_lists_all() {
    let mut org = Org::new(TZ);
    let at = local(TZ, TUESDAY, 20, 0);
    let expired = org.grant(
        Subject::Person(org.alice),
        Target::Lock(org.room_door),
        Schedule::always(0, Some(at - 1)).unwrap(),
    );
    let outside = org.grant(
        Subject::Group(org.staff),
        Target::Space(org.room),
        office_hours(0),
    );
    let revoked = org.grant_with(
        Subject::Person(org.bob),
        Target::Lock(org.room_door),
        Rights::UNLOCK,
        always(),
        |g| g.revoked = true,
    );
    let bob_expired = org.grant(
        Subject::Person(org.bob),
        Target::DeviceGroup(org.doors),
        Schedule::always(0, Some(at - 1)).unwrap(),
    );
    let model = org.build();
    let _ = expired;
    let Decision::Denied {
        reason,
        near_misses,
    } = model.decide(org.bob, org.room_door, at)
    else {
        panic!()
    };
    assert_eq!(reason, Denial::OutsideWindow);
    let order: Vec<(GrantId, GrantRefusal)> = near_misses
        .iter()
        .map(|m| (m.path.grant, m.refusal))
        .collect();
    assert_eq!(
        order,
        vec![
            (outside, GrantRefusal::OutsideWindow),
            (bob_expired, GrantRefusal::Expired),
            (revoked, GrantRefusal::Revoked),
        ]
    );
    // Same input, same answer.
    assert_eq!(
        model.decide(org.bob, org.room_door, at),
        model.decide(org.bob, org.room_door, at)
    );
}

#[test]
fn who_and_what_agree_with_decide() {
    let mut org = Org::new(TZ);
    org.grant(
        Subject::Group(org.staff),
        Target::Space(org.building),
        office_hours(0),
    );
    org.grant(
        Subject::Person(org.alice),
        Target::DeviceGroup(org.doors),
        always(),
    );
    org.grant(
        Subject::Person(org.carol),
        Target::Lock(org.room_door),
        always(),
    );
    org.grant(
        Subject::Person(org.alice),
        Target::Lock(org.broken_door),
        always(),
    );
    let model = org.build();
    let people = [org.alice, org.bob, org.carol, org.gus, org.dora];
    let locks = [org.room_door, org.floor_door, org.garage, org.broken_door];
    for at in [local(TZ, TUESDAY, 10, 0), local(TZ, TUESDAY, 20, 0)] {
        for lock in locks {
            let who = model.who_can_open(lock, at).unwrap();
            for person in people {
                let decision = model.decide(person, lock, at);
                let listed = who.iter().find(|w| w.person == person);
                match (&decision, listed) {
                    (Decision::Allowed { because }, Some(entry)) => {
                        assert_eq!(because, &entry.because)
                    }
                    (Decision::Denied { .. }, None) => {}
                    other => {
                        panic!("who_can_open disagrees with decide for {person} {lock}: {other:?}")
                    }
                }
            }
        }
        for person in people {
            let what = model.what_can_open(person, at).unwrap();
            for lock in locks {
                let decision = model.decide(person, lock, at);
                let listed = what.iter().find(|w| w.lock == lock);
                match (&decision, listed) {
                    (Decision::Allowed { because }, Some(entry)) => {
                        assert_eq!(because, &entry.because)
                    }
                    (Decision::Denied { .. }, None) => {}
                    other => {
                        panic!("what_can_open disagrees with decide for {person} {lock}: {other:?}")
                    }
                }
            }
        }
    }
    let at = local(TZ, TUESDAY, 10, 0);
    let who: Vec<AccountId> = model
        .who_can_open(org.room_door, at)
        .unwrap()
        .iter()
        .map(|w| w.person)
        .collect();
    assert_eq!(who, vec![org.alice, org.bob, org.dora]);
    let who_night: Vec<AccountId> = model
        .who_can_open(org.room_door, local(TZ, TUESDAY, 20, 0))
        .unwrap()
        .iter()
        .map(|w| w.person)
        .collect();
    assert_eq!(who_night, vec![org.alice]);
    assert_eq!(
        model.who_can_open(id(999), at),
        Err(QueryError::UnknownLock(id(999)))
    );
}

#[test]
fn what_changes_if_lists_losers_and_keepers() {
    let mut org = Org::new(TZ);
    let staff_grant = org.grant(
        Subject::Group(org.staff),
        Target::Space(org.building),
        office_hours(0),
    );
    org.grant(
        Subject::Person(org.dora),
        Target::Lock(org.room_door),
        always(),
    );
    let model = org.build();
    let at = local(TZ, TUESDAY, 10, 0);
    let impact = model
        .what_changes_if(Removal::Grant { grant: staff_grant }, at)
        .unwrap();
    let pair = |person, lock| AccessPair { person, lock };
    let mut lose = vec![
        pair(org.bob, org.room_door),
        pair(org.bob, org.floor_door),
        pair(org.dora, org.floor_door),
    ];
    lose.sort();
    assert_eq!(impact.lose, lose);
    assert_eq!(impact.keep, vec![pair(org.dora, org.room_door)]);

    let impact = model
        .what_changes_if(
            Removal::Membership {
                group: org.staff,
                person: org.dora,
            },
            at,
        )
        .unwrap();
    assert_eq!(impact.lose, vec![pair(org.dora, org.floor_door)]);
    assert_eq!(impact.keep, vec![pair(org.dora, org.room_door)]);
    // Outside the window nothing is reached, so nothing changes now.
    let night = model
        .what_changes_if(
            Removal::Grant { grant: staff_grant },
            local(TZ, TUESDAY, 20, 0),
        )
        .unwrap();
    assert!(night.lose.is_empty() && night.keep.is_empty());
    assert!(
        model
            .what_changes_if(Removal::Grant { grant: id(4242) }, at)
            .is_err()
    );
}

#[test]
fn removing_a_sharer_from_the_group_ends_their_shares() {
    let mut org = Org::new(TZ);
    let parent = org.grant_with(
        Subject::Group(org.staff),
        Target::Space(org.building),
        Rights::UNLOCK | Rights::SHARE,
        always(),
        |_| {},
    );
    org.grant_with(
        Subject::Person(org.gus),
        Target::Lock(org.room_door),
        Rights::UNLOCK,
        always(),
        move |g| {
            g.delegation = Some(Delegation {
                parent,
                shared_by: org.dora,
            });
        },
    );
    let model = org.build();
    let at = utc("2026-11-10T10:00:00Z");
    assert!(model.decide(org.gus, org.room_door, at).is_allowed());
    let impact = model
        .what_changes_if(
            Removal::Membership {
                group: org.staff,
                person: org.dora,
            },
            at,
        )
        .unwrap();
    assert!(impact.lose.contains(&AccessPair {
        person: org.gus,
        lock: org.room_door
    }));
    assert!(impact.lose.contains(&AccessPair {
        person: org.dora,
        lock: org.room_door
    }));
    assert!(!impact.lose.iter().any(|p| p.person == org.bob));
    // A share from a grant Dora holds directly is untouched by her leaving the group.
    let mut direct = Org::new(TZ);
    let own = direct.grant_with(
        Subject::Person(direct.dora),
        Target::Space(direct.building),
        Rights::UNLOCK | Rights::SHARE,
        always(),
        |_| {},
    );
    let dora = direct.dora;
    direct.grant_with(
        Subject::Person(direct.gus),
        Target::Lock(direct.room_door),
        Rights::UNLOCK,
        always(),
        move |g| {
            g.delegation = Some(Delegation {
                parent: own,
                shared_by: dora,
            })
        },
    );
    let model = direct.build();
    let impact = model
        .what_changes_if(
            Removal::Membership {
                group: direct.staff,
                person: direct.dora,
            },
            at,
        )
        .unwrap();
    assert_eq!(impact, Impact::default());
}

#[test]
fn references_are_validated() {
    let mut org = Org::new(TZ);
    org.grant(Subject::Person(org.alice), Target::Space(id(777)), always());
    let err = org.builder.clone().build().unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::Unknown {
                field: "target",
                ..
            }
        ),
        "{err:?}"
    );
    let domain: crate::DomainError = err.into();
    assert_eq!(domain.code, crate::ErrorCode::InvalidField);
    assert_eq!(domain.field, Some("target"));

    let mut org = Org::new(TZ);
    org.grant(
        Subject::Group(id(778)),
        Target::Lock(org.room_door),
        always(),
    );
    assert!(matches!(
        org.builder.clone().build(),
        Err(ModelError::Unknown {
            field: "subject",
            ..
        })
    ));

    let mut org = Org::new(TZ);
    org.builder.person(PersonSpec {
        id: org.alice,
        enabled: true,
        expires_at_ms: None,
    });
    assert!(matches!(
        org.builder.clone().build(),
        Err(ModelError::Duplicate { kind: "person", .. })
    ));

    let mut org = Org::new(TZ);
    org.builder.space(SpaceSpec {
        id: id(14),
        site: org.site,
        parent: Some(id(15)),
    });
    org.builder.space(SpaceSpec {
        id: id(15),
        site: org.site,
        parent: Some(id(14)),
    });
    assert!(matches!(
        org.builder.clone().build(),
        Err(ModelError::SpaceCycle { .. })
    ));

    let mut org = Org::new("Mars/Olympus_Mons");
    org.grant(
        Subject::Person(org.alice),
        Target::Lock(org.room_door),
        always(),
    );
    assert!(matches!(
        org.builder.clone().build(),
        Err(ModelError::UnknownTimeZone { .. })
    ));

    let mut org = Org::new(TZ);
    org.builder.site(SiteSpec {
        id: id(2),
        time_zone: "Asia/Tokyo".into(),
        holidays: vec![],
    });
    org.builder.space(SpaceSpec {
        id: id(16),
        site: id(2),
        parent: Some(org.building),
    });
    assert!(matches!(
        org.builder.clone().build(),
        Err(ModelError::SpaceSiteMismatch { .. })
    ));

    let mut org = Org::new(TZ);
    org.grant_with(
        Subject::Person(org.alice),
        Target::Lock(org.room_door),
        Rights::UNLOCK,
        always(),
        move |g| {
            g.delegation = Some(Delegation {
                parent: id(1001),
                shared_by: org.alice,
            });
        },
    );
    assert!(matches!(
        org.builder.clone().build(),
        Err(ModelError::DelegationChain { .. })
    ));

    let mut org = Org::new(TZ);
    org.builder.lock(LockSpec {
        id: id(24),
        space: id(779),
        enabled: true,
        device_groups: vec![],
    });
    assert!(matches!(
        org.builder.clone().build(),
        Err(ModelError::Unknown { field: "space", .. })
    ));
}

#[test]
fn delegation_chain_is_intersected_and_revocation_cascades() {
    let mut org = Org::new(TZ);
    let parent = org.grant_with(
        Subject::Person(org.alice),
        Target::Space(org.building),
        Rights::UNLOCK | Rights::SHARE,
        office_hours(0),
        move |g| {
            g.reshare_depth = 1;
        },
    );
    let child = org.grant_with(
        Subject::Person(org.bob),
        Target::Space(org.floor),
        Rights::UNLOCK | Rights::SHARE,
        always(),
        move |g| {
            g.delegation = Some(Delegation {
                parent,
                shared_by: org.alice,
            });
        },
    );
    let grandchild = org.grant_with(
        Subject::Person(org.dora),
        Target::Lock(org.room_door),
        Rights::UNLOCK,
        always(),
        move |g| {
            g.delegation = Some(Delegation {
                parent: child,
                shared_by: org.bob,
            });
        },
    );
    let model = org.build();
    // The child says "always", the parent only office hours: the child allows office hours only.
    let day = local(TZ, TUESDAY, 10, 0);
    let night = local(TZ, TUESDAY, 20, 0);
    assert_eq!(
        reasons(&model.decide(org.bob, org.floor_door, day)),
        vec![Reason {
            grant: child,
            subject: SubjectPath::Direct,
            target: TargetPath::Space(org.floor),
            delegated_from: Some(parent)
        }]
    );
    assert_eq!(
        denial(&model.decide(org.bob, org.floor_door, night)),
        Denial::OutsideWindow
    );
    assert!(model.decide(org.dora, org.room_door, day).is_allowed());
    assert_eq!(model.descendants(parent).unwrap(), vec![child, grandchild]);
    assert_eq!(model.ancestors(grandchild).unwrap(), vec![child, parent]);
    let tree = model.delegation_tree(parent).unwrap();
    let shape: Vec<(GrantId, Option<GrantId>, u8)> =
        tree.iter().map(|n| (n.grant, n.parent, n.depth)).collect();
    assert_eq!(
        shape,
        vec![
            (parent, None, 0),
            (child, Some(parent), 1),
            (grandchild, Some(child), 2)
        ]
    );

    // Revoking the parent revokes everything derived from it.
    let mut revoked = Org::new(TZ);
    let p = revoked.grant_with(
        Subject::Person(revoked.alice),
        Target::Space(revoked.building),
        Rights::UNLOCK | Rights::SHARE,
        always(),
        move |g| {
            g.revoked = true;
            g.reshare_depth = 1;
        },
    );
    let c = revoked.grant_with(
        Subject::Person(revoked.bob),
        Target::Space(revoked.floor),
        Rights::UNLOCK | Rights::SHARE,
        always(),
        move |g| {
            g.delegation = Some(Delegation {
                parent: p,
                shared_by: revoked.alice,
            });
        },
    );
    revoked.grant_with(
        Subject::Person(revoked.dora),
        Target::Lock(revoked.room_door),
        Rights::UNLOCK,
        always(),
        move |g| {
            g.delegation = Some(Delegation {
                parent: c,
                shared_by: revoked.bob,
            });
        },
    );
    let model = revoked.build();
    let Decision::Denied {
        reason,
        near_misses,
    } = model.decide(revoked.dora, revoked.room_door, day)
    else {
        panic!()
    };
    assert_eq!(reason, Denial::Revoked);
    assert_eq!(near_misses[0].refused_by, p);
    // Uses on an ancestor cap the descendants too.
    let mut capped = Org::new(TZ);
    let p = capped.grant_with(
        Subject::Person(capped.alice),
        Target::Lock(capped.room_door),
        Rights::UNLOCK | Rights::SHARE,
        Schedule::new(
            ScheduleSpec::starting(0)
                .window(Weekdays::ALL, wt("00:00"), wt("24:00"))
                .max_uses(5),
        )
        .unwrap(),
        |g| g.uses = 5,
    );
    capped.grant_with(
        Subject::Person(capped.bob),
        Target::Lock(capped.room_door),
        Rights::UNLOCK,
        always(),
        move |g| {
            g.delegation = Some(Delegation {
                parent: p,
                shared_by: capped.alice,
            });
        },
    );
    let model = capped.build();
    assert_eq!(
        denial(&model.decide(capped.bob, capped.room_door, day)),
        Denial::UsesExhausted
    );
}

#[test]
fn check_derived_refuses_visibly_wider_requests() {
    let mut org = Org::new(TZ);
    let from = utc("2026-11-01T00:00:00Z");
    let until = utc("2026-12-31T00:00:00Z");
    let parent_schedule = Schedule::new(
        ScheduleSpec::starting(from)
            .until(until)
            .window(Weekdays::WORKDAYS, wt("08:00"), wt("20:00"))
            .max_uses(10),
    )
    .unwrap();
    let parent = org.grant_with(
        Subject::Group(org.staff),
        Target::Space(org.floor),
        Rights::UNLOCK | Rights::SHARE,
        parent_schedule,
        move |g| {
            g.uses = 4;
            g.max_share_duration_ms = Some(7 * 86_400_000);
        },
    );
    let no_share = org.grant(
        Subject::Person(org.alice),
        Target::Space(org.floor),
        always(),
    );
    let model = org.build();
    let good_schedule = || {
        Schedule::new(
            ScheduleSpec::starting(from)
                .until(from + 86_400_000)
                .window(Weekdays::day(1), wt("09:00"), wt("12:00"))
                .max_uses(6),
        )
        .unwrap()
    };
    let proposal = |target, rights, schedule: Schedule, parent_id| {
        GrantSpec::new(id(5000), Subject::Person(org.gus), target, rights, schedule)
            .derived_from(parent_id, org.bob)
    };
    let ok = proposal(
        Target::Lock(org.room_door),
        Rights::UNLOCK,
        good_schedule(),
        parent,
    );
    assert_eq!(model.check_derived(&ok), Ok(()));
    for target in [Target::Space(org.floor), Target::Space(org.room)] {
        let narrower = proposal(target, Rights::UNLOCK, good_schedule(), parent);
        assert_eq!(model.check_derived(&narrower), Ok(()), "{target:?}");
    }

    let cases: Vec<(GrantSpec, DelegationError)> = vec![
        (
            GrantSpec::new(
                id(5000),
                Subject::Person(org.gus),
                Target::Lock(org.room_door),
                Rights::UNLOCK,
                good_schedule(),
            ),
            DelegationError::NotDelegated,
        ),
        (
            proposal(
                Target::Lock(org.room_door),
                Rights::UNLOCK,
                good_schedule(),
                id(4444),
            ),
            DelegationError::UnknownParent { parent: id(4444) },
        ),
        (
            proposal(
                Target::Lock(org.room_door),
                Rights::UNLOCK,
                good_schedule(),
                parent,
            )
            .derived_from(parent, org.alice),
            DelegationError::NotHolder {
                sharer: org.alice,
                parent,
            },
        ),
        (
            proposal(
                Target::Lock(org.room_door),
                Rights::UNLOCK,
                good_schedule(),
                no_share,
            )
            .derived_from(no_share, org.alice),
            DelegationError::NoShareRight { parent: no_share },
        ),
        (
            proposal(
                Target::Lock(org.room_door),
                Rights::UNLOCK | Rights::MANAGE,
                good_schedule(),
                parent,
            ),
            DelegationError::RightsWider {
                requested: vec!["unlock", "manage"],
                allowed: vec!["unlock", "share"],
            },
        ),
        (
            proposal(
                Target::Lock(org.room_door),
                Rights::UNLOCK | Rights::SHARE,
                good_schedule(),
                parent,
            ),
            DelegationError::ReshareDepthExceeded { allowed: 0 },
        ),
        (
            proposal(
                Target::Lock(org.garage),
                Rights::UNLOCK,
                good_schedule(),
                parent,
            ),
            DelegationError::TargetOutside,
        ),
        (
            proposal(
                Target::Space(org.building),
                Rights::UNLOCK,
                good_schedule(),
                parent,
            ),
            DelegationError::TargetOutside,
        ),
        (
            proposal(
                Target::Lock(org.room_door),
                Rights::UNLOCK,
                Schedule::new(
                    ScheduleSpec::starting(from - 1)
                        .until(from + 1000)
                        .window(Weekdays::day(1), wt("09:00"), wt("12:00"))
                        .max_uses(1),
                )
                .unwrap(),
                parent,
            ),
            DelegationError::ValidityOutside,
        ),
        (
            proposal(
                Target::Lock(org.room_door),
                Rights::UNLOCK,
                Schedule::new(
                    ScheduleSpec::starting(from)
                        .until(from + 8 * 86_400_000)
                        .window(Weekdays::day(1), wt("09:00"), wt("12:00"))
                        .max_uses(1),
                )
                .unwrap(),
                parent,
            ),
            DelegationError::DurationTooLong {
                max_ms: 7 * 86_400_000,
            },
        ),
        (
            proposal(
                Target::Lock(org.room_door),
                Rights::UNLOCK,
                Schedule::new(
                    ScheduleSpec::starting(from)
                        .until(from + 1000)
                        .window(Weekdays::day(1), wt("09:00"), wt("12:00"))
                        .max_uses(7),
                )
                .unwrap(),
                parent,
            ),
            DelegationError::UsesTooMany { remaining: 6 },
        ),
        (
            proposal(
                Target::Lock(org.room_door),
                Rights::UNLOCK,
                Schedule::new(
                    ScheduleSpec::starting(from)
                        .until(from + 1000)
                        .window(Weekdays::day(5), wt("09:00"), wt("12:00"))
                        .max_uses(1),
                )
                .unwrap(),
                parent,
            ),
            DelegationError::WindowsWider,
        ),
        (
            proposal(
                Target::Lock(org.room_door),
                Rights::UNLOCK,
                Schedule::new(
                    ScheduleSpec::starting(from)
                        .until(from + 1000)
                        .window(Weekdays::day(1), wt("19:00"), wt("21:00"))
                        .max_uses(1),
                )
                .unwrap(),
                parent,
            ),
            DelegationError::WindowsWider,
        ),
    ];
    for (proposed, expected) in cases {
        assert_eq!(
            model.check_derived(&proposed),
            Err(expected.clone()),
            "{expected:?}"
        );
        let domain: crate::DomainError = expected.into();
        assert!(domain.code.http_status() == 422, "{domain:?}");
    }
}

#[test]
fn grant_specs_and_decisions_serialize_for_the_api() {
    let spec = GrantSpec::new(
        id(1001),
        Subject::Group(id(40)),
        Target::Space(id(11)),
        Rights::UNLOCK | Rights::SHARE,
        office_hours(0),
    )
    .derived_from(id(1000), id(50));
    let json = serde_json::to_value(&spec).unwrap();
    assert_eq!(json["subject"]["kind"], "group");
    assert_eq!(json["target"]["kind"], "space");
    assert_eq!(json["rights"], serde_json::json!(["unlock", "share"]));
    let back: GrantSpec = serde_json::from_value(json).unwrap();
    assert_eq!(back, spec);

    let mut org = Org::new(TZ);
    let grant = org.grant(
        Subject::Group(org.staff),
        Target::Space(org.building),
        office_hours(0),
    );
    let model = org.build();
    let allowed =
        serde_json::to_value(model.decide(org.bob, org.room_door, local(TZ, TUESDAY, 10, 0)))
            .unwrap();
    assert_eq!(allowed["decision"], "allowed");
    assert_eq!(allowed["because"][0]["grant"], grant.to_string());
    assert_eq!(allowed["because"][0]["subject"]["kind"], "group");
    let denied =
        serde_json::to_value(model.decide(org.bob, org.room_door, local(TZ, TUESDAY, 20, 0)))
            .unwrap();
    assert_eq!(denied["decision"], "denied");
    assert_eq!(denied["reason"], "outside_window");
    assert_eq!(denied["near_misses"][0]["refusal"], "outside_window");
}
