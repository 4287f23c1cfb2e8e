//! Password login — the one code path every entry point calls (research §2.2 I2).
//!
//! Order of work, so that 50 parallel wrong attempts still produce exactly one lock episode and
//! never hold a database lock while Argon2 runs (§2.2 I1, test T6):
//! 1. Under the account's row lock: check the lockout gate; if open, count the attempt as a
//!    failure *provisionally* and commit. Attempts beyond the limit therefore find the gate shut
//!    and never reach Argon2.
//! 2. Verify the password (a dummy verify for unknown or locked accounts: same time, same answer).
//! 3. Under the row lock again: on success, clear the count and open a session; on failure the
//!    count stands, and the lock (if this attempt caused it) is audited.
//!
//! Every failure — unknown account, wrong password, locked, disabled — gets the same
//! [`LoginError::InvalidCredentials`] (§2.5; ASVS 5.0 6.3.8). A console lock never touches door
//! keys, API tokens or existing sessions (§2.2 I5).

use latchkey_domain::audit::Outcome;
use latchkey_domain::identity::MembershipStatus;
use latchkey_domain::identity::lockout::{Gate, LockoutEvent, LockoutPolicy};
use latchkey_domain::identity::password::normalise_password;
use latchkey_domain::identity::totp::verify_totp;
use latchkey_domain::{AccountId, Scope};
use latchkey_store::Tx;
use latchkey_store::repo::{
    AccountRepo, AccountStatus, AuditRepo, MembershipRepo, NewAuditEvent, SessionRecord,
    SessionRepo,
};
use serde_json::json;

use crate::app::{App, ServiceError};
use crate::identity::tokens::new_token;

/// Idle timeout of a member's session (security.md: 30 min).
pub const IDLE_TIMEOUT_MS: i64 = 30 * 60 * 1000;
/// Idle timeout of an admin's or operator's session (security.md: 15 min).
pub const ADMIN_IDLE_TIMEOUT_MS: i64 = 15 * 60 * 1000;
/// Absolute session lifetime (security.md: 12 h).
pub const ABSOLUTE_LIFETIME_MS: i64 = 12 * 60 * 60 * 1000;
/// The purpose under which session ids are digested.
pub const SESSION_PURPOSE: &str = "session";

/// A sign-in attempt.
#[derive(Debug, Clone)]
pub struct LoginRequest<'a> {
    /// E-mail address as typed.
    pub email: &'a str,
    /// Password as typed.
    pub password: &'a str,
    /// TOTP code, required once MFA is enrolled.
    pub totp: Option<&'a str>,
    /// Client IP.
    pub source_ip: Option<String>,
    /// Request id.
    pub request_id: Option<String>,
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
}

/// Why a sign-in failed, as far as the client may know.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown account, wrong password or code, locked, or disabled — deliberately one answer.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The store failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<latchkey_store::StoreError> for LoginError {
    fn from(e: latchkey_store::StoreError) -> Self {
        LoginError::Service(e.into())
    }
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

impl App {
    /// Signs in with e-mail and password (and TOTP once enrolled); opens a session.
    pub async fn login(&self, request: LoginRequest<'_>) -> Result<LoginSuccess, LoginError> {
        let policy = LockoutPolicy::password_default();
        // Over-long or malformed passwords are refused before any hashing (security.md).
        let Ok(password) = normalise_password(request.password) else {
            self.hasher.verify("", None).await;
            return Err(LoginError::InvalidCredentials);
        };

        // Step 1: gate and provisional count, under the row lock.
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let Some(mut account) = tx.account_by_email_for_update(request.email).await? else {
            drop(tx);
            // Unknown account: same work, same answer; no lock row is created (§2.2 I4).
            self.hasher.verify(&password, None).await;
            return Err(LoginError::InvalidCredentials);
        };
        let gate = account.password_lockout.check(&policy, now_ms);
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
                    &request,
                    now_ms,
                    "authn_login_fail",
                    Some(account.id),
                    Outcome::Failure,
                    json!({ "reason": reason }),
                ),
            )
            .await?;
            tx.commit().await?;
            self.hasher.verify(&password, None).await;
            return Err(LoginError::InvalidCredentials);
        }
        let provisional = account.password_lockout.record_failure(&policy, now_ms);
        tx.update_account(&account).await?;
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
        let mfa_ok = match (&account.totp_secret, verified) {
            (_, false) => false,
            (None, true) => true,
            (Some(_), true)
                if account
                    .mfa_lockout
                    .check(&LockoutPolicy::mfa_default(), now_ms)
                    != Gate::Open =>
            {
                false
            }
            (Some(secret), true) => {
                let code = request.totp.unwrap_or("");
                match verify_totp(secret, code, now_ms, account.totp_last_step) {
                    Ok(step) => {
                        account.totp_last_step = Some(step);
                        account.mfa_lockout.record_success();
                        true
                    }
                    Err(_) => {
                        account
                            .mfa_lockout
                            .record_failure(&LockoutPolicy::mfa_default(), now_ms);
                        false
                    }
                }
            }
        };
        if !(verified && mfa_ok) {
            let action = if verified {
                "authn_mfa_fail"
            } else {
                "authn_login_fail"
            };
            tx.append_audit(
                Scope::Platform,
                event(
                    &request,
                    now_ms,
                    action,
                    Some(account.id),
                    Outcome::Failure,
                    json!({ "reason": if verified { "mfa" } else { "password" } }),
                ),
            )
            .await?;
            // The provisional count locked the account and the password was indeed wrong: now
            // the lock is real (`authn_login_lock`).
            let lock = match provisional {
                LockoutEvent::Locked { episode, until_ms } if !verified => {
                    Some(json!({ "episode": episode, "until_ms": until_ms }))
                }
                LockoutEvent::HardLocked { episodes } if !verified => {
                    Some(json!({ "hard": true, "episodes": episodes }))
                }
                _ => None,
            };
            if let Some(details) = lock {
                tx.append_audit(
                    Scope::Platform,
                    event(
                        &request,
                        now_ms,
                        "authn_login_lock",
                        Some(account.id),
                        Outcome::Success,
                        details,
                    ),
                )
                .await?;
            }
            if verified {
                // The password was right: it must not count as a password failure.
                account.password_lockout.record_success();
            }
            tx.update_account(&account).await?;
            tx.commit().await?;
            return Err(LoginError::InvalidCredentials);
        }
        account.password_lockout.record_success();
        tx.update_account(&account).await?;
        let token = new_token();
        let idle = if account.is_operator || admin_anywhere(&mut tx, account.id).await? {
            ADMIN_IDLE_TIMEOUT_MS
        } else {
            IDLE_TIMEOUT_MS
        };
        let session = SessionRecord {
            account_id: account.id,
            created_at_ms: now_ms,
            last_seen_at_ms: now_ms,
            idle_timeout_ms: idle,
            absolute_expiry_ms: now_ms + ABSOLUTE_LIFETIME_MS,
            authenticated_at_ms: now_ms,
        };
        let digest = self
            .store
            .keyring()
            .token_digest(SESSION_PURPOSE, token.as_bytes());
        tx.insert_session(&digest, &session).await?;
        tx.append_audit(
            Scope::Platform,
            event(
                &request,
                now_ms,
                "authn_login_success",
                Some(account.id),
                Outcome::Success,
                json!({}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(LoginSuccess {
            account_id: account.id,
            session_token: token,
            session,
        })
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
