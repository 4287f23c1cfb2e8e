//! `decide`: may this person open this lock at this instant, and why (not)?

use serde::Serialize;

use super::model::{AccessModel, GrantRec, LockRec, NONE, TargetKey};
use super::rights::Rights;
use crate::ids::{AccountId, DeviceGroupId, DeviceId, GrantId, GroupId, SpaceId};

/// How the person is the grant's subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum SubjectPath {
    /// The grant names the person.
    Direct,
    /// The grant names a group the person is a member of.
    Group(GroupId),
}

/// How the grant's target reaches the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum TargetPath {
    /// The grant names the lock.
    Lock,
    /// The grant names this space, which is the lock's space or one of its ancestors.
    Space(SpaceId),
    /// The grant names this device group, which holds the lock.
    DeviceGroup(DeviceGroupId),
}

/// One grant that reaches the (person, lock) pair, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Reason {
    /// The grant.
    pub grant: GrantId,
    /// How the person is its subject.
    pub subject: SubjectPath,
    /// How its target reaches the lock.
    pub target: TargetPath,
    /// The grant it was derived from, if delegated (the whole chain is in
    /// [`AccessModel::ancestors`]).
    pub delegated_from: Option<GrantId>,
}

/// Why one grant that reaches the pair does not allow at the instant. The order is the
/// precedence used to pick the denial reported when several grants reach the pair and none
/// allows: from the nearest to allowing (the grant is live, just not at this hour) to the
/// farthest (it never lets anyone open).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantRefusal {
    /// Valid, but no window, open date or booking covers the instant.
    OutsideWindow,
    /// Validity starts later.
    NotYetValid,
    /// All uses spent (on this grant or an ancestor).
    UsesExhausted,
    /// Validity ended.
    Expired,
    /// Revoked (this grant or an ancestor).
    Revoked,
    /// A delegation no longer holds: the lock is outside the parent grant's target (moved since
    /// the share), or the person who shared is no longer active or no longer a subject of the
    /// parent.
    Scope,
    /// The grant (or an ancestor) has no `unlock` right.
    NoUnlockRight,
}

/// A grant that reaches the pair but does not allow now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct NearMiss {
    /// The grant and its path.
    pub path: Reason,
    /// Why it does not allow.
    pub refusal: GrantRefusal,
    /// The grant in its delegation chain that refused (itself or an ancestor).
    pub refused_by: GrantId,
}

/// Why access is denied. Account and device states come first (they hold whatever the grants
/// say); then "no grant"; then the most useful grant refusal (see [`GrantRefusal`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Denial {
    /// The person is not in the organisation's model.
    UnknownPerson,
    /// The lock is not in the organisation's model.
    UnknownLock,
    /// The person's account is disabled.
    AccountDisabled,
    /// The person is a guest whose account expired.
    GuestExpired,
    /// The lock is disabled.
    DeviceDisabled,
    /// No grant reaches this person and lock.
    NoGrant,
    /// See [`GrantRefusal::OutsideWindow`].
    OutsideWindow,
    /// See [`GrantRefusal::NotYetValid`].
    NotYetValid,
    /// See [`GrantRefusal::UsesExhausted`].
    UsesExhausted,
    /// See [`GrantRefusal::Expired`].
    Expired,
    /// See [`GrantRefusal::Revoked`].
    Revoked,
    /// See [`GrantRefusal::Scope`].
    Scope,
    /// See [`GrantRefusal::NoUnlockRight`].
    NoUnlockRight,
}

impl From<GrantRefusal> for Denial {
    fn from(refusal: GrantRefusal) -> Self {
        match refusal {
            GrantRefusal::OutsideWindow => Denial::OutsideWindow,
            GrantRefusal::NotYetValid => Denial::NotYetValid,
            GrantRefusal::UsesExhausted => Denial::UsesExhausted,
            GrantRefusal::Expired => Denial::Expired,
            GrantRefusal::Revoked => Denial::Revoked,
            GrantRefusal::Scope => Denial::Scope,
            GrantRefusal::NoUnlockRight => Denial::NoUnlockRight,
        }
    }
}

