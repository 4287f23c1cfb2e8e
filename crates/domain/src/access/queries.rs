//! Questions over the whole model: who can open a lock, what can a person open, the exact UTC
//! intervals in which a person may open a lock, and the delegation tree.

use serde::Serialize;

use super::decision::{Exclusion, Reason};
use super::interval::{Interval, intersect_sets, normalize};
use super::model::{AccessModel, LockRec, NONE};
use super::rights::Rights;
use crate::error::DomainError;
use crate::ids::{AccountId, DeviceId, GrantId, GroupId};

/// Longest range `access_windows` computes in one call (credentials cover days to weeks; a
/// bound keeps a request for "everything until the year 9999" from running for minutes).
pub const MAX_ACCESS_WINDOW_RANGE_MS: i64 = 400 * 86_400_000;

/// A question the model cannot answer: an id it names is not in the model, or the range is too
/// long.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Unknown person.
    #[error("person {0} not found")]
    UnknownPerson(AccountId),
    /// Unknown lock.
    #[error("lock {0} not found")]
    UnknownLock(DeviceId),
    /// Unknown grant.
    #[error("grant {0} not found")]
    UnknownGrant(GrantId),
    /// Unknown group.
    #[error("group {0} not found")]
    UnknownGroup(GroupId),
    /// The `access_windows` range is longer than [`MAX_ACCESS_WINDOW_RANGE_MS`].
    #[error("the range may span at most 400 days: ask for shorter ranges")]
    RangeTooLong,
}

impl From<QueryError> for DomainError {
    fn from(error: QueryError) -> Self {
        match error {
            QueryError::RangeTooLong => DomainError::invalid("to_ms", error.to_string()),
            _ => DomainError::new(crate::error::ErrorCode::NotFound, error.to_string()),
        }
    }
}

/// One grant in a delegation tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DelegationNode {
    /// The grant.
    pub grant: GrantId,
    /// Its parent within the tree (none for the root asked for).
    pub parent: Option<GrantId>,
    /// Levels below the root.
    pub depth: u8,
    /// Marked revoked itself (descendants of a revoked grant allow nothing either way).
    pub revoked: bool,
}

/// A person who can open, and every grant that lets them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonAccess {
    /// The person.
    pub person: AccountId,
    /// The grants that allow, sorted by grant id.
    pub because: Vec<Reason>,
}

/// A lock a person can open, and every grant that lets them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockAccess {
    /// The lock.
    pub lock: DeviceId,
    /// The grants that allow, sorted by grant id.
    pub because: Vec<Reason>,
}

impl AccessModel {
    /// Everyone who may open `lock` at `at_ms`, sorted by account id, with the same reasons
    /// [`AccessModel::decide`] gives (the two agree by construction: the same candidate grants
    /// and the same checks).
    pub fn who_can_open(
        &self,
        lock: DeviceId,
        at_ms: i64,
    ) -> Result<Vec<PersonAccess>, QueryError> {
        let l = self.lock_idx(&lock).ok_or(QueryError::UnknownLock(lock))?;
        let Some(lock_rec) = self.lock(l).filter(|rec| rec.enabled) else {
            return Ok(Vec::new());
        };
        let mut pairs: Vec<(AccountId, Reason)> = Vec::new();
        for target in self.lock_targets.row(l) {
            for g in self.by_target.row(*target) {
                let Some(grant) = self.grant(*g) else {
                    continue;
                };
                if self
                    .verdict(*g, l, lock_rec, at_ms, Exclusion::NONE)
                    .is_err()
                {
                    continue;
                }
                let reason = self.reason(grant);
                for p in self.people_of_subject(grant.subject) {
                    if let Some(person) = self.person(p).filter(|rec| rec.active_at(at_ms)) {
                        pairs.push((person.id, reason));
                    }
                }
            }
        }
        pairs.sort_unstable_by_key(|(person, reason)| (*person, reason.grant));
        let mut out: Vec<PersonAccess> = Vec::new();
        for (person, reason) in pairs {
            match out.last_mut() {
                Some(last) if last.person == person => last.because.push(reason),
                _ => out.push(PersonAccess {
                    person,
                    because: vec![reason],
                }),
            }
        }
        Ok(out)
    }

