//! An organisation's security settings: org admins read them; changing them needs step-up and is
//! audited with the new values. Sign-in, password rules and invitations apply the strictest
//! settings of the organisations an account belongs to ([`App::effective_settings`]).

use latchkey_domain::identity::settings::SecuritySettingsInput;
use latchkey_domain::identity::{MembershipStatus, SecuritySettings};
use latchkey_domain::tenancy::OrgStatus;
use latchkey_domain::{AccountId, DomainError, ErrorCode, OrgId, Scope};
use latchkey_store::Tx;
use latchkey_store::repo::{AuditRepo, MembershipRepo, OrgSettingsRepo, OrganisationRepo};
use serde_json::json;

use crate::app::{Actor, App, ServiceError};
use crate::identity::{Need, Principal};
use crate::tenancy::organisations::audit_event;

/// The strictest settings over the organisations where `account` is an active member (the
/// defaults when it is in none, e.g. a platform operator).
pub async fn effective_settings(
    tx: &mut Tx,
    account: AccountId,
) -> Result<SecuritySettings, latchkey_store::StoreError> {
    let mut all = Vec::new();
    for org in tx.organisations_of(account).await? {
        let active = tx
            .membership(org, account)
            .await?
            .is_some_and(|m| m.status == MembershipStatus::Active);
        if active && let Some(settings) = tx.security_settings(org).await? {
            all.push(settings);
        }
    }
    Ok(SecuritySettings::strictest(&all))
}

impl App {
    /// The organisation's security settings (org admins).
    pub async fn security_settings(
        &self,
        principal: &Principal,
        org: OrgId,
    ) -> Result<SecuritySettings, ServiceError> {
        let mut tx = self.store.read().await?;
        principal
            .require_member(&mut tx, org, Need::ADMIN_READ)
            .await?;
        tx.security_settings(org)
            .await?
            .ok_or_else(|| DomainError::not_found("organisation").into())
    }

    /// Replaces the organisation's security settings (org admins, with step-up); audited as
    /// `org_security_settings_changed` with the new values.
    pub async fn update_security_settings(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        input: SecuritySettingsInput,
    ) -> Result<SecuritySettings, ServiceError> {
        let settings = SecuritySettings::try_from(input)?;
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        principal
            .require_member(&mut tx, org, Need::ADMIN_WRITE)
            .await?;
        principal.require_step_up(now_ms)?;
        let organisation = tx
            .organisation(org)
            .await?
            .ok_or_else(|| DomainError::not_found("organisation"))?;
        if organisation.status != OrgStatus::Active {
            return Err(DomainError::new(
                ErrorCode::TenantInactive,
                format!(
                    "the organisation is {}; it cannot be changed",
                    organisation.status.as_str()
                ),
            )
            .into());
        }
        tx.set_security_settings(org, &settings).await?;
        tx.append_audit(
            Scope::Tenant(org),
            audit_event(
                actor,
                now_ms,
                "org_security_settings_changed",
                format!("org:{org}"),
                json!({ "settings": SecuritySettingsInput::from(settings.clone()) }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(settings)
    }
}
