//! Operator bootstrap. There are no default accounts: on a deployment without an operator,
//! `serve` issues a one-time setup token (256 bits, stored as an HMAC, valid 1 h) and prints it;
//! `latchkey operator recover` issues a fresh one from the host (local access only). Spending it
//! creates the operator — or, for an existing operator's e-mail, sets a new password (recovery).
//! Issuing and spending are audited on the platform chain.

use latchkey_domain::identity::lockout::LockoutState;
use latchkey_domain::identity::password::{PasswordContext, PasswordPolicy};
use latchkey_domain::tenancy::{parse_email, parse_name};
use latchkey_domain::{AccountId, DomainError, ErrorCode, Scope};
use latchkey_store::repo::{AccountRecord, AccountRepo, AccountStatus, AuditRepo, SessionRepo};
use serde_json::json;

use crate::app::{Actor, App, ServiceError};
use crate::identity::tokens::{looks_like_token, new_token};
use crate::tenancy::organisations::audit_event;

/// The purpose under which setup tokens are digested and stored.
pub const OPERATOR_SETUP_PURPOSE: &str = "operator_setup";
/// How long a setup token stays valid.
pub const OPERATOR_SETUP_TTL_MS: i64 = 60 * 60 * 1000;

/// What the person completing setup supplies.
#[derive(Debug, Clone)]
pub struct OperatorSetup<'a> {
    /// The token from the printed link.
    pub token: &'a str,
    /// The operator's e-mail.
    pub email: &'a str,
    /// The operator's name.
    pub name: &'a str,
    /// The chosen password (operators need at least 12 characters).
    pub password: &'a str,
}

fn invalid_link() -> DomainError {
    // One answer for unknown, used, expired and tampered tokens (security.md "Invitation").
    DomainError::new(ErrorCode::NotFound, "invalid or expired link")
}

impl App {
    /// Issues a setup token when no active operator exists (start-up); `None` otherwise.
    pub async fn issue_operator_setup_if_needed(&self) -> Result<Option<String>, ServiceError> {
        if self.store.read().await?.operator_exists().await? {
            return Ok(None);
        }
        self.issue_operator_setup(&Actor::system()).await.map(Some)
    }

    /// True if an active platform operator exists.
    pub async fn operator_exists(&self) -> Result<bool, ServiceError> {
        Ok(self.store.read().await?.operator_exists().await?)
    }

    /// True if `token` is a live setup token (renders the page; spends nothing).
    pub async fn operator_setup_link_is_live(&self, token: &str) -> Result<bool, ServiceError> {
        if !looks_like_token(token) {
            return Ok(false);
        }
        let digest = self
            .store
            .keyring()
            .token_digest(OPERATOR_SETUP_PURPOSE, token.as_bytes());
        let mut tx = self.store.read().await?;
        Ok(tx
            .live_token(&digest, OPERATOR_SETUP_PURPOSE, self.clock.now_ms())
            .await?
            .is_some())
    }

    /// Issues a fresh setup token, revoking older unused ones; audited as
    /// `operator_setup_link_issued`.
    pub async fn issue_operator_setup(&self, actor: &Actor) -> Result<String, ServiceError> {
        let token = new_token();
        let digest = self
            .store
            .keyring()
            .token_digest(OPERATOR_SETUP_PURPOSE, token.as_bytes());
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        tx.revoke_tokens(OPERATOR_SETUP_PURPOSE, None, now_ms)
            .await?;
        tx.insert_token(
            &digest,
            OPERATOR_SETUP_PURPOSE,
            None,
            None,
            now_ms,
            now_ms + OPERATOR_SETUP_TTL_MS,
        )
        .await?;
        tx.append_audit(
            Scope::Platform,
            audit_event(
                actor,
                now_ms,
                "operator_setup_link_issued",
                "platform".into(),
                json!({ "expires_in_secs": OPERATOR_SETUP_TTL_MS / 1000 }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// Spends a setup token: creates the operator, or sets a new password for an existing
    /// operator with that e-mail (ending their sessions). Audited as `user_created` or
    /// `authn_password_change`.
    pub async fn complete_operator_setup(
        &self,
        actor: &Actor,
        setup: OperatorSetup<'_>,
    ) -> Result<AccountId, ServiceError> {
        if !looks_like_token(setup.token) {
            return Err(invalid_link().into());
        }
        let email = parse_email("email", setup.email)?;
        let name = parse_name("name", setup.name)?;
        let context = PasswordContext {
            email: Some(&email),
            person_name: Some(&name),
            organisation_name: None,
        };
        let normalised = PasswordPolicy::ORG_ADMIN
            .check(setup.password, &context)
            .map_err(DomainError::from)?;
        // Hash before the transaction: no lock is held while Argon2 runs.
        let hash = self.hasher.hash(&normalised).await.map_err(|e| {
            DomainError::new(
                ErrorCode::Internal,
                format!("could not hash the password: {e}"),
            )
        })?;
        let digest = self
            .store
            .keyring()
            .token_digest(OPERATOR_SETUP_PURPOSE, setup.token.as_bytes());
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        if tx
            .spend_token(&digest, OPERATOR_SETUP_PURPOSE, now_ms)
            .await?
            .is_none()
        {
            return Err(invalid_link().into());
        }
        let (id, action) = match tx.account_by_email_for_update(&email).await? {
            Some(mut existing) if existing.is_operator => {
                existing.password_hash = Some(hash);
                existing.status = AccountStatus::Active;
                existing.password_lockout.unlock();
                tx.update_account(&existing).await?;
                tx.delete_sessions_of(existing.id).await?;
                (existing.id, "authn_password_change")
            }
            Some(_) => {
                return Err(DomainError::new(
                    ErrorCode::Conflict,
                    "this e-mail address belongs to an account that is not an operator: choose another",
                )
                .into());
            }
            None => {
                let account = AccountRecord {
                    id: AccountId::generate(),
                    email,
                    name,
                    password_hash: Some(hash),
                    is_operator: true,
                    status: AccountStatus::Active,
                    password_lockout: LockoutState::default(),
                    totp_secret: None,
                    totp_last_step: None,
                    mfa_lockout: LockoutState::default(),
                    created_at_ms: now_ms,
                    version: 1,
                };
                tx.insert_account(&account).await?;
                (account.id, "user_created")
            }
        };
        tx.append_audit(
            Scope::Platform,
            audit_event(
                actor,
                now_ms,
                action,
                format!("user:{id}"),
                json!({ "account_id": id, "operator": true, "via": "operator_setup" }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }
}
