//! Delegation: a holder of a grant with the `share` right derives grants for others, never wider
//! than their own.
//!
//! Two layers. Evaluation is the guarantee: a derived grant allows a lock at an instant only if
//! every ancestor also allows that lock at that instant, is not revoked and has uses left, and
//! the sharer is still an active subject of the parent (see `AccessModel::verdict`), so a derived
//! grant can never be wider, even if the parent later shrinks. [`AccessModel::check_derived`] is
//! the courtesy layer: it refuses, up front and with a clear reason, requests that are visibly
//! wider, so people are not handed grants that silently do less than they say.

use serde::Serialize;

use super::grant::{GrantSpec, Target};
use super::model::{AccessModel, MAX_DELEGATION_DEPTH, TargetKey};
use super::rights::Rights;
use super::schedule::Span;
use crate::error::{DomainError, ErrorCode};
use crate::ids::{AccountId, GrantId};

/// Why a derived grant is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DelegationError {
    /// The proposed grant names no parent.
    #[error("the grant is not derived from another (delegation is missing)")]
    NotDelegated,
    /// The parent grant is unknown.
    #[error("parent grant {parent} not found")]
    UnknownParent {
        /// The parent named.
        parent: GrantId,
    },
    /// The parent is revoked.
    #[error("parent grant {parent} is revoked")]
    ParentRevoked {
        /// The parent.
        parent: GrantId,
    },
    /// The sharer is not an active holder of the parent grant.
    #[error("{sharer} does not hold grant {parent} (not its subject, or the account is inactive)")]
    NotHolder {
        /// The sharer.
        sharer: AccountId,
        /// The parent.
        parent: GrantId,
    },
    /// The parent grant has no `share` right.
    #[error("grant {parent} does not allow sharing")]
    NoShareRight {
        /// The parent.
        parent: GrantId,
    },
    /// The requested rights are not a subset of the parent's.
    #[error("rights {requested:?} are wider than the parent's {allowed:?}")]
    RightsWider {
        /// Requested rights.
        requested: Vec<&'static str>,
        /// The parent's rights.
        allowed: Vec<&'static str>,
    },
    /// Re-sharing is not allowed this deep.
    #[error(
        "re-share depth exceeded: at most {allowed} further level(s) of sharing are allowed here"
    )]
    ReshareDepthExceeded {
        /// Further levels allowed for the derived grant.
        allowed: u8,
    },
    /// The chain would exceed the maximum depth.
    #[error("a delegation chain is at most {max} grants deep")]
    DepthExceeded {
        /// The cap.
        max: usize,
    },
    /// The target is unknown or not within the parent's target.
    #[error("the target is not within the parent grant's target")]
    TargetOutside,
    /// The validity is not within the parent's.
    #[error("the validity must lie within the parent grant's validity")]
    ValidityOutside,
    /// The validity is longer than the parent allows for shares.
    #[error("a shared grant may last at most {max_ms} ms (set an end within that)")]
    DurationTooLong {
        /// The cap.
        max_ms: i64,
    },
    /// More uses than the parent has left.
    #[error("at most {remaining} uses are left on the parent grant (set max_uses within that)")]
    UsesTooMany {
        /// Uses the parent has left.
        remaining: u32,
    },
    /// A weekly window lies outside the parent's weekly windows.
    #[error("weekly windows must lie within the parent grant's weekly windows")]
    WindowsWider,
}

impl From<DelegationError> for DomainError {
    fn from(error: DelegationError) -> Self {
        let field = match &error {
            DelegationError::NotDelegated | DelegationError::UnknownParent { .. } => "parent",
            DelegationError::ParentRevoked { .. }
            | DelegationError::NotHolder { .. }
            | DelegationError::NoShareRight { .. }
            | DelegationError::DepthExceeded { .. } => {
                return DomainError::new(ErrorCode::RuleViolation, error.to_string());
            }
            DelegationError::RightsWider { .. } => "rights",
            DelegationError::ReshareDepthExceeded { .. } => "reshare_depth",
            DelegationError::TargetOutside => "target",
            DelegationError::ValidityOutside | DelegationError::DurationTooLong { .. } => {
                "schedule"
            }
            DelegationError::UsesTooMany { .. } => "max_uses",
            DelegationError::WindowsWider => "weekly",
        };
        DomainError::invalid(field, error.to_string())
    }
}

const WEEK_MIN: u32 = 7 * 1440;