    /// Every lock `person` may open at `at_ms`, sorted by device id, with reasons.
    pub fn what_can_open(
        &self,
        person: AccountId,
        at_ms: i64,
    ) -> Result<Vec<LockAccess>, QueryError> {
        let p = self
            .person_idx(&person)
            .ok_or(QueryError::UnknownPerson(person))?;
        if !self.person(p).is_some_and(|rec| rec.active_at(at_ms)) {
            return Ok(Vec::new());
        }
        let people = self.person_count();
        let subjects =
            std::iter::once(p).chain(self.person_groups.row(p).iter().map(|g| people + g));
        let mut pairs: Vec<(DeviceId, Reason)> = Vec::new();
        for subject in subjects {
            for (target, g) in self.by_subject.row(subject) {
                let Some(grant) = self.grant(*g) else {
                    continue;
                };
                let reason = self.reason(grant);
                for l in self.locks_of_target(*target) {
                    let Some(lock_rec) = self.lock(l).filter(|rec| rec.enabled) else {
                        continue;
                    };
                    if self
                        .verdict(*g, l, lock_rec, at_ms, Exclusion::NONE)
                        .is_ok()
                    {
                        pairs.push((lock_rec.id, reason));
                    }
                }
            }
        }
        pairs.sort_unstable_by_key(|(lock, reason)| (*lock, reason.grant));
        pairs.dedup();
        let mut out: Vec<LockAccess> = Vec::new();
        for (lock, reason) in pairs {
            match out.last_mut() {
                Some(last) if last.lock == lock => last.because.push(reason),
                _ => out.push(LockAccess {
                    lock,
                    because: vec![reason],
                }),
            }
        }
        Ok(out)
    }

