//! Tenancy: organisations (tenants) with a contract, and the sites that belong to them.
//! Whitepaper requirement 1: organisations with contract limits on accounts.

use serde::Serialize;

use crate::error::{DomainError, ErrorCode};
use crate::ids::{OrgId, SiteId};

/// Longest organisation or site name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest e-mail address accepted (RFC 5321 path limit).
pub const MAX_EMAIL_CHARS: usize = 254;
/// Largest seat limit a contract may carry.
pub const MAX_SEAT_LIMIT: i64 = 1_000_000;

/// Where an organisation is in its contract's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum OrgStatus {
    /// In service.
    Active,
    /// Temporarily out of service (e.g. unpaid); data kept, changes refused.
    Suspended,
    /// Contract ended at `at_ms`; data is read-only and is deleted within 90 days (requirement 16).
    Terminated {
        /// When the contract ended, epoch ms UTC.
        at_ms: i64,
    },
}

impl OrgStatus {
    /// The name stored in the database.
    pub const fn as_str(&self) -> &'static str {
        match self {
            OrgStatus::Active => "active",
            OrgStatus::Suspended => "suspended",
            OrgStatus::Terminated { .. } => "terminated",
        }
    }

    /// Rebuilds a status from its stored name and termination time.
    pub fn from_stored(name: &str, terminated_at_ms: Option<i64>) -> Option<Self> {
        match (name, terminated_at_ms) {
            ("active", _) => Some(OrgStatus::Active),
            ("suspended", _) => Some(OrgStatus::Suspended),
            ("terminated", Some(at_ms)) => Some(OrgStatus::Terminated { at_ms }),
            _ => None,
        }
    }

    /// The termination time, if terminated.
    pub const fn terminated_at_ms(&self) -> Option<i64> {
        match self {
            OrgStatus::Terminated { at_ms } => Some(*at_ms),
            _ => None,
        }
    }

    /// Suspending is allowed only for an active organisation.
    pub fn suspend(self) -> Result<Self, DomainError> {
        match self {
            OrgStatus::Active => Ok(OrgStatus::Suspended),
            OrgStatus::Suspended => Err(DomainError::new(
                ErrorCode::Conflict,
                "the organisation is already suspended",
            )),
            OrgStatus::Terminated { .. } => Err(DomainError::new(
                ErrorCode::TenantInactive,
                "the organisation is terminated; a terminated contract cannot be suspended",
            )),
        }
    }

    /// Resuming is allowed only for a suspended organisation.
    pub fn resume(self) -> Result<Self, DomainError> {
        match self {
            OrgStatus::Suspended => Ok(OrgStatus::Active),
            OrgStatus::Active => Err(DomainError::new(
                ErrorCode::Conflict,
                "the organisation is already active",
            )),
            OrgStatus::Terminated { .. } => Err(DomainError::new(
                ErrorCode::TenantInactive,
                "the organisation is terminated and cannot be resumed",
            )),
        }
    }

    /// Terminating is allowed from active or suspended; the time is recorded for the 90-day purge.
    pub fn terminate(self, at_ms: i64) -> Result<Self, DomainError> {
        match self {
            OrgStatus::Active | OrgStatus::Suspended => Ok(OrgStatus::Terminated { at_ms }),
            OrgStatus::Terminated { .. } => Err(DomainError::new(
                ErrorCode::Conflict,
                "the organisation is already terminated",
            )),
        }
    }
}

/// An organisation's contract with the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contract {
    /// How many accounts the organisation may have.
    pub seat_limit: i64,
    /// Where the operator sends contract and incident notices.
    pub contact_email: String,
}

/// An organisation (tenant).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Organisation {
    /// Its id, which is also the tenant id of everything it owns.
    pub id: OrgId,
    /// Display name.
    pub name: String,
    /// Contract terms.
    pub contract: Contract,
    /// Life-cycle status.
    #[serde(flatten)]
    pub status: OrgStatus,
    /// Creation time, epoch ms UTC.
    pub created_at_ms: i64,
    /// Optimistic-concurrency version, bumped on each change.
    pub version: i64,
}

/// What an operator supplies to create an organisation, already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrganisation {
    /// Display name.
    pub name: String,
    /// Contract terms.
    pub contract: Contract,
}

impl NewOrganisation {
    /// Validates and normalises raw input: trims names, lower-cases the e-mail domain.
    pub fn parse(name: &str, contact_email: &str, seat_limit: i64) -> Result<Self, DomainError> {
        Ok(Self {
            name: parse_name("name", name)?,
            contract: Contract {
                seat_limit: parse_seat_limit(seat_limit)?,
                contact_email: parse_email("contact_email", contact_email)?,
            },
        })
    }
}

/// A site: a building or property with its own time zone (schedules are evaluated in it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Site {
    /// Site id.
    pub id: SiteId,
    /// Owning organisation.
    pub org_id: OrgId,
    /// Display name.
    pub name: String,
    /// IANA time zone name, e.g. `Asia/Tokyo`.
    pub time_zone: String,
    /// Postal address, free text.
    pub address: Option<String>,
    /// Labels, normalised and sorted.
    pub labels: Vec<String>,
    /// Creation time, epoch ms UTC.
    pub created_at_ms: i64,
    /// Optimistic-concurrency version.
    pub version: i64,
}

