//! Password login — the one code path every entry point calls (research §2.2 I2): the API and
//! console sign-in ([`App::login`]), step-up re-authentication and the current-password check of a
//! password change all go through [`App::authenticate`], so they share the per-IP throttle, the
//! lockout counters and the audit trail.
//!
//! Order of work, so that 50 parallel wrong attempts still produce exactly one lock episode and
//! never hold a database lock while Argon2 runs (§2.2 I1, test T6):
//! 0. The per-IP throttle (L0), before anything is hashed: 429 + `Retry-After`.
//! 1. Under the account's row lock: pick the lane — a valid device cookie for this account selects
//!    that device's own counter (L2), otherwise the account's untrusted lane (L1) — check its
//!    gate; if open, count the attempt as a failure *provisionally* and commit. Attempts beyond
//!    the limit therefore find the gate shut and never reach Argon2.
//! 2. Verify the password (a dummy verify for unknown or locked accounts: same time, same answer).
//! 3. Under the row lock again: check the second factor (TOTP or a recovery code, with its own
//!    5-try lock, L5); on success clear the lane's count; on failure the count stands, and a lock
//!    this attempt caused is audited and e-mailed (L4).
//!
//! Every failure — unknown account, wrong password or code, locked, disabled — gets the same
//! [`LoginError::InvalidCredentials`] (§2.5; ASVS 5.0 6.3.8). A console lock never touches door
//! keys, API tokens or existing sessions (§2.2 I5).

use latchkey_domain::audit::Outcome;
use latchkey_domain::identity::MembershipStatus;
use latchkey_domain::identity::lockout::{Gate, LockoutEvent, LockoutPolicy, LockoutState};
use latchkey_domain::identity::password::normalise_password;
use latchkey_domain::identity::recovery_code::normalise_recovery_code;
use latchkey_domain::identity::totp::verify_totp;
use latchkey_domain::{AccountId, DomainError, ErrorCode, Scope};
use latchkey_store::Tx;
use latchkey_store::repo::{
    AccountRecord, AccountRepo, AccountStatus, AuditRepo, DeviceRepo, MembershipRepo, MfaRepo,
    NewAuditEvent, SessionRecord, SessionRepo, TrustedDevice,
};
use serde_json::json;

use crate::app::{App, ServiceError};
use crate::identity::tokens::{looks_like_token, new_token};
use crate::tenancy::security_settings::effective_settings;

/// Idle timeout of a member's session (security.md: 30 min).
pub const IDLE_TIMEOUT_MS: i64 = 30 * 60 * 1000;
/// Idle timeout of an admin's or operator's session (security.md: 15 min).
pub const ADMIN_IDLE_TIMEOUT_MS: i64 = 15 * 60 * 1000;
/// Absolute session lifetime (security.md: 12 h).
pub const ABSOLUTE_LIFETIME_MS: i64 = 12 * 60 * 60 * 1000;
/// The purpose under which session ids are digested.
pub const SESSION_PURPOSE: &str = "session";
/// The purpose under which device tokens are digested.
pub const DEVICE_PURPOSE: &str = "device";
/// The purpose under which recovery codes are digested.
pub const RECOVERY_CODE_PURPOSE: &str = "recovery_code";
/// Trusted devices kept per account (the most recently used).
pub const MAX_DEVICES_PER_ACCOUNT: i64 = 20;

/// A sign-in attempt.
#[derive(Debug, Clone, Default)]
pub struct LoginRequest<'a> {
    /// E-mail address as typed.
    pub email: &'a str,
    /// Password as typed.
    pub password: &'a str,
    /// TOTP code (or a recovery code), required once MFA is enrolled.
    pub totp: Option<&'a str>,
    /// Client IP (the TCP peer; the per-IP throttle's key).
    pub source_ip: Option<String>,
    /// Request id.
    pub request_id: Option<String>,
    /// The device cookie's value, if the browser sent one (research §2.2 L2).
    pub device_token: Option<&'a str>,
}

