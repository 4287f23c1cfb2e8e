//! Two-step verification with TOTP (RFC 6238; security.md "MFA"). Enrolment is two steps so a
//! half-finished one locks nobody out: the secret is generated here, shown once with its
//! `otpauth://` URI and kept *pending*; it becomes the account's factor only when a code from it
//! is confirmed. Confirmation returns ten recovery codes, shown once and stored as HMAC digests
//! (ASVS 5.0 6.5.2). Removing the factor needs step-up, and admins and operators may not remove
//! it (it is mandatory for them).

use latchkey_domain::identity::base32;
use latchkey_domain::identity::lockout::{HOUR_MS, LockoutState};
use latchkey_domain::identity::recovery_code::{
    RECOVERY_CODES_RANDOM_BYTES, format_recovery_codes,
};
use latchkey_domain::identity::totp::{TOTP_SECRET_BYTES, provisioning_uri, verify_totp};
use latchkey_domain::{DomainError, ErrorCode, Scope};
use latchkey_store::repo::{AccountRecord, AccountRepo, AuditRepo, MfaRepo};
use rand::RngCore as _;
use serde_json::json;

use crate::app::{App, ServiceError};
use crate::identity::login::{RECOVERY_CODE_PURPOSE, admin_anywhere};
use crate::identity::principal::Principal;
use crate::tenancy::organisations::audit_event;

/// The issuer shown in authenticator apps.
pub const TOTP_ISSUER: &str = "Latchkey";
/// A pending enrolment expires after this long (start again).
pub const PENDING_ENROLMENT_TTL_MS: i64 = HOUR_MS;

/// A started enrolment: what the authenticator app needs. Shown once.
#[derive(Clone)]
pub struct TotpEnrolment {
    /// The secret, base32 (for typing into the app).
    pub secret_base32: String,
    /// The `otpauth://totp/…` provisioning URI (for a QR code or a link on the phone).
    pub otpauth_uri: String,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolment { .. }")
    }
}

fn session_only(principal: &Principal) -> Result<(), ServiceError> {
    if principal.session().is_none() {
        return Err(DomainError::new(
            ErrorCode::Forbidden,
            "two-step verification is managed from a signed-in session, not with an API token",
        )
        .into());
    }
    Ok(())
}

impl App {
    async fn own_account(
        &self,
        tx: &mut latchkey_store::Tx,
        principal: &Principal,
    ) -> Result<AccountRecord, ServiceError> {
        let found = tx
            .account(principal.account_id)
            .await?
            .ok_or_else(|| DomainError::new(ErrorCode::Unauthenticated, "sign in again"))?;
        // Take the row lock sign-in takes, so enrolment and a sign-in do not overwrite each other.
        Ok(tx
            .account_by_email_for_update(&found.email)
            .await?
            .unwrap_or(found))
    }

