//! Step-up re-authentication (security.md "MFA": role grants, deletions, key revocation, exports
//! within 10 minutes of proving who you are). The password (and code) go through the one login
//! code path, so step-up shares the throttle and the lockout counters (research §2.2 I2); on
//! success the session gets a new id (security.md "Sessions": new id on step-up) and the old one
//! ends at once.

use latchkey_domain::audit::Outcome;
use latchkey_domain::{DomainError, ErrorCode, Scope};
use latchkey_store::repo::{AuditRepo, NewAuditEvent, SessionRepo};
use serde_json::json;

use crate::app::App;
use crate::identity::login::{Authenticated, LoginError, LoginRequest, SecondFactor};
use crate::identity::principal::{Credential, Principal};

/// A step-up attempt. (No `Debug`: it carries a password.)
pub struct StepUp<'a> {
    /// The password.
    pub password: &'a str,
    /// The TOTP code (or a recovery code), once enrolled.
    pub totp: Option<&'a str>,
    /// Client IP.
    pub source_ip: Option<String>,
    /// Request id.
    pub request_id: Option<String>,
    /// The device cookie, so the check uses the device's counter.
    pub device_token: Option<&'a str>,
}

impl App {
    /// Re-verifies the caller and rotates the session; returns the new session id (for the
    /// cookie). Failures answer exactly like a failed sign-in.
    pub async fn step_up(
        &self,
        principal: &Principal,
        step_up: StepUp<'_>,
    ) -> Result<String, LoginError> {
        let Credential::Session { digest, record } = &principal.credential else {
            return Err(LoginError::Service(
                DomainError::new(
                    ErrorCode::Forbidden,
                    "step-up needs a signed-in session; API tokens cannot step up",
                )
                .into(),
            ));
        };
        let request = LoginRequest {
            email: &principal.email,
            password: step_up.password,
            totp: step_up.totp,
            source_ip: step_up.source_ip.clone(),
            request_id: step_up.request_id.clone(),
            device_token: step_up.device_token,
        };
        let Authenticated {
            mut tx, account, ..
        } = self.authenticate(&request, SecondFactor::Required).await?;
        if account.id != principal.account_id {
            return Err(LoginError::InvalidCredentials);
        }
        let now_ms = self.clock.now_ms();
        tx.delete_session(digest).await?;
        let (token, _) = self
            .open_session(
                &mut tx,
                &account,
                record.created_at_ms,
                now_ms,
                record.absolute_expiry_ms,
            )
            .await
            .map_err(LoginError::Service)?;
        tx.append_audit(
            Scope::Platform,
            NewAuditEvent {
                at_ms: now_ms,
                actor: format!("user:{}", account.id),
                action: "authn_login_success".into(),
                target: format!("user:{}", account.id),
                outcome: Outcome::Success,
                source_ip: step_up.source_ip,
                request_id: step_up.request_id,
                details: json!({ "step_up": true }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(token)
    }
}