/// A successful sign-in: the session id to put in the cookie (never stored in clear).
#[derive(Debug, Clone)]
pub struct LoginSuccess {
    /// Who signed in.
    pub account_id: AccountId,
    /// The opaque session id for the cookie.
    pub session_token: String,
    /// The session as stored.
    pub session: SessionRecord,
    /// A new device token to set as the device cookie (none if the request's one was valid).
    pub device_token: Option<String>,
    /// True if the account has TOTP enrolled.
    pub mfa_enrolled: bool,
}

/// Why a sign-in failed, as far as the client may know.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown account, wrong password or code, locked, or disabled — deliberately one answer.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many failures from this client address (L0); retry after this many seconds.
    #[error("too many failed attempts from this address; retry in {retry_after_secs} s")]
    Throttled {
        /// Seconds until the address may try again.
        retry_after_secs: u64,
    },
    /// The store failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<latchkey_store::StoreError> for LoginError {
    fn from(e: latchkey_store::StoreError) -> Self {
        LoginError::Service(e.into())
    }
}

/// The 429 of the per-IP throttle as a service error (for entry points that answer with one).
pub(crate) fn throttled(retry_after_secs: u64) -> ServiceError {
    DomainError::new(
        ErrorCode::RateLimited,
        format!("too many attempts from your address; try again in {retry_after_secs} seconds"),
    )
    .into()
}

/// Whether the second factor is checked by this entry point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SecondFactor {
    /// Sign-in and step-up: the TOTP code (or a recovery code) is needed once enrolled.
    Required,
    /// Re-checking the password inside a session that already passed it (password change).
    AlreadyProven,
}

/// A successful authentication with the settling transaction still open, so the caller's effect
/// (a new session, a rotated one, a new password) commits atomically with the counter reset.
pub(crate) struct Authenticated {
    /// The settling transaction (holds the account's row lock).
    pub tx: Tx,
    /// The account, as written back in `tx`.
    pub account: AccountRecord,
    /// The trusted device whose lane was used, if any.
    pub device: Option<TrustedDevice>,
}

fn event(
    request: &LoginRequest<'_>,
    at_ms: i64,
    action: &str,
    account: Option<AccountId>,
    outcome: Outcome,
    details: serde_json::Value,
) -> NewAuditEvent {
    NewAuditEvent {
        at_ms,
        actor: account.map_or_else(|| "anonymous".to_owned(), |a| format!("user:{a}")),
        action: action.into(),
        target: account.map_or_else(|| "user:unknown".to_owned(), |a| format!("user:{a}")),
        outcome,
        source_ip: request.source_ip.clone(),
        request_id: request.request_id.clone(),
        details,
    }
}

/// True if the account is an active org admin anywhere (admins get the shorter idle timeout).
pub(crate) async fn admin_anywhere(
    tx: &mut Tx,
    account: AccountId,
) -> Result<bool, latchkey_store::StoreError> {
    for org in tx.organisations_of(account).await? {
        if let Some(m) = tx.membership(org, account).await?
            && m.status == MembershipStatus::Active
            && m.role.is_admin()
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The lockout lane of one attempt: the device's own counter, or the account's untrusted one.
fn lane_state<'a>(
    account: &'a mut AccountRecord,
    device: &'a mut Option<TrustedDevice>,
) -> &'a mut LockoutState {
    match device {
        Some(d) => &mut d.password_lockout,
        None => &mut account.password_lockout,
    }
}

/// Writes the lane's state back: the device row, or the account row (returning its new version).
async fn write_back(
    tx: &mut Tx,
    account: &mut AccountRecord,
    device: &Option<TrustedDevice>,
) -> Result<(), latchkey_store::StoreError> {
    if let Some(d) = device {
        tx.update_device(d).await?;
    }
    account.version = tx.update_account(account).await?;
    Ok(())
}

/// What the second-factor check found.
pub(crate) enum FactorCheck {
    /// The TOTP code was right (or no second factor was needed).
    Passed,
    /// An unused recovery code stood in for the TOTP code, and is now spent.
    PassedWithRecoveryCode,
    /// Wrong, reused or missing code, or the factor is locked.
    Failed,
}

