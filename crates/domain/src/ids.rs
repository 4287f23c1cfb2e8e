//! Typed identifiers. Every id is a UUIDv7 (time-ordered, so indexes stay append-friendly) stored as
//! its canonical text form on every backend (architecture: "storage is portable").

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// A UUIDv7 identifier tagged with the kind of thing it names, so a `SiteId` cannot be passed where
/// an `OrgId` is expected.
pub struct Id<K> {
    uuid: Uuid,
    kind: PhantomData<fn() -> K>,
}

impl<K> Id<K> {
    /// A fresh time-ordered id.
    pub fn generate() -> Self {
        Self::from_uuid(Uuid::now_v7())
    }

    /// Wraps an existing UUID.
    pub const fn from_uuid(uuid: Uuid) -> Self {
        Self {
            uuid,
            kind: PhantomData,
        }
    }

    /// The underlying UUID.
    pub const fn uuid(&self) -> Uuid {
        self.uuid
    }
}

impl<K> Clone for Id<K> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K> Copy for Id<K> {}
impl<K> PartialEq for Id<K> {
    fn eq(&self, other: &Self) -> bool {
        self.uuid == other.uuid
    }
}
impl<K> Eq for Id<K> {}
impl<K> std::hash::Hash for Id<K> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.uuid.hash(state);
    }
}
impl<K> PartialOrd for Id<K> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<K> Ord for Id<K> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.uuid.cmp(&other.uuid)
    }
}
impl<K> fmt::Display for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.uuid.hyphenated().fmt(f)
    }
}
impl<K> fmt::Debug for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The text was not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid id (expected a UUID such as 0192f5e0-8c6a-7cc3-9d1e-3b2a4c5d6e7f)")]
pub struct InvalidId;

impl<K> FromStr for Id<K> {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s)
            .map(Self::from_uuid)
            .map_err(|_| InvalidId)
    }
}
impl<K> Serialize for Id<K> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
impl<'de, K> Deserialize<'de> for Id<K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Marker for organisation ids.
pub enum Organisation {}
/// Marker for site ids.
pub enum Site {}
/// Marker for account ids.
pub enum Account {}
/// Marker for space ids.
pub enum Space {}
/// Marker for group (of people) ids.
pub enum Group {}
/// Marker for device ids.
pub enum Device {}
/// Marker for device group ids.
pub enum DeviceGroup {}
/// Marker for grant ids.
pub enum Grant {}

/// An organisation — a tenant. Every tenant-owned row carries one.
pub type OrgId = Id<Organisation>;
/// The tenant of a row; the same id as the organisation that owns it.
pub type TenantId = OrgId;
/// A site (building or property) of an organisation.
pub type SiteId = Id<Site>;
/// A person's account; platform-level, since one account may belong to several organisations.
pub type AccountId = Id<Account>;
/// A named place inside a site (building, floor, office, room, unit); spaces form a tree per site.
pub type SpaceId = Id<Space>;
/// A named group of an organisation's people.
pub type GroupId = Id<Group>;
/// A registered device (lock or hub) placed in a space.
pub type DeviceId = Id<Device>;
/// A named group of devices.
pub type DeviceGroupId = Id<DeviceGroup>;
/// A grant: subject may do an action on a target during a schedule.
pub type GrantId = Id<Grant>;

/// Which wall a row lives behind: one tenant, or the platform itself (operator actions, platform
/// mail). Each scope has its own audit hash chain, its own keys, and on PostgreSQL its own
/// row-level-security setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Events of the platform operator.
    Platform,
    /// Events inside one organisation.
    Tenant(TenantId),
}

impl Scope {
    /// The key stored in the `tenant_id` column; the platform uses the nil UUID, which no UUIDv7
    /// can equal.
    pub fn storage_key(&self) -> String {
        match self {
            Scope::Platform => Uuid::nil().hyphenated().to_string(),
            Scope::Tenant(t) => t.to_string(),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Platform => f.write_str("platform"),
            Scope::Tenant(t) => write!(f, "org {t}"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        let id = OrgId::generate();
        let back: OrgId = id.to_string().parse().unwrap();
        assert_eq!(id, back);
    }

    #[test]
    fn garbage_is_not_an_id() {
        assert_eq!("not-a-uuid".parse::<SiteId>(), Err(InvalidId));
    }

    #[test]
    fn generated_ids_are_version_7() {
        assert_eq!(OrgId::generate().uuid().get_version_num(), 7);
    }
}
