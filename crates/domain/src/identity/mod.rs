//! Identity rules: what a password must be, when an account (or a device, or an MFA factor) is
//! locked after failures, and how TOTP codes and recovery codes are checked. Pure functions only:
//! the server hashes, stores and sends mail; these decide. Time arrives as `now_ms` (epoch ms UTC)
//! and randomness as bytes from the caller, so every rule is tested without a clock or an RNG.
//!
//! Requirements: `shared/design/security.md` (Identity) and research `security.md` §1 rows 2, 3, 5,
//! 9 and §2 (lockout state machine, tests T1–T15).

pub mod base32;
pub mod blocklist;
pub mod lockout;
pub mod password;
pub mod recovery_code;
pub mod role;
pub mod settings;
pub mod totp;

pub use lockout::{
    Gate, LockoutEvent, LockoutParams, LockoutPolicy, LockoutPolicyError, LockoutState,
};
pub use password::{ContextWordKind, PasswordContext, PasswordPolicy, PasswordRefusal};
pub use role::{ApiScope, MembershipStatus, Role};
pub use settings::SecuritySettings;
pub use totp::{TotpRefusal, verify_totp};
