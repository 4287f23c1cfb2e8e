//! The generated organisation, shared by both engines, and the schedule templates both express.

use jiff::tz::TimeZone;
use latchkey_domain::access::{
    AccessModel, AccessModelBuilder, GrantSpec, LockSpec, PersonSpec, Rights, Schedule,
    ScheduleSpec, SiteSpec, SpaceSpec, Subject, Target, WallTime, Weekdays,
};
use latchkey_domain::ids::{
    AccountId, DeviceGroupId, DeviceId, GrantId, GroupId, Id, SiteId, SpaceId,
};
use uuid::Uuid;

use crate::rng::Rng;

pub const PEOPLE: usize = 100_000;
pub const GROUPS: usize = 10_000;
pub const SITES: usize = 20;
pub const BUILDINGS_PER_SITE: usize = 5;
pub const FLOORS_PER_BUILDING: usize = 5;
pub const ROOMS_PER_FLOOR: usize = 4;
pub const LOCKS: usize = 10_000;
pub const DEVICE_GROUPS: usize = 500;
pub const GRANTS: usize = 1_000_000;
pub const TEMPLATES: usize = 8;

const ZONES: [&str; 5] = [
    "Europe/Berlin",
    "America/New_York",
    "Asia/Tokyo",
    "Australia/Lord_Howe",
    "Europe/London",
];

pub fn ms(rfc3339: &str) -> i64 {
    rfc3339
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .unwrap_or(0)
}

pub fn y2026() -> i64 {
    ms("2026-01-01T00:00:00Z")
}
pub fn y2026_mid() -> i64 {
    ms("2026-07-01T00:00:00Z")
}
pub fn y2027() -> i64 {
    ms("2027-01-01T00:00:00Z")
}
fn sample_end() -> i64 {
    ms("2027-03-01T00:00:00Z")
}

fn t(h: u8, m: u8) -> WallTime {
    WallTime::hm(h, m).unwrap_or(WallTime::MIDNIGHT)
}

/// The eight schedule templates. Cedar policies in `cedar_model.rs` express exactly these.
pub fn template_schedule(k: usize) -> Schedule {
    let office = |spec: ScheduleSpec| spec.window(Weekdays::WORKDAYS, t(8, 0), t(19, 0));
    let spec = match k {
        0 => ScheduleSpec::starting(0).window(
            Weekdays::ALL,
            WallTime::MIDNIGHT,
            WallTime::END_OF_DAY,
        ),
        1 => office(ScheduleSpec::starting(0)),
        2 => ScheduleSpec::starting(0).window(Weekdays::WORKDAYS, t(6, 0), t(12, 0)),
        3 => ScheduleSpec::starting(0).window(Weekdays::WORKDAYS, t(22, 0), t(6, 0)),
        4 => ScheduleSpec::starting(0).window(Weekdays::WEEKEND, t(9, 0), t(17, 0)),
        5 => ScheduleSpec::starting(y2026()).until(y2027()).window(
            Weekdays::ALL,
            WallTime::MIDNIGHT,
            WallTime::END_OF_DAY,
        ),
        6 => office(ScheduleSpec::starting(0).until(y2026_mid())),
        _ => office(ScheduleSpec::starting(y2027())),
    };
    Schedule::new(spec).unwrap_or_else(|e| panic!("template {k}: {e}"))
}

