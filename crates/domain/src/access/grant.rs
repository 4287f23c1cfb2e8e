//! A grant as plain data: who (subject) may do what (rights) on which locks (target), when
//! (schedule), and where it came from (delegation).

use serde::{Deserialize, Serialize};

use super::rights::Rights;
use super::schedule::Schedule;
use crate::ids::{AccountId, DeviceGroupId, DeviceId, GrantId, GroupId, SpaceId};

/// Who a grant is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Subject {
    /// One person (an account of the organisation).
    Person(AccountId),
    /// Every member of a group, as membership stands at the instant decided.
    Group(GroupId),
}

/// Which locks a grant covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Target {
    /// One lock.
    Lock(DeviceId),
    /// Every lock placed in the space or any space below it (the whole subtree, as it stands).
    Space(SpaceId),
    /// Every lock in the device group.
    DeviceGroup(DeviceGroupId),
}

/// Where a derived grant comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Delegation {
    /// The grant it was derived from.
    pub parent: GrantId,
    /// The holder of the parent grant who shared it. The derived grant only works while this
    /// person is active and still a subject of the parent (shares lapse when the sharer leaves the
    /// group that gave them the right to share).
    pub shared_by: AccountId,
}

/// A grant as the model takes it. Independent of storage rows: the store maps its rows to this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantSpec {
    /// The grant's id.
    pub id: GrantId,
    /// Who.
    pub subject: Subject,
    /// Which locks.
    pub target: Target,
    /// What (only grants with `unlock` open a lock).
    pub rights: Rights,
    /// When.
    pub schedule: Schedule,
    /// Uses counted so far against this grant (its own and its descendants' unlocks).
    #[serde(default)]
    pub uses: u32,
    /// Derived from another grant (delegation), if so.
    #[serde(default)]
    pub delegation: Option<Delegation>,
    /// How many further levels of sharing grants derived from this one may still create
    /// (0 = holders may share, if they have `share`, only grants that cannot be re-shared).
    #[serde(default)]
    pub reshare_depth: u8,
    /// Longest validity a grant derived from this one may have, in ms; none = no limit beyond
    /// this grant's own validity.
    #[serde(default)]
    pub max_share_duration_ms: Option<i64>,
    /// Revoked grants allow nothing, and neither does anything derived from them.
    #[serde(default)]
    pub revoked: bool,
}

impl GrantSpec {
    /// A fresh, non-delegated, unrevoked grant with no uses yet.
    pub fn new(
        id: GrantId,
        subject: Subject,
        target: Target,
        rights: Rights,
        schedule: Schedule,
    ) -> Self {
        Self {
            id,
            subject,
            target,
            rights,
            schedule,
            uses: 0,
            delegation: None,
            reshare_depth: 0,
            max_share_duration_ms: None,
            revoked: false,
        }
    }

    /// Marks the grant as derived from `parent`, shared by `shared_by`.
    #[must_use]
    pub fn derived_from(mut self, parent: GrantId, shared_by: AccountId) -> Self {
        self.delegation = Some(Delegation { parent, shared_by });
        self
    }
}