    /// The exact set of UTC intervals within `[from_ms, to_ms)` in which
    /// [`AccessModel::decide`] allows `person` to open `lock`: sorted, disjoint, merged. This is
    /// what an offline credential carries. Use limits are not time-shaped: a grant whose uses are
    /// spent contributes nothing, one with uses left contributes its whole schedule (the
    /// credential carries the remaining count separately).
    pub fn access_windows(
        &self,
        person: AccountId,
        lock: DeviceId,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<Interval>, QueryError> {
        let p = self
            .person_idx(&person)
            .ok_or(QueryError::UnknownPerson(person))?;
        let l = self.lock_idx(&lock).ok_or(QueryError::UnknownLock(lock))?;
        if to_ms.saturating_sub(from_ms) > MAX_ACCESS_WINDOW_RANGE_MS {
            return Err(QueryError::RangeTooLong);
        }
        let (Some(person_rec), Some(lock_rec)) = (self.person(p), self.lock(l)) else {
            return Ok(Vec::new());
        };
        if !person_rec.enabled || !lock_rec.enabled {
            return Ok(Vec::new());
        }
        let range = Interval::new(from_ms, to_ms.min(person_rec.expires_at_ms));
        if range.is_empty() {
            return Ok(Vec::new());
        }
        let mut all = Vec::new();
        self.for_each_candidate(p, l, Exclusion::NONE, |g| {
            all.extend(self.grant_intervals(g, l, lock_rec, range));
        });
        Ok(normalize(all))
    }

    /// Where grant `g` (and its whole delegation chain) allows lock `l` within `range`; mirrors
    /// [`AccessModel::verdict`] interval by interval.
    fn grant_intervals(&self, g: u32, l: u32, lock: &LockRec, range: Interval) -> Vec<Interval> {
        let Some(site) = self.site(lock.site) else {
            return Vec::new();
        };
        let mut set = vec![range];
        let mut cursor = g;
        let mut child: Option<u32> = None;
        while cursor != NONE && !set.is_empty() {
            let Some(grant) = self.grant(cursor) else {
                return Vec::new();
            };
            if let Some(child_idx) = child {
                let Some(child_rec) = self.grant(child_idx) else {
                    return Vec::new();
                };
                let Some(sharer) = self.person(child_rec.shared_by) else {
                    return Vec::new();
                };
                if !sharer.enabled
                    || !self.subject_covers(grant.subject, child_rec.shared_by, None)
                    || !self.target_covers(grant.target, l)
                {
                    return Vec::new();
                }
                set = intersect_sets(&set, &[Interval::new(i64::MIN, sharer.expires_at_ms)]);
            }
            let usable = !grant.revoked
                && grant.rights.contains(Rights::UNLOCK)
                && grant.max_uses.is_none_or(|max| grant.uses < max);
            let Some(pattern) = self.patterns.get(grant.pattern as usize).filter(|_| usable) else {
                return Vec::new();
            };
            let Some(hull) = set
                .first()
                .zip(set.last())
                .map(|(a, b)| Interval::new(a.start_ms, b.end_ms))
            else {
                return Vec::new();
            };
            let valid = Interval::new(grant.valid_from_ms, grant.valid_until_ms).intersect(&hull);
            let own =
                pattern.open_intervals(&site.clock, &site.holidays, valid.start_ms, valid.end_ms);
            set = intersect_sets(&set, &own);
            child = Some(cursor);
            cursor = grant.parent;
        }
        set
    }

    /// The grants `grant` was derived from, nearest first. A use of `grant` counts against it and
    /// every one of these.
    pub fn ancestors(&self, grant: GrantId) -> Result<Vec<GrantId>, QueryError> {
        let g = self
            .grant_idx(&grant)
            .ok_or(QueryError::UnknownGrant(grant))?;
        let mut out = Vec::new();
        let mut cursor = self.grant(g).map_or(NONE, |rec| rec.parent);
        while let Some(rec) = self.grant(cursor) {
            out.push(rec.id);
            cursor = rec.parent;
        }
        Ok(out)
    }

    /// Every grant derived from `grant`, directly or not, in breadth-first order (children sorted
    /// by id). Revoking `grant` revokes all of them: evaluation already treats them as revoked
    /// (the chain is checked), and the server marks them so listings agree.
    pub fn descendants(&self, grant: GrantId) -> Result<Vec<GrantId>, QueryError> {
        let g = self
            .grant_idx(&grant)
            .ok_or(QueryError::UnknownGrant(grant))?;
        Ok(self
            .descendant_indexes(g)
            .into_iter()
            .filter_map(|d| self.grant(d).map(|rec| rec.id))
            .collect())
    }

    /// The delegation tree under `grant` (the grant itself first), in pre-order with children
    /// sorted by id: what the admin's delegation tree view shows.
    pub fn delegation_tree(&self, grant: GrantId) -> Result<Vec<DelegationNode>, QueryError> {
        let g = self
            .grant_idx(&grant)
            .ok_or(QueryError::UnknownGrant(grant))?;
        let mut out = Vec::new();
        let mut stack = vec![(g, 0u8)];
        while let Some((idx, depth)) = stack.pop() {
            let Some(rec) = self.grant(idx) else { continue };
            out.push(DelegationNode {
                grant: rec.id,
                parent: if idx == g {
                    None
                } else {
                    self.grant(rec.parent).map(|p| p.id)
                },
                depth,
                revoked: rec.revoked,
            });
            let mut children = self.children.row(idx).to_vec();
            children.sort_unstable_by_key(|c| std::cmp::Reverse(self.grant(*c).map(|r| r.id)));
            stack.extend(children.into_iter().map(|c| (c, depth.saturating_add(1))));
        }
        Ok(out)
    }

    pub(crate) fn descendant_indexes(&self, g: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let mut frontier = vec![g];
        while !frontier.is_empty() {
            let mut next = Vec::new();
            for parent in frontier {
                let mut children = self.children.row(parent).to_vec();
                children.sort_unstable_by_key(|c| self.grant(*c).map(|rec| rec.id));
                next.extend(children);
            }
            out.extend(next.iter().copied());
            frontier = next;
        }
        out
    }
}