#[derive(Clone, Copy)]
pub enum Subj {
    Person(usize),
    Group(usize),
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tgt {
    Lock(usize),
    Space(usize),
    DeviceGroup(usize),
}

pub struct Person {
    pub id: AccountId,
    pub enabled: bool,
    pub expires_at_ms: Option<i64>,
    pub groups: Vec<usize>,
}

pub struct SpaceRow {
    pub id: SpaceId,
    pub site: usize,
    pub parent: Option<usize>,
}

pub struct LockRow {
    pub id: DeviceId,
    pub space: usize,
    pub enabled: bool,
    pub device_groups: Vec<usize>,
}

pub struct GrantRow {
    pub id: GrantId,
    pub subject: Subj,
    pub target: Tgt,
    pub template: usize,
}

pub struct Org {
    pub sites: Vec<(SiteId, &'static str)>,
    pub spaces: Vec<SpaceRow>,
    pub locks: Vec<LockRow>,
    pub device_groups: Vec<DeviceGroupId>,
    pub groups: Vec<GroupId>,
    pub people: Vec<Person>,
    pub grants: Vec<GrantRow>,
    pub noon_ms: i64,
    /// Locks under each space (itself and below), for sampling and Cedar's access sets.
    pub space_locks: Vec<Vec<usize>>,
    pub device_group_locks: Vec<Vec<usize>>,
    /// Grants per person / per group, for sampling reachable locks.
    pub person_grants: Vec<Vec<usize>>,
    pub group_grants: Vec<Vec<usize>>,
    /// `0..LOCKS`, so `locks_of` can hand out a one-lock slice.
    pub lock_indexes: Vec<usize>,
}

pub struct Sample {
    pub person: usize,
    pub lock: usize,
    pub at_ms: i64,
}

fn id<K>(kind: u128, n: usize) -> Id<K> {
    Id::from_uuid(Uuid::from_u128(
        (0x0192_0000_0000_7000_8000_0000_0000_0000 | (kind << 40)) + n as u128,
    ))
}

impl Org {
    pub fn generate(seed: u64) -> Org {
        let mut rng = Rng::new(seed);
        let sites: Vec<(SiteId, &'static str)> = (0..SITES)
            .map(|i| (id(1, i), ZONES[i % ZONES.len()]))
            .collect();
        let mut spaces = Vec::new();
        let mut rooms = Vec::new();
        let mut floors = Vec::new();
        let mut buildings = Vec::new();
        for site in 0..SITES {
            for _ in 0..BUILDINGS_PER_SITE {
                let building = spaces.len();
                buildings.push(building);
                spaces.push(SpaceRow {
                    id: id(2, spaces.len()),
                    site,
                    parent: None,
                });
                for _ in 0..FLOORS_PER_BUILDING {
                    let floor = spaces.len();
                    floors.push(floor);
                    spaces.push(SpaceRow {
                        id: id(2, spaces.len()),
                        site,
                        parent: Some(building),
                    });
                    for _ in 0..ROOMS_PER_FLOOR {
                        rooms.push(spaces.len());
                        spaces.push(SpaceRow {
                            id: id(2, spaces.len()),
                            site,
                            parent: Some(floor),
                        });
                    }
                }
            }
        }
        println!("  {} spaces", spaces.len());
        let device_groups: Vec<DeviceGroupId> = (0..DEVICE_GROUPS).map(|i| id(3, i)).collect();
        let mut device_group_locks = vec![Vec::new(); DEVICE_GROUPS];
        let mut space_locks = vec![Vec::new(); spaces.len()];
        let mut locks = Vec::with_capacity(LOCKS);
        for l in 0..LOCKS {
            let space = if rng.chance(80) {
                rooms[rng.below(rooms.len())]
            } else {
                floors[rng.below(floors.len())]
            };
            let mut dgs: Vec<usize> = (0..rng.below(3))
                .map(|_| rng.below(DEVICE_GROUPS))
                .collect();
            dgs.sort_unstable();
            dgs.dedup();
            for dg in &dgs {
                device_group_locks[*dg].push(l);
            }
            let mut cursor = Some(space);
            while let Some(s) = cursor {
                space_locks[s].push(l);
                cursor = spaces[s].parent;
            }
            locks.push(LockRow {
                id: id(4, l),
                space,
                enabled: !rng.chance(1),
                device_groups: dgs,
            });
        }
        println!("  {} locks", locks.len());
        let groups: Vec<GroupId> = (0..GROUPS).map(|i| id(5, i)).collect();
        let noon_ms = ms("2026-11-24T03:00:00Z");
        let mut people = Vec::with_capacity(PEOPLE);
        for p in 0..PEOPLE {
            let mut member_of: Vec<usize> = (0..rng.below(4)).map(|_| rng.below(GROUPS)).collect();
            member_of.sort_unstable();
            member_of.dedup();
            let expires_at_ms = if rng.chance(2) {
                Some(y2026() + (rng.next() % (sample_end() - y2026()) as u64) as i64)
            } else {
                None
            };
            people.push(Person {
                id: id(6, p),
                enabled: !rng.chance(1),
                expires_at_ms,
                groups: member_of,
            });
        }
        println!("  {} people", people.len());
        let mut grants = Vec::with_capacity(GRANTS);
        let mut person_grants = vec![Vec::new(); PEOPLE];
        let mut group_grants = vec![Vec::new(); GROUPS];
        for g in 0..GRANTS {
            let subject = if rng.chance(70) {
                Subj::Person(rng.below(PEOPLE))
            } else {
                Subj::Group(rng.below(GROUPS))
            };
            let roll = rng.below(100);
            let target = if roll < 55 {
                Tgt::Lock(rng.below(LOCKS))
            } else if roll < 90 {
                // Buildings rarely, floors sometimes, rooms mostly.
                let candidates = match rng.below(10) {
                    0 => &buildings,
                    1..=3 => &floors,
                    _ => &rooms,
                };
                Tgt::Space(candidates[rng.below(candidates.len())])
            } else {
                Tgt::DeviceGroup(rng.below(DEVICE_GROUPS))
            };
            let template = rng.below(TEMPLATES);
            match subject {
                Subj::Person(p) => person_grants[p].push(g),
                Subj::Group(gr) => group_grants[gr].push(g),
            }
            grants.push(GrantRow {
                id: id(7, g),
                subject,
                target,
                template,
            });
            if (g + 1) % 250_000 == 0 {
                println!("  {} grants", g + 1);
            }
        }
        Org {
            sites,
            spaces,
            locks,
            device_groups,
            groups,
            people,
            grants,
            noon_ms,
            space_locks,
            device_group_locks,
            person_grants,
            group_grants,
            lock_indexes: (0..LOCKS).collect(),
        }
    }

    pub fn build_model(&self) -> AccessModel {
        let templates: Vec<Schedule> = (0..TEMPLATES).map(template_schedule).collect();
        let mut b = AccessModelBuilder::new();
        for (id, tz) in &self.sites {
            b.site(SiteSpec {
                id: *id,
                time_zone: (*tz).to_owned(),
                holidays: Vec::new(),
            });
        }
        for space in &self.spaces {
            b.space(SpaceSpec {
                id: space.id,
                site: self.sites[space.site].0,
                parent: space.parent.map(|p| self.spaces[p].id),
            });
        }
        for dg in &self.device_groups {
            b.device_group(*dg);
        }
        for lock in &self.locks {
            b.lock(LockSpec {
                id: lock.id,
                space: self.spaces[lock.space].id,
                enabled: lock.enabled,
                device_groups: lock
                    .device_groups
                    .iter()
                    .map(|d| self.device_groups[*d])
                    .collect(),
            });
        }
        for group in &self.groups {
            b.group(*group);
        }
        for person in &self.people {
            b.person(PersonSpec {
                id: person.id,
                enabled: person.enabled,
                expires_at_ms: person.expires_at_ms,
            });
            for g in &person.groups {
                b.member(self.groups[*g], person.id);
            }
        }
        b.reserve_grants(self.grants.len());
        for grant in &self.grants {
            let subject = match grant.subject {
                Subj::Person(p) => Subject::Person(self.people[p].id),
                Subj::Group(g) => Subject::Group(self.groups[g]),
            };
            let target = match grant.target {
                Tgt::Lock(l) => Target::Lock(self.locks[l].id),
                Tgt::Space(s) => Target::Space(self.spaces[s].id),
                Tgt::DeviceGroup(d) => Target::DeviceGroup(self.device_groups[d]),
            };
            b.grant(GrantSpec::new(
                grant.id,
                subject,
                target,
                Rights::UNLOCK,
                templates[grant.template].clone(),
            ));
        }
        b.build()
            .unwrap_or_else(|e| panic!("generated organisation is invalid: {e}"))
    }

    pub fn locks_of(&self, target: Tgt) -> &[usize] {
        match target {
            Tgt::Lock(l) => std::slice::from_ref(&self.lock_indexes[l]),
            Tgt::Space(s) => &self.space_locks[s],
            Tgt::DeviceGroup(d) => &self.device_group_locks[d],
        }
    }

    /// Half the samples pick a lock one of the person's grants reaches (so explanations and the
    /// allowed path are exercised), half a lock at random.
    pub fn samples(&self, seed: u64, n: usize) -> Vec<Sample> {
        let mut rng = Rng::new(seed);
        let span = (sample_end() - y2026()) as u64;
        (0..n)
            .map(|_| {
                let person = rng.below(PEOPLE);
                let at_ms = y2026() + (rng.next() % span) as i64;
                let mut reachable: Vec<usize> = self.person_grants[person].clone();
                for g in &self.people[person].groups {
                    reachable.extend(&self.group_grants[*g]);
                }
                let lock = if !reachable.is_empty() && rng.chance(50) {
                    let grant = &self.grants[reachable[rng.below(reachable.len())]];
                    let locks = self.locks_of(grant.target);
                    if locks.is_empty() {
                        rng.below(LOCKS)
                    } else {
                        locks[rng.below(locks.len())]
                    }
                } else {
                    rng.below(LOCKS)
                };
                Sample {
                    person,
                    lock,
                    at_ms,
                }
            })
            .collect()
    }

    pub fn who_can_open_locks(&self, seed: u64, n: usize) -> Vec<usize> {
        let mut rng = Rng::new(seed);
        (0..n).map(|_| rng.below(LOCKS)).collect()
    }

    /// The lock reached by the most grants (directly, through spaces or device groups).
    pub fn busiest_lock(&self) -> usize {
        let mut reach = vec![0usize; LOCKS];
        for grant in &self.grants {
            for l in self.locks_of(grant.target) {
                reach[*l] += 1;
            }
        }
        reach
            .iter()
            .enumerate()
            .max_by_key(|(_, n)| **n)
            .map(|(l, _)| l)
            .unwrap_or(0)
    }

    pub fn lock_time_zone(&self, lock: usize) -> TimeZone {
        let site = self.spaces[self.locks[lock].space].site;
        TimeZone::get(self.sites[site].1).unwrap_or(TimeZone::UTC)
    }
}
