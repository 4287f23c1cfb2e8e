//! An organisation's security settings: the parameters the brief lets a tenant tune, each within
//! its bounds (security.md; research §2.3). Stored as JSON on the organisation; an empty object
//! means "all defaults", so organisations created before a setting existed keep working.
//!
//! An account is platform-level and may belong to several organisations; where their settings
//! differ, the **strictest** applies to it ([`SecuritySettings::strictest`]): the longest minimum
//! password length, and the lockout policy that locks soonest.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::identity::lockout::{LockoutParams, LockoutPolicy};
use crate::identity::password::PasswordPolicy;

/// Bounds of the invitation lifetime, hours (default 72: a long weekend).
pub const INVITATION_TTL_HOURS_RANGE: std::ops::RangeInclusive<u32> = 1..=168;
/// Default invitation lifetime, hours.
pub const DEFAULT_INVITATION_TTL_HOURS: u32 = 72;

/// The settings as stored and sent over the API (every field optional on input).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecuritySettingsInput {
    /// Minimum password length in code points (8–64; org admins never below 12).
    pub password_min_chars: usize,
    /// Lockout of the password lanes.
    pub lockout: LockoutParams,
    /// How long an invitation link stays valid, hours (1–168).
    pub invitation_ttl_hours: u32,
}

impl Default for SecuritySettingsInput {
    fn default() -> Self {
        SecuritySettings::default().into()
    }
}

/// Validated security settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SecuritySettingsInput", into = "SecuritySettingsInput")]
pub struct SecuritySettings {
    password: PasswordPolicy,
    lockout: LockoutPolicy,
    invitation_ttl_hours: u32,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self {
            password: PasswordPolicy::STANDARD,
            lockout: LockoutPolicy::password_default(),
            invitation_ttl_hours: DEFAULT_INVITATION_TTL_HOURS,
        }
    }
}

impl TryFrom<SecuritySettingsInput> for SecuritySettings {
    type Error = DomainError;

    fn try_from(input: SecuritySettingsInput) -> Result<Self, DomainError> {
        let password = PasswordPolicy::with_min_chars(input.password_min_chars)?;
        let lockout = LockoutPolicy::try_from(input.lockout)
            .map_err(|e| DomainError::invalid(e.field(), e.to_string()))?;
        if !INVITATION_TTL_HOURS_RANGE.contains(&input.invitation_ttl_hours) {
            return Err(DomainError::invalid(
                "invitation_ttl_hours",
                format!(
                    "invitation links must stay valid between {} and {} hours",
                    INVITATION_TTL_HOURS_RANGE.start(),
                    INVITATION_TTL_HOURS_RANGE.end()
                ),
            ));
        }
        Ok(Self {
            password,
            lockout,
            invitation_ttl_hours: input.invitation_ttl_hours,
        })
    }
}

impl From<SecuritySettings> for SecuritySettingsInput {
    fn from(s: SecuritySettings) -> Self {
        Self {
            password_min_chars: s.password.min_chars(),
            lockout: s.lockout.params().clone(),
            invitation_ttl_hours: s.invitation_ttl_hours,
        }
    }
}

impl SecuritySettings {
    /// The password policy for members (admins: [`PasswordPolicy::for_org_admin`]).
    pub fn password_policy(&self) -> PasswordPolicy {
        self.password
    }

    /// The lockout policy of the password lanes.
    pub fn lockout_policy(&self) -> &LockoutPolicy {
        &self.lockout
    }

    /// Invitation lifetime in milliseconds.
    pub fn invitation_ttl_ms(&self) -> i64 {
        i64::from(self.invitation_ttl_hours) * 60 * 60 * 1000
    }

    /// The strictest combination of several organisations' settings (defaults when none): the
    /// longest minimum password, and the lockout policy that locks after the fewest failures
    /// (ties: the one with the longest first lock).
    pub fn strictest<'a>(all: impl IntoIterator<Item = &'a SecuritySettings>) -> SecuritySettings {
        let mut result: Option<SecuritySettings> = None;
        for s in all {
            result = Some(match result {
                None => s.clone(),
                Some(mut acc) => {
                    if s.password.min_chars() > acc.password.min_chars() {
                        acc.password = s.password;
                    }
                    let key =
                        |p: &LockoutPolicy| (p.max_consecutive_failures(), -p.lock_duration_ms(1));
                    if key(&s.lockout) < key(&acc.lockout) {
                        acc.lockout = s.lockout.clone();
                    }
                    acc.invitation_ttl_hours = acc.invitation_ttl_hours.min(s.invitation_ttl_hours);
                    acc
                }
            });
        }
        result.unwrap_or_default()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<SecuritySettings, serde_json::Error> {
        serde_json::from_str(json)
    }

    fn field_of(e: &serde_json::Error) -> String {
        e.to_string()
    }

    #[test]
    fn empty_json_means_the_defaults() {
        let s = parse("{}").unwrap();
        assert_eq!(s, SecuritySettings::default());
        assert_eq!(s.lockout_policy().max_consecutive_failures(), 3);
        assert_eq!(s.password_policy().min_chars(), 8);
        assert_eq!(s.invitation_ttl_ms(), 72 * 3_600_000);
        assert_eq!(parse(&serde_json::to_string(&s).unwrap()).unwrap(), s);
    }

    #[test]
    fn values_outside_the_bounds_are_refused_naming_the_field() {
        let e = SecuritySettingsInput {
            password_min_chars: 7,
            ..SecuritySettingsInput::default()
        };
        assert_eq!(
            SecuritySettings::try_from(e).unwrap_err().field,
            Some("password_min_chars")
        );
        let e = SecuritySettingsInput {
            invitation_ttl_hours: 0,
            ..SecuritySettingsInput::default()
        };
        assert_eq!(
            SecuritySettings::try_from(e).unwrap_err().field,
            Some("invitation_ttl_hours")
        );
        let e = parse(
            r#"{"lockout": {"max_consecutive_failures": 2, "lock_durations_ms": [300000],
                "failure_window_ms": 86400000, "hard_lock_after_episodes": 10,
                "notify_user_on_lock": true}}"#,
        )
        .unwrap_err();
        assert!(field_of(&e).contains("failures before a lock"), "{e}");
        assert!(parse(r#"{"surprise": 1}"#).is_err());
    }

    #[test]
    fn the_strictest_of_several_organisations_applies() {
        let mut lenient = SecuritySettingsInput::default();
        lenient.lockout.max_consecutive_failures = 5;
        lenient.password_min_chars = 10;
        let strict = SecuritySettingsInput {
            password_min_chars: 9,
            ..SecuritySettingsInput::default()
        };
        let (lenient, strict) = (
            SecuritySettings::try_from(lenient).unwrap(),
            SecuritySettings::try_from(strict).unwrap(),
        );
        let merged = SecuritySettings::strictest([&lenient, &strict]);
        assert_eq!(merged.password_policy().min_chars(), 10);
        assert_eq!(merged.lockout_policy().max_consecutive_failures(), 3);
        assert_eq!(
            SecuritySettings::strictest(std::iter::empty()),
            SecuritySettings::default()
        );
    }
}
