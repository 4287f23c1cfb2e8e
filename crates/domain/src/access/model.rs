//! [`AccessModel`]: an in-memory, validated snapshot of one organisation's directory and grants,
//! indexed for the decision core. Built with [`AccessModelBuilder`], which checks every reference
//! (a grant naming an unknown space is an error, never a panic).

use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::calendar::{LocalClock, epoch_day};
use super::csr::Csr;
use super::fast_hash::FastMap;
use super::grant::{GrantSpec, Subject, Target};
use super::rights::Rights;
use super::schedule::Pattern;
use crate::error::DomainError;
use crate::ids::{AccountId, DeviceGroupId, DeviceId, GrantId, GroupId, SiteId, SpaceId};

/// Longest delegation chain (a grant, its parent, …): bounds the work of one decision.
pub const MAX_DELEGATION_DEPTH: usize = 8;

pub(crate) const NONE: u32 = u32::MAX;

/// A person of the organisation, as the decision core needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonSpec {
    /// The account.
    pub id: AccountId,
    /// Disabled accounts open nothing.
    pub enabled: bool,
    /// Guests: the account opens nothing from this instant on.
    #[serde(default)]
    pub expires_at_ms: Option<i64>,
}

/// A site: its time zone (IANA name) and holiday calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteSpec {
    /// The site.
    pub id: SiteId,
    /// IANA time zone name, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// Site-local holiday dates.
    #[serde(default)]
    pub holidays: Vec<Date>,
}

/// A space in a site's tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceSpec {
    /// The space.
    pub id: SpaceId,
    /// Its site (must equal the parent's site).
    pub site: SiteId,
    /// Its parent space; none for a top-level space of the site.
    pub parent: Option<SpaceId>,
}

/// A lock (device) placed in a space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockSpec {
    /// The device.
    pub id: DeviceId,
    /// The space it is placed in; its site's time zone reads the schedules.
    pub space: SpaceId,
    /// Disabled devices open for nobody.
    pub enabled: bool,
    /// Device groups it belongs to.
    #[serde(default)]
    pub device_groups: Vec<DeviceGroupId>,
}

/// The snapshot could not be built: a reference or a structural rule is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// Two objects of one kind share an id.
    #[error("duplicate {kind} {id}")]
    Duplicate {
        /// person, group, site, space, lock, device group or grant.
        kind: &'static str,
        /// The id.
        id: String,
    },
    /// An object names another that does not exist.
    #[error("{referrer} names unknown {field} {id}")]
    Unknown {
        /// The field holding the reference (e.g. `target`, `parent`).
        field: &'static str,
        /// The unknown id.
        id: String,
        /// What holds the reference (e.g. `grant 0192…`).
        referrer: String,
    },
    /// A site's time zone is not in the bundled tzdb.
    #[error("site {site}: unknown time zone {name:?}: use an IANA name such as Europe/Berlin")]
    UnknownTimeZone {
        /// The site.
        site: SiteId,
        /// The name given.
        name: String,
    },
    /// The space tree has a cycle.
    #[error("space {space} is its own ancestor (cycle in the space tree)")]
    SpaceCycle {
        /// A space on the cycle.
        space: SpaceId,
    },
    /// A space's parent belongs to another site.
    #[error("space {space} is on another site than its parent")]
    SpaceSiteMismatch {
        /// The space.
        space: SpaceId,
    },
    /// A delegation chain loops or is longer than [`MAX_DELEGATION_DEPTH`].
    #[error("grant {grant}: the delegation chain loops or is longer than {MAX_DELEGATION_DEPTH}")]
    DelegationChain {
        /// The grant.
        grant: GrantId,
    },
}