/// Checks a display name: 1–200 characters after trimming, no control characters (which would
/// let a name forge log lines or break layouts).
pub fn parse_name(field: &'static str, raw: &str) -> Result<String, DomainError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(DomainError::invalid(
            field,
            format!("{field} must not be empty"),
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(DomainError::invalid(
            field,
            format!("{field} must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            field,
            format!("{field} must not contain control characters (such as line breaks or NUL)"),
        ));
    }
    Ok(name.to_owned())
}

/// Checks an e-mail address's shape (one `@`, non-empty local part, a dotted domain, no spaces
/// or control characters, at most 254 characters) and lower-cases the domain. Deliverability is
/// proven later by the invitation link, not guessed here.
pub fn parse_email(field: &'static str, raw: &str) -> Result<String, DomainError> {
    let email = raw.trim();
    let bad = || {
        DomainError::invalid(
            field,
            format!("{field} must be an e-mail address such as admin@example.com"),
        )
    };
    if email.chars().count() > MAX_EMAIL_CHARS {
        return Err(DomainError::invalid(
            field,
            format!("{field} must be at most {MAX_EMAIL_CHARS} characters"),
        ));
    }
    if email
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '<' | '>' | '"' | ',' | ';'))
    {
        return Err(bad());
    }
    let (local, domain) = email.split_once('@').ok_or_else(bad)?;
    let labels_ok = domain.split('.').all(|label| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && !label.contains('@')
    });
    if local.is_empty() || local.len() > 64 || !domain.contains('.') || !labels_ok {
        return Err(bad());
    }
    Ok(format!("{local}@{}", domain.to_lowercase()))
}

/// Checks a contract's seat limit: 1 to 1 000 000.
pub fn parse_seat_limit(seat_limit: i64) -> Result<i64, DomainError> {
    if (1..=MAX_SEAT_LIMIT).contains(&seat_limit) {
        Ok(seat_limit)
    } else {
        Err(DomainError::invalid(
            "seat_limit",
            format!("seat_limit must be between 1 and {MAX_SEAT_LIMIT}"),
        ))
    }
}

/// Checks an IANA time zone name against the bundled time zone database.
pub fn parse_time_zone(raw: &str) -> Result<String, DomainError> {
    let name = raw.trim();
    match jiff::tz::TimeZone::get(name) {
        Ok(_) if !name.is_empty() => Ok(name.to_owned()),
        _ => Err(DomainError::invalid(
            "time_zone",
            format!(
                "unknown time zone {name:?}: use an IANA name such as Europe/Berlin or Asia/Tokyo"
            ),
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(parse_name("name", "  Acme  ").unwrap(), "Acme");
        assert!(parse_name("name", "   ").is_err());
        assert!(parse_name("name", &"x".repeat(201)).is_err());
        assert!(parse_name("name", &"寿".repeat(200)).is_ok());
    }

    #[test]
    fn names_with_line_breaks_or_nul_are_refused() {
        for bad in ["Acme\nINFO forged", "Ac\rme", "Ac\0me"] {
            let err = parse_name("name", bad).unwrap_err();
            assert_eq!(err.field, Some("name"));
        }
    }

    #[test]
    fn emails_are_checked_and_domain_lowercased() {
        assert_eq!(
            parse_email("e", "Admin@Example.COM").unwrap(),
            "Admin@example.com"
        );
        for bad in [
            "",
            "no-at-sign",
            "a@b",
            "@example.com",
            "a b@example.com",
            "a@@example.com",
            "a@example..com",
            "a@exa\u{0}mple.com",
        ] {
            assert!(parse_email("e", bad).is_err(), "{bad:?} accepted");
        }
        assert!(parse_email("e", &format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn seat_limit_is_bounded() {
        assert!(parse_seat_limit(0).is_err());
        assert!(parse_seat_limit(1).is_ok());
        assert!(parse_seat_limit(MAX_SEAT_LIMIT + 1).is_err());
    }

    #[test]
    fn time_zones_must_be_known() {
        assert_eq!(parse_time_zone("Asia/Tokyo").unwrap(), "Asia/Tokyo");
        assert!(parse_time_zone("Mars/Olympus").is_err());
        assert!(parse_time_zone("").is_err());
    }

    #[test]
    fn status_transitions() {
        let suspended = OrgStatus::Active.suspend().unwrap();
        assert_eq!(suspended, OrgStatus::Suspended);
        assert_eq!(suspended.suspend().unwrap_err().code, ErrorCode::Conflict);
        assert_eq!(suspended.resume().unwrap(), OrgStatus::Active);
        let ended = suspended.terminate(7).unwrap();
        assert_eq!(ended.terminated_at_ms(), Some(7));
        assert_eq!(ended.suspend().unwrap_err().code, ErrorCode::TenantInactive);
        assert_eq!(OrgStatus::from_stored(ended.as_str(), Some(7)), Some(ended));
        assert_eq!(OrgStatus::from_stored("terminated", None), None);
    }
}