/// The answer to "may P open L at T".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Allowed; every grant that allows, sorted by grant id.
    Allowed {
        /// The grants that allow and how they reach the pair.
        because: Vec<Reason>,
    },
    /// Denied.
    Denied {
        /// The reason (see [`Denial`] for the precedence).
        reason: Denial,
        /// Grants that reach the pair but refuse, most useful first (empty when the account,
        /// device or ids decided).
        near_misses: Vec<NearMiss>,
    },
}

impl Decision {
    /// Whether the person may open.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allowed { .. })
    }

    fn denied(reason: Denial) -> Self {
        Decision::Denied {
            reason,
            near_misses: Vec::new(),
        }
    }
}

/// Things to treat as removed while deciding (the "what changes if" preview).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Exclusion {
    pub(crate) grant: u32,
    pub(crate) membership: Option<(u32, u32)>,
}

impl Exclusion {
    pub(crate) const NONE: Exclusion = Exclusion {
        grant: NONE,
        membership: None,
    };
}

impl AccessModel {
    /// May `person` open `lock` at `at_ms` (UTC epoch ms)? Pure and deterministic; unknown ids
    /// are denials, not errors.
    pub fn decide(&self, person: AccountId, lock: DeviceId, at_ms: i64) -> Decision {
        self.decide_with(person, lock, at_ms, Exclusion::NONE)
    }

    pub(crate) fn decide_with(
        &self,
        person: AccountId,
        lock: DeviceId,
        at_ms: i64,
        ex: Exclusion,
    ) -> Decision {
        let Some((p, person_rec)) = self
            .person_idx(&person)
            .and_then(|p| Some((p, self.person(p)?)))
        else {
            return Decision::denied(Denial::UnknownPerson);
        };
        let Some((l, lock_rec)) = self.lock_idx(&lock).and_then(|l| Some((l, self.lock(l)?)))
        else {
            return Decision::denied(Denial::UnknownLock);
        };
        if !person_rec.enabled {
            return Decision::denied(Denial::AccountDisabled);
        }
        if !person_rec.active_at(at_ms) {
            return Decision::denied(Denial::GuestExpired);
        }
        if !lock_rec.enabled {
            return Decision::denied(Denial::DeviceDisabled);
        }
        let mut because = Vec::new();
        let mut near_misses = Vec::new();
        self.for_each_candidate(p, l, ex, |g| {
            let Some(grant) = self.grant(g) else { return };
            let path = self.reason(grant);
            match self.verdict(g, l, lock_rec, at_ms, ex) {
                Ok(()) => because.push(path),
                Err((refusal, refused_by)) => near_misses.push(NearMiss {
                    path,
                    refusal,
                    refused_by: self.grant(refused_by).map_or(grant.id, |r| r.id),
                }),
            }
        });
        if !because.is_empty() {
            because.sort_unstable_by_key(|r| r.grant);
            return Decision::Allowed { because };
        }
        near_misses.sort_unstable_by_key(|m| (m.refusal, m.path.grant));
        match near_misses.first() {
            Some(first) => Decision::Denied {
                reason: first.refusal.into(),
                near_misses,
            },
            None => Decision::denied(Denial::NoGrant),
        }
    }

    /// Calls `f` with every grant whose subject covers person `p` and whose target covers lock
    /// `l` (each grant once).
    pub(crate) fn for_each_candidate(&self, p: u32, l: u32, ex: Exclusion, mut f: impl FnMut(u32)) {
        let targets = self.lock_targets.row(l);
        let people = self.person_count();
        let own = std::iter::once(p);
        let groups = self
            .person_groups
            .row(p)
            .iter()
            .filter(|g| ex.membership != Some((**g, p)))
            .map(|g| people + g);
        for subject in own.chain(groups) {
            let row = self.by_subject.row(subject);
            if row.len() <= targets.len() * 4 {
                for (target, grant) in row {
                    if targets.binary_search(target).is_ok() {
                        f(*grant);
                    }
                }
            } else {
                for target in targets {
                    let from = row.partition_point(|(t, _)| t < target);
                    for (t, grant) in row.get(from..).unwrap_or(&[]) {
                        if t != target {
                            break;
                        }
                        f(*grant);
                    }
                }
            }
        }
    }