    /// Starts TOTP enrolment: a fresh secret, kept pending until confirmed.
    pub async fn start_totp_enrolment(
        &self,
        principal: &Principal,
    ) -> Result<TotpEnrolment, ServiceError> {
        session_only(principal)?;
        let mut secret = [0u8; TOTP_SECRET_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let account = self.own_account(&mut tx, principal).await?;
        if account.totp_secret.is_some() {
            return Err(DomainError::new(
                ErrorCode::Conflict,
                "two-step verification is already set up; remove it first to set up a new device",
            )
            .into());
        }
        tx.put_pending_totp(account.id, &secret, now_ms).await?;
        tx.commit().await?;
        Ok(TotpEnrolment {
            secret_base32: base32::encode(&secret),
            otpauth_uri: provisioning_uri(TOTP_ISSUER, &account.email, &secret),
        })
    }

    /// Confirms enrolment with a code from the app: the factor becomes active and ten recovery
    /// codes are returned (shown once). Audited `authn_mfa_enrolled`.
    pub async fn confirm_totp_enrolment(
        &self,
        principal: &Principal,
        code: &str,
    ) -> Result<Vec<String>, ServiceError> {
        session_only(principal)?;
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let mut account = self.own_account(&mut tx, principal).await?;
        let pending = tx
            .pending_totp(account.id)
            .await?
            .filter(|(_, at)| now_ms.saturating_sub(*at) < PENDING_ENROLMENT_TTL_MS);
        let Some((secret, _)) = pending else {
            return Err(DomainError::new(
                ErrorCode::Conflict,
                "no set-up in progress (or it expired): start again with POST /api/v1/account/mfa/totp",
            )
            .into());
        };
        let step = verify_totp(&secret, code, now_ms, None)
            .map_err(|refusal| DomainError::invalid("code", refusal.to_string()))?;
        account.totp_secret = Some(secret);
        account.totp_last_step = Some(step);
        account.mfa_lockout = LockoutState::default();
        tx.update_account(&account).await?;
        tx.delete_pending_totp(account.id).await?;
        let mut random = [0u8; RECOVERY_CODES_RANDOM_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut random);
        let codes = format_recovery_codes(&random);
        let digests: Vec<Vec<u8>> = codes
            .iter()
            .map(|c| {
                self.store
                    .keyring()
                    .token_digest(RECOVERY_CODE_PURPOSE, c.as_bytes())
            })
            .collect();
        tx.replace_recovery_codes(account.id, &digests, now_ms)
            .await?;
        tx.append_audit(
            Scope::Platform,
            audit_event(
                &principal.actor(None, None),
                now_ms,
                "authn_mfa_enrolled",
                format!("user:{}", account.id),
                json!({ "factor": "totp" }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(codes)
    }

    /// Removes the TOTP factor and its recovery codes; needs step-up, and is refused for
    /// operators and org admins (MFA is mandatory for them). Audited `authn_mfa_removed`.
    pub async fn remove_totp(
        &self,
        principal: &Principal,
        source_ip: Option<String>,
        request_id: Option<String>,
    ) -> Result<(), ServiceError> {
        session_only(principal)?;
        let now_ms = self.clock.now_ms();
        principal.require_step_up(now_ms)?;
        let mut tx = self.store.write().await?;
        let mut account = self.own_account(&mut tx, principal).await?;
        if account.is_operator || admin_anywhere(&mut tx, account.id).await? {
            return Err(DomainError::new(
                ErrorCode::Forbidden,
                "administrators and operators must keep two-step verification",
            )
            .into());
        }
        if account.totp_secret.is_none() {
            return Err(DomainError::new(
                ErrorCode::NotFound,
                "two-step verification is not set up",
            )
            .into());
        }
        account.totp_secret = None;
        account.totp_last_step = None;
        account.mfa_lockout = LockoutState::default();
        tx.update_account(&account).await?;
        tx.replace_recovery_codes(account.id, &[], now_ms).await?;
        tx.delete_pending_totp(account.id).await?;
        tx.append_audit(
            Scope::Platform,
            audit_event(
                &principal.actor(source_ip, request_id),
                now_ms,
                "authn_mfa_removed",
                format!("user:{}", account.id),
                json!({ "factor": "totp" }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The enrolment in progress, if any (so a mistyped code does not mean starting over).
    pub async fn pending_totp_enrolment(
        &self,
        principal: &Principal,
    ) -> Result<Option<TotpEnrolment>, ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.read().await?;
        let pending = tx
            .pending_totp(principal.account_id)
            .await?
            .filter(|(_, at)| now_ms.saturating_sub(*at) < PENDING_ENROLMENT_TTL_MS);
        Ok(pending.map(|(secret, _)| TotpEnrolment {
            secret_base32: base32::encode(&secret),
            otpauth_uri: provisioning_uri(TOTP_ISSUER, &principal.email, &secret),
        }))
    }

    /// Recovery codes left for the caller.
    pub async fn recovery_codes_left(&self, principal: &Principal) -> Result<i64, ServiceError> {
        let mut tx = self.store.read().await?;
        Ok(tx.recovery_codes_left(principal.account_id).await?)
    }
}
