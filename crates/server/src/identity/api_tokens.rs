//! API tokens for integrations (security.md "Sessions": scoped, expiring, stored hashed): a
//! member creates named tokens for themself in one organisation, read or write, expiring within a
//! year; the text is shown once (`lkt_<org>_<secret>`), only the HMAC digest is kept. Tokens
//! are minted from a signed-in session only (a token cannot mint tokens) and survive an account
//! lock (research §2.2 I5).

use latchkey_domain::identity::ApiScope;
use latchkey_domain::identity::lockout::DAY_MS;
use latchkey_domain::tenancy::parse_name;
use latchkey_domain::{DomainError, ErrorCode, OrgId, Scope};
use latchkey_store::repo::{ApiTokenRecord, ApiTokenRepo, AuditRepo};
use serde_json::json;

use crate::app::{Actor, App, ServiceError};
use crate::identity::principal::{API_TOKEN_PURPOSE, Need, Principal, api_token_text};
use crate::identity::tokens::new_token;
use crate::tenancy::organisations::audit_event;

/// Longest lifetime of an API token, in days.
pub const MAX_API_TOKEN_DAYS: i64 = 365;

/// A token to create.
#[derive(Debug, Clone)]
pub struct NewApiToken<'a> {
    /// What it is for (shown in lists).
    pub name: &'a str,
    /// `read` or `write`.
    pub scope: &'a str,
    /// Lifetime, 1–365 days.
    pub expires_in_days: i64,
}

fn not_found() -> ServiceError {
    DomainError::new(ErrorCode::NotFound, "API token not found").into()
}

impl App {
    /// Creates an API token for the caller in `org`; returns the record and the text (once).
    pub async fn create_api_token(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        new: NewApiToken<'_>,
    ) -> Result<(ApiTokenRecord, String), ServiceError> {
        if principal.session().is_none() {
            return Err(DomainError::new(
                ErrorCode::Forbidden,
                "create API tokens from a signed-in session; a token cannot create tokens",
            )
            .into());
        }
        let name = parse_name("name", new.name)?;
        let scope = ApiScope::parse(new.scope)
            .ok_or_else(|| DomainError::invalid("scope", "scope must be \"read\" or \"write\""))?;
        if !(1..=MAX_API_TOKEN_DAYS).contains(&new.expires_in_days) {
            return Err(DomainError::invalid(
                "expires_in_days",
                format!("a token lives between 1 and {MAX_API_TOKEN_DAYS} days"),
            )
            .into());
        }
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let need = if scope == ApiScope::Write {
            Need::MEMBER_WRITE
        } else {
            Need::MEMBER_READ
        };
        principal.require_member(&mut tx, org, need).await?;
        let secret = new_token();
        let digest = self
            .store
            .keyring()
            .token_digest(API_TOKEN_PURPOSE, secret.as_bytes());
        let record = ApiTokenRecord {
            org_id: org,
            id: uuid::Uuid::now_v7().to_string(),
            account_id: principal.account_id,
            name,
            scope,
            created_at_ms: now_ms,
            expires_at_ms: now_ms.saturating_add(new.expires_in_days.saturating_mul(DAY_MS)),
            revoked_at_ms: None,
            last_used_at_ms: None,
        };
        tx.insert_api_token(&record, &digest).await?;
        tx.append_audit(
            Scope::Tenant(org),
            audit_event(
                actor,
                now_ms,
                "api_token_created",
                format!("api_token:{}", record.id),
                json!({ "scope": scope.as_str(), "expires_at_ms": record.expires_at_ms }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok((record, api_token_text(org, &secret)))
    }

    /// The caller's own tokens in `org` (no secrets), newest first.
    pub async fn my_api_tokens(
        &self,
        principal: &Principal,
        org: OrgId,
    ) -> Result<Vec<ApiTokenRecord>, ServiceError> {
        let mut tx = self.store.read().await?;
        principal
            .require_member(&mut tx, org, Need::MEMBER_READ)
            .await?;
        Ok(tx
            .api_tokens(org)
            .await?
            .into_iter()
            .filter(|t| t.account_id == principal.account_id)
            .collect())
    }

    /// Revokes one of the caller's tokens in `org`; another person's token answers 404.
    pub async fn revoke_my_api_token(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        id: &str,
    ) -> Result<(), ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        principal
            .require_member(&mut tx, org, Need::MEMBER_WRITE)
            .await?;
        let owned = tx.api_tokens(org).await?.into_iter().any(|t| {
            t.id == id && t.account_id == principal.account_id && t.revoked_at_ms.is_none()
        });
        if !owned || !tx.revoke_api_token(org, id, now_ms).await? {
            return Err(not_found());
        }
        tx.append_audit(
            Scope::Tenant(org),
            audit_event(
                actor,
                now_ms,
                "api_token_revoked",
                format!("api_token:{id}"),
                json!({}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
