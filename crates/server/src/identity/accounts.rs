//! Creating accounts. Invitations and operator bootstrap (which decide *who* may create one) build
//! on this; there are no default accounts.

use latchkey_domain::identity::lockout::LockoutState;
use latchkey_domain::identity::password::{PasswordContext, PasswordPolicy};
use latchkey_domain::tenancy::{parse_email, parse_name};
use latchkey_domain::{AccountId, DomainError, ErrorCode, Scope};
use latchkey_store::repo::{AccountRecord, AccountRepo, AccountStatus, AuditRepo};
use serde_json::json;

use crate::app::{Actor, App, ServiceError};
use crate::tenancy::organisations::audit_event;

/// What is needed to create an active account with a password.
#[derive(Debug, Clone)]
pub struct NewAccount<'a> {
    /// E-mail address.
    pub email: &'a str,
    /// Display name.
    pub name: &'a str,
    /// The chosen password (checked against the policy here).
    pub password: &'a str,
    /// Platform operator (stricter password minimum, shorter sessions).
    pub is_operator: bool,
}

impl App {
    /// Creates an active account after checking the password policy (org-admin strength for
    /// operators); audited as `user_created`.
    pub async fn create_account(
        &self,
        actor: &Actor,
        new: NewAccount<'_>,
    ) -> Result<AccountId, ServiceError> {
        let email = parse_email("email", new.email)?;
        let name = parse_name("name", new.name)?;
        let policy = if new.is_operator {
            PasswordPolicy::STANDARD.for_org_admin()
        } else {
            PasswordPolicy::STANDARD
        };
        let context = PasswordContext {
            email: Some(&email),
            person_name: Some(&name),
            organisation_name: None,
        };
        let normalised = policy
            .check(new.password, &context)
            .map_err(DomainError::from)?;
        let hash = self.hasher.hash(&normalised).await.map_err(|e| {
            DomainError::new(
                ErrorCode::Internal,
                format!("could not hash the password: {e}"),
            )
        })?;
        let now_ms = self.clock.now_ms();
        let account = AccountRecord {
            id: AccountId::generate(),
            email,
            name,
            password_hash: Some(hash),
            is_operator: new.is_operator,
            status: AccountStatus::Active,
            password_lockout: LockoutState::default(),
            totp_secret: None,
            totp_last_step: None,
            mfa_lockout: LockoutState::default(),
            created_at_ms: now_ms,
            version: 1,
        };
        let mut tx = self.store.write().await?;
        tx.insert_account(&account).await?;
        tx.append_audit(
            Scope::Platform,
            audit_event(
                actor,
                now_ms,
                "user_created",
                format!("user:{}", account.id),
                json!({ "account_id": account.id, "operator": account.is_operator }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(account.id)
    }
}
