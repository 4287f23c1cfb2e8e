//! "What changes if": the (person, lock) pairs that lose or keep access at an instant when a grant
//! is removed or a person leaves a group. The server exposes it as a preview before the change.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::decision::{Decision, Exclusion};
use super::model::AccessModel;
use super::queries::QueryError;
use crate::ids::{AccountId, DeviceId, GrantId, GroupId};

/// The change to preview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Removal {
    /// Revoke or delete a grant (and with it everything derived from it).
    Grant {
        /// The grant.
        grant: GrantId,
    },
    /// Take a person out of a group.
    Membership {
        /// The group.
        group: GroupId,
        /// The person.
        person: AccountId,
    },
}

/// A person and a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct AccessPair {
    /// The person.
    pub person: AccountId,
    /// The lock.
    pub lock: DeviceId,
}

/// The effect of a removal at one instant, over the pairs the removed thing currently lets in.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Impact {
    /// Allowed now, denied after the removal.
    pub lose: Vec<AccessPair>,
    /// Allowed now through the removed thing, still allowed after it by another grant.
    pub keep: Vec<AccessPair>,
}

impl AccessModel {
    /// Previews `removal` at `at_ms`. Only pairs that some affected grant allows now are
    /// considered; each is decided before and after, so the answer is exactly what `decide`
    /// would say on the changed model.
    pub fn what_changes_if(&self, removal: Removal, at_ms: i64) -> Result<Impact, QueryError> {
        let people = self.person_count();
        let (exclusion, affected, only_person) = match removal {
            Removal::Grant { grant } => {
                let g = self
                    .grant_idx(&grant)
                    .ok_or(QueryError::UnknownGrant(grant))?;
                let mut affected = vec![g];
                affected.extend(self.descendant_indexes(g));
                (
                    Exclusion {
                        grant: g,
                        membership: None,
                    },
                    affected,
                    None,
                )
            }
            Removal::Membership { group, person } => {
                let gi = *self
                    .group_index
                    .get(&group)
                    .ok_or(QueryError::UnknownGroup(group))?;
                let p = self
                    .person_idx(&person)
                    .ok_or(QueryError::UnknownPerson(person))?;
                // The person's grants through the group, and every share the person made (a share
                // lapses when the sharer leaves the group holding the parent grant).
                let mut affected: Vec<u32> = self
                    .by_subject
                    .row(people + gi)
                    .iter()
                    .map(|(_, g)| *g)
                    .collect();
                let group_key = people + gi;
                for (idx, grant) in (0u32..).zip(&self.grants) {
                    let shared_from_the_group = grant.shared_by == p
                        && self
                            .grant(grant.parent)
                            .is_some_and(|parent| parent.subject == group_key);
                    if shared_from_the_group {
                        affected.push(idx);
                        affected.extend(self.descendant_indexes(idx));
                    }
                }
                (
                    Exclusion {
                        grant: super::model::NONE,
                        membership: Some((gi, p)),
                    },
                    affected,
                    Some((people + gi, p)),
                )
            }
        };
        let mut pairs: BTreeSet<(u32, u32)> = BTreeSet::new();
        let mut affected_ids: Vec<GrantId> = Vec::with_capacity(affected.len());
        for g in &affected {
            let Some(grant) = self.grant(*g) else {
                continue;
            };
            affected_ids.push(grant.id);
            let locks = self.locks_of_target(grant.target);
            for p in self.people_of_subject(grant.subject) {
                // Through the group, only the leaving person is affected.
                if only_person
                    .is_some_and(|(subject, person)| subject == grant.subject && person != p)
                {
                    continue;
                }
                for l in &locks {
                    pairs.insert((p, *l));
                }
            }
        }
        affected_ids.sort_unstable();
        let mut impact = Impact::default();
        for (p, l) in pairs {
            let (Some(person), Some(lock)) = (self.person(p), self.lock(l)) else {
                continue;
            };
            let Decision::Allowed { because } = self.decide(person.id, lock.id, at_ms) else {
                continue;
            };
            if !because
                .iter()
                .any(|r| affected_ids.binary_search(&r.grant).is_ok())
            {
                continue;
            }
            let pair = AccessPair {
                person: person.id,
                lock: lock.id,
            };
            if self
                .decide_with(person.id, lock.id, at_ms, exclusion)
                .is_allowed()
            {
                impact.keep.push(pair);
            } else {
                impact.lose.push(pair);
            }
        }
        impact.lose.sort_unstable();
        impact.keep.sort_unstable();
        Ok(impact)
    }
}
