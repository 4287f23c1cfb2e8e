//! Roles inside an organisation and what each may do. Platform operators are not a role here:
//! they are a flag on the account and see no tenant data beyond contract and counts.

use serde::Serialize;

/// A member's role in one organisation. The order is the order of reach used by
/// `Need` checks (`role >= need`): a guest reaches least, an org admin everything. What a space
/// manager or a device owner may touch is further narrowed by their scope (the directory's
/// `DirectoryScope`), never by the order alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A time-limited member (the membership's `expires_at_ms`); expired, it grants nothing.
    Guest,
    /// Uses keys; manages only their own account.
    Member,
    /// Manages access to the devices they own (the residential case).
    DeviceOwner,
    /// Manages devices (and later grants) only within given space subtrees.
    SpaceManager,
    /// Manages the organisation's people, settings, directory and keys.
    OrgAdmin,
}

impl Role {
    /// Stored and API name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Guest => "guest",
            Role::Member => "member",
            Role::DeviceOwner => "device_owner",
            Role::SpaceManager => "space_manager",
            Role::OrgAdmin => "org_admin",
        }
    }

    /// Parses the stored or API name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "guest" => Some(Role::Guest),
            "member" => Some(Role::Member),
            "device_owner" => Some(Role::DeviceOwner),
            "space_manager" => Some(Role::SpaceManager),
            "org_admin" => Some(Role::OrgAdmin),
            _ => None,
        }
    }

    /// True for roles that reach admin pages and admin API calls: these need MFA enrolled and
    /// shorter sessions (security.md).
    pub const fn is_admin(self) -> bool {
        matches!(self, Role::OrgAdmin)
    }

    /// True for roles that manage other people's access (org admins and space managers): their
    /// directory work needs MFA enrolled like admin work. Device owners manage only their own
    /// devices from their phone and are not held to it.
    pub const fn needs_mfa(self) -> bool {
        matches!(self, Role::OrgAdmin | Role::SpaceManager)
    }
}

/// Where a membership is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MembershipStatus {
    /// Invited, not yet accepted; holds a seat.
    Invited,
    /// In use; holds a seat.
    Active,
    /// Switched off by an admin; holds no seat and grants nothing.
    Disabled,
}

impl MembershipStatus {
    /// Stored and API name.
    pub const fn as_str(self) -> &'static str {
        match self {
            MembershipStatus::Invited => "invited",
            MembershipStatus::Active => "active",
            MembershipStatus::Disabled => "disabled",
        }
    }

    /// Parses the stored name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "invited" => Some(MembershipStatus::Invited),
            "active" => Some(MembershipStatus::Active),
            "disabled" => Some(MembershipStatus::Disabled),
            _ => None,
        }
    }

    /// True if the membership counts against the organisation's seat limit.
    pub const fn holds_seat(self) -> bool {
        matches!(self, MembershipStatus::Invited | MembershipStatus::Active)
    }
}

/// What an API token may do, on top of its owner's role (never more than the owner may).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiScope {
    /// GET requests only.
    Read,
    /// Reads and changes.
    Write,
}

impl ApiScope {
    /// Stored and API name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ApiScope::Read => "read",
            ApiScope::Write => "write",
        }
    }

    /// Parses the stored or API name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "read" => Some(ApiScope::Read),
            "write" => Some(ApiScope::Write),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for role in [
            Role::Guest,
            Role::Member,
            Role::DeviceOwner,
            Role::SpaceManager,
            Role::OrgAdmin,
        ] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        for status in [
            MembershipStatus::Invited,
            MembershipStatus::Active,
            MembershipStatus::Disabled,
        ] {
            assert_eq!(MembershipStatus::parse(status.as_str()), Some(status));
        }
        for scope in [ApiScope::Read, ApiScope::Write] {
            assert_eq!(ApiScope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(Role::parse("operator"), None);
        assert_eq!(Role::parse("ORG_ADMIN"), None);
        assert!(Role::OrgAdmin.is_admin() && !Role::Member.is_admin());
        assert!(!MembershipStatus::Disabled.holds_seat());
        assert!(Role::Guest < Role::Member && Role::SpaceManager < Role::OrgAdmin);
        assert!(Role::SpaceManager.needs_mfa() && !Role::DeviceOwner.needs_mfa());
    }
}