impl From<ModelError> for DomainError {
    fn from(error: ModelError) -> Self {
        let field = match &error {
            ModelError::Duplicate { .. } => "id",
            ModelError::Unknown { field, .. } => field,
            ModelError::UnknownTimeZone { .. } => "time_zone",
            ModelError::SpaceCycle { .. } | ModelError::SpaceSiteMismatch { .. } => "parent",
            ModelError::DelegationChain { .. } => "delegation",
        };
        DomainError::invalid(field, error.to_string())
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct PersonRec {
    pub(crate) id: AccountId,
    pub(crate) enabled: bool,
    pub(crate) expires_at_ms: i64,
}

impl PersonRec {
    pub(crate) fn active_at(&self, at_ms: i64) -> bool {
        self.enabled && at_ms < self.expires_at_ms
    }
}

#[derive(Debug, Clone)]
pub(crate) struct SiteRec {
    pub(crate) clock: LocalClock,
    pub(crate) holidays: Vec<i32>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct SpaceRec {
    pub(crate) id: SpaceId,
    pub(crate) site: u32,
    pub(crate) parent: u32,
    /// Pre-order number in the site forest; the subtree is `enter..exit`.
    pub(crate) enter: u32,
    pub(crate) exit: u32,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct LockRec {
    pub(crate) id: DeviceId,
    pub(crate) space: u32,
    pub(crate) site: u32,
    pub(crate) enabled: bool,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct GrantRec {
    pub(crate) id: GrantId,
    /// Person index, or `people.len() + group index`.
    pub(crate) subject: u32,
    /// Lock index, or `locks.len() + space index`, or `locks.len() + spaces.len() + device group index`.
    pub(crate) target: u32,
    pub(crate) rights: Rights,
    pub(crate) valid_from_ms: i64,
    pub(crate) valid_until_ms: i64,
    pub(crate) max_uses: Option<u32>,
    pub(crate) uses: u32,
    pub(crate) pattern: u32,
    pub(crate) parent: u32,
    pub(crate) shared_by: u32,
    pub(crate) reshare_depth: u8,
    pub(crate) depth: u8,
    pub(crate) max_share_duration_ms: Option<i64>,
    pub(crate) revoked: bool,
}

/// Which kind of target a dense target key stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TargetKey {
    Lock(u32),
    Space(u32),
    DeviceGroup(u32),
}

/// A validated, indexed snapshot of one organisation. Cheap to query, immutable; rebuild (or
/// build a new one) when the directory or grants change.
#[derive(Debug, Clone)]
pub struct AccessModel {
    pub(crate) people: Vec<PersonRec>,
    pub(crate) person_index: FastMap<AccountId, u32>,
    pub(crate) person_groups: Csr<u32>,
    pub(crate) groups: Vec<GroupId>,
    pub(crate) group_index: FastMap<GroupId, u32>,
    pub(crate) group_members: Csr<u32>,
    pub(crate) sites: Vec<SiteRec>,
    pub(crate) spaces: Vec<SpaceRec>,
    pub(crate) space_index: FastMap<SpaceId, u32>,
    pub(crate) locks: Vec<LockRec>,
    pub(crate) lock_index: FastMap<DeviceId, u32>,
    /// Target keys reaching each lock (itself, its space and every ancestor, its device groups), sorted.
    pub(crate) lock_targets: Csr<u32>,
    /// Locks sorted by the pre-order number of their space: a space's subtree is a contiguous run.
    pub(crate) locks_by_enter: Vec<(u32, u32)>,
    pub(crate) device_groups: Vec<DeviceGroupId>,
    pub(crate) device_group_index: FastMap<DeviceGroupId, u32>,
    pub(crate) device_group_locks: Csr<u32>,
    pub(crate) grants: Vec<GrantRec>,
    pub(crate) grant_index: FastMap<GrantId, u32>,
    pub(crate) patterns: Vec<Pattern>,
    /// Per subject key: (target key, grant), sorted.
    pub(crate) by_subject: Csr<(u32, u32)>,
    /// Per target key: grants, sorted.
    pub(crate) by_target: Csr<u32>,
    /// Per grant: grants derived directly from it.
    pub(crate) children: Csr<u32>,
}

/// Collects the organisation's objects; [`AccessModelBuilder::build`] validates and indexes them.
#[derive(Debug, Default, Clone)]
pub struct AccessModelBuilder {
    people: Vec<PersonSpec>,
    groups: Vec<GroupId>,
    memberships: Vec<(GroupId, AccountId)>,
    sites: Vec<SiteSpec>,
    spaces: Vec<SpaceSpec>,
    locks: Vec<LockSpec>,
    device_groups: Vec<DeviceGroupId>,
    grants: Vec<GrantSpec>,
}

fn index_of<K: std::hash::Hash + Eq + std::fmt::Display + Copy>(
    ids: impl Iterator<Item = K>,
    kind: &'static str,
) -> Result<FastMap<K, u32>, ModelError> {
    let mut map = FastMap::default();
    for (idx, id) in (0u32..).zip(ids) {
        if map.insert(id, idx).is_some() {
            return Err(ModelError::Duplicate {
                kind,
                id: id.to_string(),
            });
        }
    }
    Ok(map)
}

fn lookup<K: std::hash::Hash + Eq + std::fmt::Display>(
    map: &FastMap<K, u32>,
    id: &K,
    field: &'static str,
    referrer: impl FnOnce() -> String,
) -> Result<u32, ModelError> {
    map.get(id).copied().ok_or_else(|| ModelError::Unknown {
        field,
        id: id.to_string(),
        referrer: referrer(),
    })
}

fn len_u32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(NONE)
}

impl AccessModelBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a person.
    pub fn person(&mut self, person: PersonSpec) -> &mut Self {
        self.people.push(person);
        self
    }

    /// Adds a group of people.
    pub fn group(&mut self, group: GroupId) -> &mut Self {
        self.groups.push(group);
        self
    }

    /// Makes `person` a member of `group` (repeats are harmless).
    pub fn member(&mut self, group: GroupId, person: AccountId) -> &mut Self {
        self.memberships.push((group, person));
        self
    }

    /// Adds a site.
    pub fn site(&mut self, site: SiteSpec) -> &mut Self {
        self.sites.push(site);
        self
    }

    /// Adds a space.
    pub fn space(&mut self, space: SpaceSpec) -> &mut Self {
        self.spaces.push(space);
        self
    }

    /// Adds a lock.
    pub fn lock(&mut self, lock: LockSpec) -> &mut Self {
        self.locks.push(lock);
        self
    }

    /// Adds a device group.
    pub fn device_group(&mut self, device_group: DeviceGroupId) -> &mut Self {
        self.device_groups.push(device_group);
        self
    }

    /// Adds a grant.
    pub fn grant(&mut self, grant: GrantSpec) -> &mut Self {
        self.grants.push(grant);
        self
    }

    /// Reserves room for `grants` grants (the benchmark adds a million).
    pub fn reserve_grants(&mut self, grants: usize) -> &mut Self {
        self.grants.reserve(grants);
        self
    }

    /// Validates every reference and structural rule, then indexes.
    pub fn build(self) -> Result<AccessModel, ModelError> {
        let person_index = index_of(self.people.iter().map(|p| p.id), "person")?;
        let group_index = index_of(self.groups.iter().copied(), "group")?;
        let site_index = index_of(self.sites.iter().map(|s| s.id), "site")?;
        let space_index = index_of(self.spaces.iter().map(|s| s.id), "space")?;
        let lock_index = index_of(self.locks.iter().map(|l| l.id), "lock")?;
        let device_group_index = index_of(self.device_groups.iter().copied(), "device group")?;
        let grant_index = index_of(self.grants.iter().map(|g| g.id), "grant")?;

        let people: Vec<PersonRec> = self
            .people
            .iter()
            .map(|p| PersonRec {
                id: p.id,
                enabled: p.enabled,
                expires_at_ms: p.expires_at_ms.unwrap_or(i64::MAX),
            })
            .collect();

        let mut membership_pairs = Vec::with_capacity(self.memberships.len());
        for (group, person) in &self.memberships {
            let g = lookup(&group_index, group, "group", || {
                format!("membership of {person}")
            })?;
            let p = lookup(&person_index, person, "person", || {
                format!("membership in group {group}")
            })?;
            membership_pairs.push((g, p));
        }
        membership_pairs.sort_unstable();
        membership_pairs.dedup();
        let group_members = Csr::build(self.groups.len(), membership_pairs.clone());
        let mut by_person: Vec<(u32, u32)> =
            membership_pairs.iter().map(|(g, p)| (*p, *g)).collect();
        by_person.sort_unstable();
        let person_groups = Csr::build(self.people.len(), by_person);

        let mut sites = Vec::with_capacity(self.sites.len());
        for site in &self.sites {
            let tz =
                TimeZone::get(site.time_zone.trim()).map_err(|_| ModelError::UnknownTimeZone {
                    site: site.id,
                    name: site.time_zone.clone(),
                })?;
            let mut holidays: Vec<i32> = site.holidays.iter().map(|d| epoch_day(*d)).collect();
            holidays.sort_unstable();
            holidays.dedup();
            sites.push(SiteRec {
                clock: LocalClock::new(tz),
                holidays,
            });
        }

        let spaces = build_spaces(&self.spaces, &site_index, &space_index)?;

        let lock_count = len_u32(self.locks.len());
        let space_count = len_u32(spaces.len());
        let mut locks = Vec::with_capacity(self.locks.len());
        let mut lock_group_pairs = Vec::new();
        let mut lock_target_pairs = Vec::new();
        for (l, lock) in (0u32..).zip(&self.locks) {
            let s = lookup(&space_index, &lock.space, "space", || {
                format!("lock {}", lock.id)
            })?;
            let site = spaces.get(s as usize).map_or(NONE, |space| space.site);
            locks.push(LockRec {
                id: lock.id,
                space: s,
                site,
                enabled: lock.enabled,
            });
            lock_target_pairs.push((l, l));
            let mut cursor = s;
            while let Some(space) = spaces.get(cursor as usize) {
                lock_target_pairs.push((l, lock_count + cursor));
                cursor = space.parent;
            }
            for dg in &lock.device_groups {
                let d = lookup(&device_group_index, dg, "device_group", || {
                    format!("lock {}", lock.id)
                })?;
                lock_group_pairs.push((d, l));
                lock_target_pairs.push((l, lock_count + space_count + d));
            }
        }
        lock_target_pairs.sort_unstable();
        lock_target_pairs.dedup();
        let lock_targets = Csr::build(locks.len(), lock_target_pairs);
        lock_group_pairs.sort_unstable();
        lock_group_pairs.dedup();
        let device_group_locks = Csr::build(self.device_groups.len(), lock_group_pairs);
        let mut locks_by_enter: Vec<(u32, u32)> = (0u32..)
            .zip(&locks)
            .map(|(l, lock)| (spaces.get(lock.space as usize).map_or(NONE, |s| s.enter), l))
            .collect();
        locks_by_enter.sort_unstable();

        let person_count = len_u32(people.len());
        let mut patterns: Vec<Pattern> = Vec::new();
        let mut pattern_index: FastMap<Pattern, u32> = FastMap::default();
        let mut grants = Vec::with_capacity(self.grants.len());
        for grant in self.grants {
            let referrer = || format!("grant {}", grant.id);
            let subject = match &grant.subject {
                Subject::Person(p) => lookup(&person_index, p, "subject", referrer)?,
                Subject::Group(g) => person_count + lookup(&group_index, g, "subject", referrer)?,
            };
            let target = match &grant.target {
                Target::Lock(l) => lookup(&lock_index, l, "target", referrer)?,
                Target::Space(s) => lock_count + lookup(&space_index, s, "target", referrer)?,
                Target::DeviceGroup(d) => {
                    lock_count + space_count + lookup(&device_group_index, d, "target", referrer)?
                }
            };
            let (parent, shared_by) = match &grant.delegation {
                Some(delegation) => (
                    lookup(&grant_index, &delegation.parent, "parent", referrer)?,
                    lookup(&person_index, &delegation.shared_by, "shared_by", referrer)?,
                ),
                None => (NONE, NONE),
            };
            let schedule = grant.schedule;
            let pattern = match pattern_index.get(&schedule.pattern) {
                Some(idx) => *idx,
                None => {
                    let idx = len_u32(patterns.len());
                    pattern_index.insert(schedule.pattern.clone(), idx);
                    patterns.push(schedule.pattern);
                    idx
                }
            };
            grants.push(GrantRec {
                id: grant.id,
                subject,
                target,
                rights: grant.rights,
                valid_from_ms: schedule.valid_from_ms,
                valid_until_ms: schedule.valid_until_ms.unwrap_or(i64::MAX),
                max_uses: schedule.max_uses,
                uses: grant.uses,
                pattern,
                parent,
                shared_by,
                reshare_depth: grant.reshare_depth,
                depth: 0,
                max_share_duration_ms: grant.max_share_duration_ms,
                revoked: grant.revoked,
            });
        }
        // Delegation depth; a chain that has not ended after MAX_DELEGATION_DEPTH steps loops or
        // is too long, and either way is refused.
        let depths: Vec<Result<u8, GrantId>> = grants
            .iter()
            .map(|grant| {
                let mut depth = 0u8;
                let mut cursor = grant.parent;
                while cursor != NONE {
                    depth += 1;
                    if usize::from(depth) > MAX_DELEGATION_DEPTH {
                        return Err(grant.id);
                    }
                    cursor = grants.get(cursor as usize).map_or(NONE, |g| g.parent);
                }
                Ok(depth)
            })
            .collect();
        for (grant, depth) in grants.iter_mut().zip(depths) {
            grant.depth = depth.map_err(|grant| ModelError::DelegationChain { grant })?;
        }

        let children = Csr::build(
            grants.len(),
            (0u32..)
                .zip(&grants)
                .filter(|(_, g)| g.parent != NONE)
                .map(|(idx, g)| (g.parent, idx))
                .collect(),
        );
        let mut subject_pairs: Vec<(u32, (u32, u32))> = (0u32..)
            .zip(&grants)
            .map(|(idx, g)| (g.subject, (g.target, idx)))
            .collect();
        subject_pairs.sort_unstable();
        let by_subject = Csr::build(people.len() + self.groups.len(), subject_pairs);
        let mut target_pairs: Vec<(u32, u32)> = (0u32..)
            .zip(&grants)
            .map(|(idx, g)| (g.target, idx))
            .collect();
        target_pairs.sort_unstable();
        let by_target = Csr::build(
            locks.len() + spaces.len() + self.device_groups.len(),
            target_pairs,
        );

        Ok(AccessModel {
            people,
            person_index,
            person_groups,
            groups: self.groups,
            group_index,
            group_members,
            sites,
            spaces,
            space_index,
            locks,
            lock_index,
            lock_targets,
            locks_by_enter,
            device_groups: self.device_groups,
            device_group_index,
            device_group_locks,
            grants,
            grant_index,
            patterns,
            by_subject,
            by_target,
            children,
        })
    }
}

fn build_spaces(
    specs: &[SpaceSpec],
    site_index: &FastMap<SiteId, u32>,
    space_index: &FastMap<SpaceId, u32>,
) -> Result<Vec<SpaceRec>, ModelError> {
    let mut spaces = Vec::with_capacity(specs.len());
    let mut child_pairs = Vec::new();
    let mut roots = Vec::new();
    for (idx, spec) in (0u32..).zip(specs) {
        let site = lookup(site_index, &spec.site, "site", || {
            format!("space {}", spec.id)
        })?;
        let parent = match &spec.parent {
            Some(parent) => {
                let p = lookup(space_index, parent, "parent", || {
                    format!("space {}", spec.id)
                })?;
                child_pairs.push((p, idx));
                p
            }
            None => {
                roots.push(idx);
                NONE
            }
        };
        spaces.push(SpaceRec {
            id: spec.id,
            site,
            parent,
            enter: NONE,
            exit: NONE,
        });
    }
    for space in &spaces {
        if let Some(parent) = spaces.get(space.parent as usize)
            && parent.site != space.site
        {
            return Err(ModelError::SpaceSiteMismatch { space: space.id });
        }
    }
    let children = Csr::build(spaces.len(), child_pairs);
    // Iterative pre-order walk from the roots; a space never reached sits on a cycle.
    let mut counter = 0u32;
    let mut stack: Vec<(u32, bool)> = roots.iter().rev().map(|r| (*r, false)).collect();
    while let Some((idx, done)) = stack.pop() {
        if done {
            if let Some(space) = spaces.get_mut(idx as usize) {
                space.exit = counter;
            }
            continue;
        }
        if let Some(space) = spaces.get_mut(idx as usize) {
            space.enter = counter;
        }
        counter += 1;
        stack.push((idx, true));
        for child in children.row(idx).iter().rev() {
            stack.push((*child, false));
        }
    }
    if let Some(space) = spaces.iter().find(|s| s.enter == NONE) {
        return Err(ModelError::SpaceCycle { space: space.id });
    }
    Ok(spaces)
}

impl AccessModel {
    pub(crate) fn person_idx(&self, id: &AccountId) -> Option<u32> {
        self.person_index.get(id).copied()
    }

    pub(crate) fn lock_idx(&self, id: &DeviceId) -> Option<u32> {
        self.lock_index.get(id).copied()
    }

    pub(crate) fn grant_idx(&self, id: &GrantId) -> Option<u32> {
        self.grant_index.get(id).copied()
    }

    pub(crate) fn person(&self, idx: u32) -> Option<&PersonRec> {
        self.people.get(idx as usize)
    }

    pub(crate) fn lock(&self, idx: u32) -> Option<&LockRec> {
        self.locks.get(idx as usize)
    }

    pub(crate) fn grant(&self, idx: u32) -> Option<&GrantRec> {
        self.grants.get(idx as usize)
    }

    pub(crate) fn site(&self, idx: u32) -> Option<&SiteRec> {
        self.sites.get(idx as usize)
    }

    pub(crate) fn person_count(&self) -> u32 {
        len_u32(self.people.len())
    }

    pub(crate) fn target_key(&self, key: u32) -> TargetKey {
        let locks = len_u32(self.locks.len());
        let spaces = len_u32(self.spaces.len());
        if key < locks {
            TargetKey::Lock(key)
        } else if key - locks < spaces {
            TargetKey::Space(key - locks)
        } else {
            TargetKey::DeviceGroup(key - locks - spaces)
        }
    }

    /// Does the target key cover the lock?
    pub(crate) fn target_covers(&self, key: u32, lock: u32) -> bool {
        self.lock_targets.row(lock).binary_search(&key).is_ok()
    }

    /// Is the person (directly or through a group) the subject key? `excluded_membership` is a
    /// (group, person) pair to treat as removed (the "what changes if" preview).
    pub(crate) fn subject_covers(
        &self,
        key: u32,
        person: u32,
        excluded_membership: Option<(u32, u32)>,
    ) -> bool {
        let people = self.person_count();
        if key < people {
            return key == person;
        }
        let group = key - people;
        excluded_membership != Some((group, person))
            && self.person_groups.row(person).binary_search(&group).is_ok()
    }

    /// The locks a target key covers, sorted by lock index.
    pub(crate) fn locks_of_target(&self, key: u32) -> Vec<u32> {
        let mut locks = match self.target_key(key) {
            TargetKey::Lock(l) => vec![l],
            TargetKey::Space(s) => match self.spaces.get(s as usize) {
                Some(space) => {
                    let from = self
                        .locks_by_enter
                        .partition_point(|(e, _)| *e < space.enter);
                    let to = self
                        .locks_by_enter
                        .partition_point(|(e, _)| *e < space.exit);
                    self.locks_by_enter
                        .get(from..to)
                        .unwrap_or(&[])
                        .iter()
                        .map(|(_, l)| *l)
                        .collect()
                }
                None => Vec::new(),
            },
            TargetKey::DeviceGroup(d) => self.device_group_locks.row(d).to_vec(),
        };
        locks.sort_unstable();
        locks
    }

    /// The people a subject key stands for (one person, or a group's members).
    pub(crate) fn people_of_subject(&self, key: u32) -> SubjectPeople<'_> {
        let people = self.person_count();
        if key < people {
            SubjectPeople::One(Some(key))
        } else {
            SubjectPeople::Many(self.group_members.row(key - people).iter())
        }
    }

    /// Numbers of objects: (people, groups, locks, spaces, grants, distinct schedule patterns).
    pub fn counts(&self) -> ModelCounts {
        ModelCounts {
            people: self.people.len(),
            groups: self.groups.len(),
            sites: self.sites.len(),
            spaces: self.spaces.len(),
            locks: self.locks.len(),
            device_groups: self.device_groups.len(),
            grants: self.grants.len(),
            schedule_patterns: self.patterns.len(),
        }
    }

    /// Whether the model knows this grant.
    pub fn has_grant(&self, grant: GrantId) -> bool {
        self.grant_index.contains_key(&grant)
    }

    /// Whether the person is a member of the group (the server's holder check before sharing).
    pub fn is_member(&self, group: GroupId, person: AccountId) -> bool {
        match (self.group_index.get(&group), self.person_idx(&person)) {
            (Some(g), Some(p)) => self.person_groups.row(p).binary_search(g).is_ok(),
            _ => false,
        }
    }

    /// The space a lock is placed in (scope checks on grants that target a lock).
    pub fn space_of_lock(&self, lock: DeviceId) -> Option<SpaceId> {
        let rec = self.lock(self.lock_idx(&lock)?)?;
        self.spaces.get(rec.space as usize).map(|s| s.id)
    }
}

/// Sizes of a model (for reports and the benchmark).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ModelCounts {
    /// People.
    pub people: usize,
    /// Groups of people.
    pub groups: usize,
    /// Sites.
    pub sites: usize,
    /// Spaces.
    pub spaces: usize,
    /// Locks.
    pub locks: usize,
    /// Device groups.
    pub device_groups: usize,
    /// Grants.
    pub grants: usize,
    /// Distinct schedule patterns after interning.
    pub schedule_patterns: usize,
}

/// Iterator over the people of a subject.
pub(crate) enum SubjectPeople<'a> {
    One(Option<u32>),
    Many(std::slice::Iter<'a, u32>),
}

impl Iterator for SubjectPeople<'_> {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        match self {
            SubjectPeople::One(one) => one.take(),
            SubjectPeople::Many(many) => many.next().copied(),
        }
    }
}
