//! Tests of the access decision core: unit tests per rule (denials, DST, caps, merging,
//! references, delegation, queries) and property tests against a naive evaluation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod delegation_props;
mod dst;
mod example;
mod extremes;
mod prop_windows;
mod rules;
mod schedules;

use jiff::civil::{Date, date};
use jiff::tz::TimeZone;
use uuid::Uuid;

use super::*;
use crate::ids::{AccountId, DeviceGroupId, DeviceId, GrantId, GroupId, SiteId, SpaceId};

/// Deterministic ids so failures read the same on every run.
pub(super) fn id<K>(n: u128) -> crate::ids::Id<K> {
    crate::ids::Id::from_uuid(Uuid::from_u128(
        0x0192_0000_0000_7000_8000_0000_0000_0000 | n,
    ))
}

/// UTC epoch ms of an RFC 3339 instant.
pub(super) fn utc(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

/// UTC epoch ms of an unambiguous local wall-clock time in `tz`.
pub(super) fn local(tz: &str, d: Date, hour: i8, minute: i8) -> i64 {
    d.at(hour, minute, 0, 0)
        .to_zoned(TimeZone::get(tz).unwrap())
        .unwrap()
        .timestamp()
        .as_millisecond()
}

pub(super) fn wt(text: &str) -> WallTime {
    text.parse().unwrap()
}

pub(super) fn always() -> Schedule {
    Schedule::always(0, None).unwrap()
}

pub(super) fn office_hours(from_ms: i64) -> Schedule {
    Schedule::new(ScheduleSpec::starting(from_ms).window(
        Weekdays::WORKDAYS,
        wt("09:00"),
        wt("18:00"),
    ))
    .unwrap()
}

/// A small organisation: site (tz) → building → floor → room; lock `room_door` in the room,
/// `floor_door` on the floor, `garage` in a second building; device group `doors` = room door +
/// garage. People: alice, bob (member of staff), carol (disabled), gus (guest expiring
/// 2026-12-01), and dora (member of staff too).
pub(super) struct Org {
    pub(super) builder: AccessModelBuilder,
    pub(super) site: SiteId,
    pub(super) building: SpaceId,
    pub(super) floor: SpaceId,
    pub(super) room: SpaceId,
    pub(super) annex: SpaceId,
    pub(super) room_door: DeviceId,
    pub(super) floor_door: DeviceId,
    pub(super) garage: DeviceId,
    pub(super) broken_door: DeviceId,
    pub(super) doors: DeviceGroupId,
    pub(super) staff: GroupId,
    pub(super) alice: AccountId,
    pub(super) bob: AccountId,
    pub(super) carol: AccountId,
    pub(super) gus: AccountId,
    pub(super) dora: AccountId,
    next_grant: u128,
}

pub(super) const GUEST_EXPIRY: &str = "2026-12-01T00:00:00Z";

impl Org {
    pub(super) fn new(tz: &str) -> Self {
        Self::with_holidays(tz, Vec::new())
    }

    pub(super) fn with_holidays(tz: &str, holidays: Vec<Date>) -> Self {
        let mut org = Org {
            builder: AccessModelBuilder::new(),
            site: id(1),
            building: id(10),
            floor: id(11),
            room: id(12),
            annex: id(13),
            room_door: id(20),
            floor_door: id(21),
            garage: id(22),
            broken_door: id(23),
            doors: id(30),
            staff: id(40),
            alice: id(50),
            bob: id(51),
            carol: id(52),
            gus: id(53),
            dora: id(54),
            next_grant: 1000,
        };
        let b = &mut org.builder;
        b.site(SiteSpec {
            id: org.site,
            time_zone: tz.to_owned(),
            holidays,
        });
        for (space, parent) in [
            (org.building, None),
            (org.floor, Some(org.building)),
            (org.room, Some(org.floor)),
            (org.annex, None),
        ] {
            b.space(SpaceSpec {
                id: space,
                site: org.site,
                parent,
            });
        }
        b.device_group(org.doors);
        for (lock, space, enabled, groups) in [
            (org.room_door, org.room, true, vec![org.doors]),
            (org.floor_door, org.floor, true, vec![]),
            (org.garage, org.annex, true, vec![org.doors]),
            (org.broken_door, org.room, false, vec![]),
        ] {
            b.lock(LockSpec {
                id: lock,
                space,
                enabled,
                device_groups: groups,
            });
        }
        for (person, enabled, expires) in [
            (org.alice, true, None),
            (org.bob, true, None),
            (org.carol, false, None),
            (org.gus, true, Some(utc(GUEST_EXPIRY))),
            (org.dora, true, None),
        ] {
            b.person(PersonSpec {
                id: person,
                enabled,
                expires_at_ms: expires,
            });
        }
        b.group(org.staff);
        b.member(org.staff, org.bob);
        b.member(org.staff, org.dora);
        org
    }

    /// Adds an unlock grant and returns its id.
    pub(super) fn grant(
        &mut self,
        subject: Subject,
        target: Target,
        schedule: Schedule,
    ) -> GrantId {
        self.grant_with(subject, target, Rights::UNLOCK, schedule, |_| {})
    }

    pub(super) fn grant_with(
        &mut self,
        subject: Subject,
        target: Target,
        rights: Rights,
        schedule: Schedule,
        tweak: impl FnOnce(&mut GrantSpec),
    ) -> GrantId {
        self.next_grant += 1;
        let grant_id: GrantId = id(self.next_grant);
        let mut spec = GrantSpec::new(grant_id, subject, target, rights, schedule);
        tweak(&mut spec);
        self.builder.grant(spec);
        grant_id
    }

    pub(super) fn build(&self) -> AccessModel {
        self.builder.clone().build().unwrap()
    }
}

/// 2026-12-01 is a Tuesday.
pub(super) const TUESDAY: Date = date(2026, 12, 1);