    /// The path by which a grant reaches a lock (for a person covered by its subject).
    pub(crate) fn reason(&self, grant: &GrantRec) -> Reason {
        let people = self.person_count();
        let subject = if grant.subject < people {
            SubjectPath::Direct
        } else {
            self.groups
                .get((grant.subject - people) as usize)
                .map_or(SubjectPath::Direct, |g| SubjectPath::Group(*g))
        };
        let target = match self.target_key(grant.target) {
            TargetKey::Lock(_) => TargetPath::Lock,
            TargetKey::Space(s) => self
                .spaces
                .get(s as usize)
                .map_or(TargetPath::Lock, |space| TargetPath::Space(space.id)),
            TargetKey::DeviceGroup(d) => self
                .device_groups
                .get(d as usize)
                .map_or(TargetPath::Lock, |dg| TargetPath::DeviceGroup(*dg)),
        };
        Reason {
            grant: grant.id,
            subject,
            target,
            delegated_from: self.grant(grant.parent).map(|parent| parent.id),
        }
    }

    /// The checks of one grant alone (no chain) for a lock at an instant.
    fn own_check(
        &self,
        g: u32,
        grant: &GrantRec,
        lock: &LockRec,
        at_ms: i64,
        ex: Exclusion,
    ) -> Result<(), GrantRefusal> {
        if grant.revoked || g == ex.grant {
            return Err(GrantRefusal::Revoked);
        }
        if !grant.rights.contains(Rights::UNLOCK) {
            return Err(GrantRefusal::NoUnlockRight);
        }
        if at_ms < grant.valid_from_ms {
            return Err(GrantRefusal::NotYetValid);
        }
        if at_ms >= grant.valid_until_ms {
            return Err(GrantRefusal::Expired);
        }
        if grant.max_uses.is_some_and(|max| grant.uses >= max) {
            return Err(GrantRefusal::UsesExhausted);
        }
        let open = match (
            self.patterns.get(grant.pattern as usize),
            self.site(lock.site),
        ) {
            (Some(pattern), Some(site)) => pattern.open_at(&site.clock, &site.holidays, at_ms),
            _ => false,
        };
        if open {
            Ok(())
        } else {
            Err(GrantRefusal::OutsideWindow)
        }
    }

    /// Grant `g` (already known to reach lock `l` for the person) allows at `at_ms`: its own
    /// checks and, for a derived grant, every link of its delegation chain (the parent covers
    /// the same lock and allows at the same instant; the sharer is active and a subject of the
    /// parent). "Never wider than the parent" holds by construction.
    pub(crate) fn verdict(
        &self,
        g: u32,
        l: u32,
        lock: &LockRec,
        at_ms: i64,
        ex: Exclusion,
    ) -> Result<(), (GrantRefusal, u32)> {
        let Some(mut child) = self.grant(g) else {
            return Err((GrantRefusal::Revoked, g));
        };
        self.own_check(g, child, lock, at_ms, ex)
            .map_err(|r| (r, g))?;
        let mut child_idx = g;
        while child.parent != NONE {
            let parent_idx = child.parent;
            let Some(parent) = self.grant(parent_idx) else {
                return Err((GrantRefusal::Revoked, child_idx));
            };
            let sharer_ok = self
                .person(child.shared_by)
                .is_some_and(|s| s.active_at(at_ms))
                && self.subject_covers(parent.subject, child.shared_by, ex.membership);
            if !sharer_ok {
                return Err((GrantRefusal::Scope, child_idx));
            }
            if !self.target_covers(parent.target, l) {
                return Err((GrantRefusal::Scope, parent_idx));
            }
            self.own_check(parent_idx, parent, lock, at_ms, ex)
                .map_err(|r| (r, parent_idx))?;
            child = parent;
            child_idx = parent_idx;
        }
        Ok(())
    }
}
