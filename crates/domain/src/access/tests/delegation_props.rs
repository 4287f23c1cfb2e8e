//! Property: a derived grant never allows more than its parent — for random parents and
//! children (including children that ask for more than the parent has, which `check_derived`
//! would refuse but the evaluation must contain anyway), every (lock, minute) the child allows,
//! the parent allows too; likewise for a grandchild.

use proptest::prelude::*;

use super::prop_windows::{Rng, ZONES, random_schedule, random_target};
use super::*;
use crate::access::interval::intersect_sets;

const MINUTE: i64 = 60_000;
const DAY: i64 = 86_400_000;

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn derived_grants_never_exceed_their_parent(seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        let (tz, anchors) = ZONES[usize::try_from(rng.below(4)).unwrap()];
        let from = (utc(rng.pick(anchors)) - rng.range(0, 24 * 60) * MINUTE) / MINUTE * MINUTE;
        let to = from + DAY + DAY / 2;
        let mut org = Org::new(tz);
        let (eve, fred): (AccountId, AccountId) = (id(60), id(61));
        for person in [eve, fred] {
            org.builder.person(PersonSpec { id: person, enabled: true, expires_at_ms: None });
        }
        // Parent held by alice alone (directly or as the only member of a group).
        let solo: GroupId = id(41);
        org.builder.group(solo);
        org.builder.member(solo, org.alice);
        let parent_subject = rng.pick(&[Subject::Person(org.alice), Subject::Group(solo)]);
        let parent_target = random_target(&mut rng, &org);
        let parent_schedule = random_schedule(&mut rng, tz, from, to);
        let parent_revoked = rng.chance(5);
        let parent = org.grant_with(parent_subject, parent_target, Rights::UNLOCK | Rights::SHARE, parent_schedule, move |g| {
            g.reshare_depth = 1;
            g.revoked = parent_revoked;
        });
        let sharer = if rng.chance(90) { org.alice } else { org.bob };
        let child_target = random_target(&mut rng, &org);
        let child_schedule = if rng.chance(30) { Schedule::always(0, None).unwrap() } else { random_schedule(&mut rng, tz, from, to) };
        let child = org.grant_with(Subject::Person(eve), child_target, Rights::UNLOCK | Rights::SHARE, child_schedule, move |g| {
            g.delegation = Some(Delegation { parent, shared_by: sharer });
        });
        let grandchild_target = random_target(&mut rng, &org);
        let grandchild_schedule = if rng.chance(30) { Schedule::always(0, None).unwrap() } else { random_schedule(&mut rng, tz, from, to) };
        org.grant_with(Subject::Person(fred), grandchild_target, Rights::UNLOCK, grandchild_schedule, move |g| {
            g.delegation = Some(Delegation { parent: child, shared_by: eve });
        });
        let model = org.build();
        for lock in [org.room_door, org.floor_door, org.garage] {
            let mut at = from;
            while at < to {
                let parent_allows = model.decide(org.alice, lock, at).is_allowed();
                let child_allows = model.decide(eve, lock, at).is_allowed();
                let grandchild_allows = model.decide(fred, lock, at).is_allowed();
                prop_assert!(!child_allows || parent_allows, "child wider than parent on {} at {}", lock, crate::time::rfc3339_utc(at));
                prop_assert!(!grandchild_allows || child_allows, "grandchild wider than child on {} at {}", lock, crate::time::rfc3339_utc(at));
                at += MINUTE;
            }
            let parent_windows = model.access_windows(org.alice, lock, from, to).unwrap();
            let child_windows = model.access_windows(eve, lock, from, to).unwrap();
            prop_assert_eq!(intersect_sets(&child_windows, &parent_windows), child_windows);
        }
    }
}
