//! Named groups of people and of devices.

use serde::Serialize;

use crate::ids::{AccountId, DeviceGroupId, DeviceId, GroupId};

/// Longest group description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1000;

/// A group of the organisation's people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// Id.
    pub id: GroupId,
    /// Display name.
    pub name: String,
    /// What the group is for.
    pub description: Option<String>,
    /// Labels, normalised and sorted.
    pub labels: Vec<String>,
    /// The members' accounts (members of the organisation), sorted.
    pub members: Vec<AccountId>,
    /// Creation time, epoch ms UTC.
    pub created_at_ms: i64,
    /// Optimistic-concurrency version (bumped by member changes too).
    pub version: i64,
}

/// A group of devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceGroup {
    /// Id.
    pub id: DeviceGroupId,
    /// Display name.
    pub name: String,
    /// What the group is for.
    pub description: Option<String>,
    /// Labels, normalised and sorted.
    pub labels: Vec<String>,
    /// The member devices, sorted.
    pub members: Vec<DeviceId>,
    /// Creation time, epoch ms UTC.
    pub created_at_ms: i64,
    /// Optimistic-concurrency version (bumped by member changes too).
    pub version: i64,
}