/// Week-minute ranges `[start, end)` covered by weekly spans, unrolled over two weeks so
/// overnight spans that wrap from Sunday into Monday stay contiguous; merged.
fn week_coverage(weekly: &[Vec<Span>; 7]) -> Vec<(u32, u32)> {
    let mut ranges = Vec::new();
    for (day, spans) in (0u32..).zip(weekly.iter()) {
        for span in spans {
            for week in [0, WEEK_MIN] {
                let base = week + day * 1440;
                ranges.push((
                    base + u32::from(span.start_min),
                    base + u32::from(span.end_min),
                ));
            }
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::new();
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

impl AccessModel {
    /// Checks a proposed derived grant (with `delegation` set) against its parent; `Ok` means it
    /// is not visibly wider. Evaluation intersects with the chain anyway.
    pub fn check_derived(&self, proposed: &GrantSpec) -> Result<(), DelegationError> {
        let delegation = proposed.delegation.ok_or(DelegationError::NotDelegated)?;
        let parent_id = delegation.parent;
        let parent = self
            .grant_idx(&parent_id)
            .and_then(|pi| self.grant(pi))
            .ok_or(DelegationError::UnknownParent { parent: parent_id })?;
        if parent.revoked {
            return Err(DelegationError::ParentRevoked { parent: parent_id });
        }
        let holder = self.person_idx(&delegation.shared_by).filter(|s| {
            self.person(*s).is_some_and(|rec| rec.enabled)
                && self.subject_covers(parent.subject, *s, None)
        });
        if holder.is_none() {
            return Err(DelegationError::NotHolder {
                sharer: delegation.shared_by,
                parent: parent_id,
            });
        }
        if !parent.rights.contains(Rights::SHARE) {
            return Err(DelegationError::NoShareRight { parent: parent_id });
        }
        if !proposed.rights.is_subset_of(parent.rights) {
            return Err(DelegationError::RightsWider {
                requested: proposed.rights.names(),
                allowed: parent.rights.names(),
            });
        }
        let allowed_depth = parent.reshare_depth.checked_sub(1);
        if (proposed.rights.contains(Rights::SHARE) && allowed_depth.is_none())
            || proposed.reshare_depth > allowed_depth.unwrap_or(0)
        {
            return Err(DelegationError::ReshareDepthExceeded {
                allowed: allowed_depth.unwrap_or(0),
            });
        }
        if usize::from(parent.depth) + 1 > MAX_DELEGATION_DEPTH {
            return Err(DelegationError::DepthExceeded {
                max: MAX_DELEGATION_DEPTH,
            });
        }
        if !self.target_within(&proposed.target, parent.target) {
            return Err(DelegationError::TargetOutside);
        }
        let schedule = &proposed.schedule;
        let until = schedule.valid_until_ms.unwrap_or(i64::MAX);
        if schedule.valid_from_ms < parent.valid_from_ms || until > parent.valid_until_ms {
            return Err(DelegationError::ValidityOutside);
        }
        if let Some(max_ms) = parent.max_share_duration_ms
            && until.saturating_sub(schedule.valid_from_ms) > max_ms
        {
            return Err(DelegationError::DurationTooLong { max_ms });
        }
        if let Some(max) = parent.max_uses {
            let remaining = max.saturating_sub(parent.uses);
            if schedule.max_uses.is_none_or(|uses| uses > remaining) {
                return Err(DelegationError::UsesTooMany { remaining });
            }
        }
        let Some(parent_pattern) = self.patterns.get(parent.pattern as usize) else {
            return Err(DelegationError::UnknownParent { parent: parent_id });
        };
        let coverage = week_coverage(&parent_pattern.weekly);
        for (day, spans) in (0u32..).zip(schedule.pattern.weekly.iter()) {
            for span in spans {
                let start = day * 1440 + u32::from(span.start_min);
                let end = day * 1440 + u32::from(span.end_min);
                if !coverage.iter().any(|(s, e)| *s <= start && end <= *e) {
                    return Err(DelegationError::WindowsWider);
                }
            }
        }
        Ok(())
    }

    fn target_within(&self, target: &Target, parent_key: u32) -> bool {
        let same = match (target, self.target_key(parent_key)) {
            (Target::Lock(lock), TargetKey::Lock(l)) => self.lock_idx(lock) == Some(l),
            (Target::Space(space), TargetKey::Space(s)) => self.space_index.get(space) == Some(&s),
            (Target::DeviceGroup(dg), TargetKey::DeviceGroup(d)) => {
                self.device_group_index.get(dg) == Some(&d)
            }
            _ => false,
        };
        if same {
            return true;
        }
        match target {
            Target::Lock(lock) => self
                .lock_idx(lock)
                .is_some_and(|l| self.target_covers(parent_key, l)),
            Target::Space(space) => {
                let Some(s) = self
                    .space_index
                    .get(space)
                    .and_then(|s| self.spaces.get(*s as usize))
                else {
                    return false;
                };
                match self.target_key(parent_key) {
                    TargetKey::Space(ps) => self
                        .spaces
                        .get(ps as usize)
                        .is_some_and(|parent| parent.enter <= s.enter && s.enter < parent.exit),
                    // A space can gain locks later; only a space subtree contains a space.
                    TargetKey::Lock(_) | TargetKey::DeviceGroup(_) => false,
                }
            }
            Target::DeviceGroup(dg) => {
                let Some(d) = self.device_group_index.get(dg) else {
                    return false;
                };
                let locks = self.device_group_locks.row(*d);
                !locks.is_empty() && locks.iter().all(|l| self.target_covers(parent_key, *l))
            }
        }
    }
}
