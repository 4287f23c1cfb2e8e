//! The device registry: locks and hubs with a name, a model, and a place. Binding to real
//! hardware comes with the devices work.

use serde::Serialize;

use crate::error::DomainError;
use crate::ids::{DeviceId, SpaceId};

/// Lock or hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// A door lock; it always sits in a space (grants target it through its place).
    Lock,
    /// A hub that relays for locks; where it sits is optional.
    Hub,
}

impl DeviceKind {
    /// Stored and API name.
    pub const fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Lock => "lock",
            DeviceKind::Hub => "hub",
        }
    }

    /// Parses the stored or API name.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw {
            "lock" => Ok(DeviceKind::Lock),
            "hub" => Ok(DeviceKind::Hub),
            _ => Err(DomainError::invalid("kind", "kind must be lock or hub")),
        }
    }

    /// Checks a placement: a lock must be placed in a space.
    pub fn check_placement(self, space: Option<SpaceId>) -> Result<(), DomainError> {
        if self == DeviceKind::Lock && space.is_none() {
            return Err(DomainError::invalid(
                "space_id",
                "a lock must be placed in a space; give space_id",
            ));
        }
        Ok(())
    }
}

/// Whether the device is in service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceStatus {
    /// In service.
    Enabled,
    /// Switched off: opens for nobody (decisions deny with "device disabled").
    Disabled,
}

impl DeviceStatus {
    /// Stored and API name.
    pub const fn as_str(self) -> &'static str {
        match self {
            DeviceStatus::Enabled => "enabled",
            DeviceStatus::Disabled => "disabled",
        }
    }

    /// Parses the stored or API name.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw {
            "enabled" => Ok(DeviceStatus::Enabled),
            "disabled" => Ok(DeviceStatus::Disabled),
            _ => Err(DomainError::invalid(
                "status",
                "status must be enabled or disabled",
            )),
        }
    }
}

/// A registered device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    /// Id.
    pub id: DeviceId,
    /// Lock or hub.
    pub kind: DeviceKind,
    /// Display name.
    pub name: String,
    /// Model, free text.
    pub model: Option<String>,
    /// The space it is placed in (always for locks).
    pub space_id: Option<SpaceId>,
    /// In service or not.
    pub status: DeviceStatus,
    /// Labels, normalised and sorted.
    pub labels: Vec<String>,
    /// Creation time, epoch ms UTC.
    pub created_at_ms: i64,
    /// Optimistic-concurrency version.
    pub version: i64,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_statuses_parse_and_locks_need_a_place() {
        assert_eq!(DeviceKind::parse("lock").unwrap(), DeviceKind::Lock);
        assert!(DeviceKind::parse("door").is_err());
        assert!(DeviceStatus::parse("off").is_err());
        assert!(DeviceKind::Lock.check_placement(None).is_err());
        assert!(DeviceKind::Hub.check_placement(None).is_ok());
        assert!(
            DeviceKind::Lock
                .check_placement(Some(SpaceId::generate()))
                .is_ok()
        );
    }
}