impl App {
    /// Signs in with e-mail and password (and TOTP once enrolled); opens a session, and trusts
    /// the browser as a device if it did not present a valid device cookie.
    pub async fn login(&self, request: LoginRequest<'_>) -> Result<LoginSuccess, LoginError> {
        let Authenticated {
            mut tx,
            account,
            device,
        } = self.authenticate(&request, SecondFactor::Required).await?;
        let now_ms = self.clock.now_ms();
        let device_token = match device {
            Some(_) => None,
            None => {
                let token = new_token();
                let digest = self
                    .store
                    .keyring()
                    .token_digest(DEVICE_PURPOSE, token.as_bytes());
                tx.insert_device(&TrustedDevice {
                    digest,
                    account_id: account.id,
                    password_lockout: LockoutState::default(),
                    created_at_ms: now_ms,
                    last_used_at_ms: now_ms,
                })
                .await?;
                tx.prune_devices_of(account.id, MAX_DEVICES_PER_ACCOUNT)
                    .await?;
                Some(token)
            }
        };
        let (session_token, session) = self
            .open_session(
                &mut tx,
                &account,
                now_ms,
                now_ms,
                now_ms + ABSOLUTE_LIFETIME_MS,
            )
            .await?;
        tx.append_audit(
            Scope::Platform,
            event(
                &request,
                now_ms,
                "authn_login_success",
                Some(account.id),
                Outcome::Success,
                json!({ "lane": if device_token.is_none() { "device" } else { "account" } }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(LoginSuccess {
            account_id: account.id,
            session_token,
            session,
            device_token,
            mfa_enrolled: account.totp_secret.is_some(),
        })
    }

    /// Stores a new session for the account in `tx`; returns its id (for the cookie) and record.
    pub(crate) async fn open_session(
        &self,
        tx: &mut Tx,
        account: &AccountRecord,
        created_at_ms: i64,
        now_ms: i64,
        absolute_expiry_ms: i64,
    ) -> Result<(String, SessionRecord), ServiceError> {
        let token = new_token();
        let idle = if account.is_operator || admin_anywhere(tx, account.id).await? {
            ADMIN_IDLE_TIMEOUT_MS
        } else {
            IDLE_TIMEOUT_MS
        };
        let session = SessionRecord {
            account_id: account.id,
            created_at_ms,
            last_seen_at_ms: now_ms,
            idle_timeout_ms: idle,
            absolute_expiry_ms,
            authenticated_at_ms: now_ms,
        };
        let digest = self
            .store
            .keyring()
            .token_digest(SESSION_PURPOSE, token.as_bytes());
        tx.insert_session(&digest, &session).await?;
        Ok((token, session))
    }

    /// Checks e-mail, password and (when `factor` says so and MFA is enrolled) the second
    /// factor, with the throttle and lockout counting of the module docs; every failure is
    /// counted against the client address.
    pub(crate) async fn authenticate(
        &self,
        request: &LoginRequest<'_>,
        factor: SecondFactor,
    ) -> Result<Authenticated, LoginError> {
        let source_ip = request.source_ip.as_deref();
        if let Err(retry_after_secs) = self.throttle.check(source_ip, self.clock.now_ms()) {
            return Err(LoginError::Throttled { retry_after_secs });
        }
        let result = self.authenticate_counted(request, factor).await;
        if matches!(result, Err(LoginError::InvalidCredentials)) {
            self.throttle.record_failure(source_ip, self.clock.now_ms());
        }
        result
    }

    async fn authenticate_counted(
        &self,
        request: &LoginRequest<'_>,
        factor: SecondFactor,
    ) -> Result<Authenticated, LoginError> {
        // Over-long or malformed passwords are refused before any hashing (security.md).
        let Ok(password) = normalise_password(request.password) else {
            self.hasher.verify("", None).await;
            return Err(LoginError::InvalidCredentials);
        };
        let device_digest = request
            .device_token
            .filter(|t| looks_like_token(t))
            .map(|t| {
                self.store
                    .keyring()
                    .token_digest(DEVICE_PURPOSE, t.as_bytes())
            });

        // Step 1: gate and provisional count, under the row lock.
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let Some(mut account) = tx.account_by_email_for_update(request.email).await? else {
            drop(tx);
            // Unknown account: same work, same answer; no lock row is created (§2.2 I4).
            self.hasher.verify(&password, None).await;
            return Err(LoginError::InvalidCredentials);
        };
        // The strictest lockout policy of the organisations the account belongs to (defaults
        // for none); decided once, so both steps of this attempt count by the same rules.
        let policy = effective_settings(&mut tx, account.id)
            .await?
            .lockout_policy()
            .clone();
        let mut device = match &device_digest {
            Some(digest) => tx.device_of(account.id, digest).await?,
            None => None,
        };
        let lane = if device.is_some() {
            "device"
        } else {
            "account"
        };
        let gate = lane_state(&mut account, &mut device).check(&policy, now_ms);
        let usable = account.status == AccountStatus::Active && account.password_hash.is_some();
        if gate != Gate::Open || !usable {
            let reason = if gate != Gate::Open {
                "locked"
            } else {
                "not_active"
            };
            tx.append_audit(
                Scope::Platform,
                event(
                    request,
                    now_ms,
                    "authn_login_fail",
                    Some(account.id),
                    Outcome::Failure,
                    json!({ "reason": reason, "lane": lane }),
                ),
            )
            .await?;
            tx.commit().await?;
            self.hasher.verify(&password, None).await;
            return Err(LoginError::InvalidCredentials);
        }
        let provisional = lane_state(&mut account, &mut device).record_failure(&policy, now_ms);
        write_back(&mut tx, &mut account, &device).await?;
        tx.commit().await?;

        // Step 2: the expensive part, with no database lock held.
        let verified = self
            .hasher
            .verify(&password, account.password_hash.as_deref())
            .await;

        // Step 3: settle the outcome.
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let Some(mut account) = tx.account_by_email_for_update(request.email).await? else {
            return Err(LoginError::InvalidCredentials);
        };
        let mut device = match &device_digest {
            Some(digest) if device.is_some() => {
                // The device lane was chosen in step 1; if the row vanished since (pruned),
                // the attempt fails rather than silently switching lanes.
                match tx.device_of(account.id, digest).await? {
                    Some(d) => Some(d),
                    None => return Err(LoginError::InvalidCredentials),
                }
            }
            _ => None,
        };
        let factor_check = match (verified, factor, account.totp_secret.is_some()) {
            (false, _, _) => FactorCheck::Failed,
            (true, SecondFactor::AlreadyProven, _) | (true, _, false) => FactorCheck::Passed,
            (true, SecondFactor::Required, true) => {
                self.check_second_factor(&mut tx, &mut account, request, now_ms)
                    .await?
            }
        };
        if matches!(factor_check, FactorCheck::Failed) {
            if verified {
                tx.append_audit(
                    Scope::Platform,
                    event(
                        request,
                        now_ms,
                        "authn_mfa_fail",
                        Some(account.id),
                        Outcome::Failure,
                        json!({ "reason": "mfa" }),
                    ),
                )
                .await?;
                // The password was right: it must not count as a password failure (T15: the
                // password counter is unchanged by wrong codes).
                lane_state(&mut account, &mut device).record_success();
            } else {
                tx.append_audit(
                    Scope::Platform,
                    event(
                        request,
                        now_ms,
                        "authn_login_fail",
                        Some(account.id),
                        Outcome::Failure,
                        json!({ "reason": "password", "lane": lane }),
                    ),
                )
                .await?;
                // The provisional count locked the lane and the password was indeed wrong: now
                // the lock is real (`authn_login_lock`), and its owner hears of it by e-mail.
                let lock = match provisional {
                    LockoutEvent::Locked { episode, until_ms } => Some((
                        false,
                        json!({ "episode": episode, "until_ms": until_ms, "lane": lane }),
                    )),
                    LockoutEvent::HardLocked { episodes } => Some((
                        true,
                        json!({ "hard": true, "episodes": episodes, "lane": lane }),
                    )),
                    _ => None,
                };
                if let Some((hard, details)) = lock {
                    let mailed = policy.notify_user_on_lock()
                        && self
                            .queue_lock_mail(
                                &mut tx,
                                &account,
                                hard,
                                now_ms,
                                request.source_ip.as_deref(),
                            )
                            .await?;
                    let mut details = details;
                    if let Some(map) = details.as_object_mut() {
                        map.insert("notified".into(), json!(mailed));
                    }
                    tx.append_audit(
                        Scope::Platform,
                        event(
                            request,
                            now_ms,
                            "authn_login_lock",
                            Some(account.id),
                            Outcome::Success,
                            details,
                        ),
                    )
                    .await?;
                }
            }
            write_back(&mut tx, &mut account, &device).await?;
            tx.commit().await?;
            return Err(LoginError::InvalidCredentials);
        }
        if matches!(factor_check, FactorCheck::PassedWithRecoveryCode) {
            tx.append_audit(
                Scope::Platform,
                event(
                    request,
                    now_ms,
                    "authn_mfa_recovery_used",
                    Some(account.id),
                    Outcome::Success,
                    json!({}),
                ),
            )
            .await?;
        }
        lane_state(&mut account, &mut device).record_success();
        if let Some(d) = &mut device {
            d.last_used_at_ms = now_ms;
        }
        write_back(&mut tx, &mut account, &device).await?;
        Ok(Authenticated {
            tx,
            account,
            device,
        })
    }

    /// Checks the TOTP code, or a recovery code in its place, against the MFA factor's own
    /// lockout (research §2.2 L5: 5 wrong codes lock the factor, not the password).
    pub(crate) async fn check_second_factor(
        &self,
        tx: &mut Tx,
        account: &mut AccountRecord,
        request: &LoginRequest<'_>,
        now_ms: i64,
    ) -> Result<FactorCheck, LoginError> {
        let mfa_policy = LockoutPolicy::mfa_default();
        if account.mfa_lockout.check(&mfa_policy, now_ms) != Gate::Open {
            return Ok(FactorCheck::Failed);
        }
        let Some(secret) = account.totp_secret.clone() else {
            return Ok(FactorCheck::Passed);
        };
        let code = request.totp.unwrap_or("");
        let looks_like_totp = code.chars().filter(|c| !c.is_whitespace()).count() <= 8;
        let outcome = if looks_like_totp {
            match verify_totp(&secret, code, now_ms, account.totp_last_step) {
                Ok(step) => {
                    account.totp_last_step = Some(step);
                    FactorCheck::Passed
                }
                Err(_) => FactorCheck::Failed,
            }
        } else {
            match normalise_recovery_code(code) {
                Some(canonical) => {
                    let digest = self
                        .store
                        .keyring()
                        .token_digest(RECOVERY_CODE_PURPOSE, canonical.as_bytes());
                    if tx.spend_recovery_code(account.id, &digest, now_ms).await? {
                        FactorCheck::PassedWithRecoveryCode
                    } else {
                        FactorCheck::Failed
                    }
                }
                None => FactorCheck::Failed,
            }
        };
        match outcome {
            FactorCheck::Failed => {
                let event_kind = account.mfa_lockout.record_failure(&mfa_policy, now_ms);
                if matches!(
                    event_kind,
                    LockoutEvent::Locked { .. } | LockoutEvent::HardLocked { .. }
                ) {
                    tx.append_audit(
                        Scope::Platform,
                        event(
                            request,
                            now_ms,
                            "authn_mfa_lock",
                            Some(account.id),
                            Outcome::Success,
                            serde_json::to_value(event_kind).unwrap_or_default(),
                        ),
                    )
                    .await?;
                }
            }
            _ => account.mfa_lockout.record_success(),
        }
        Ok(outcome)
    }

    /// The live session for a cookie value, its idle timer restarted; `None` if unknown or expired.
    pub async fn session(&self, token: &str) -> Result<Option<SessionRecord>, ServiceError> {
        if !crate::identity::tokens::looks_like_token(token) {
            return Ok(None);
        }
        let digest = self
            .store
            .keyring()
            .token_digest(SESSION_PURPOSE, token.as_bytes());
        let mut tx = self.store.write().await?;
        let session = tx.touch_session(&digest, self.clock.now_ms()).await?;
        tx.commit().await?;
        Ok(session)
    }

    /// Ends the session of a cookie value (logout).
    pub async fn logout(&self, token: &str) -> Result<(), ServiceError> {
        let digest = self
            .store
            .keyring()
            .token_digest(SESSION_PURPOSE, token.as_bytes());
        let mut tx = self.store.write().await?;
        tx.delete_session(&digest).await?;
        tx.commit().await?;
        Ok(())
    }
}
