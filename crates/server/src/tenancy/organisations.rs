//! Organisation life cycle for platform operators: create, list, show, suspend, resume.
//! Each change writes a platform audit event in the same transaction.

use latchkey_domain::audit::Outcome;
use latchkey_domain::tenancy::{NewOrganisation, OrgStatus, Organisation};
use latchkey_domain::{DomainError, OrgId, Scope};
use latchkey_store::repo::{AuditRepo, NewAuditEvent, OrganisationRepo};
use serde_json::json;

use crate::app::{Actor, App, ServiceError};

/// Builds the audit event for an action by `actor`.
pub(crate) fn audit_event(
    actor: &Actor,
    at_ms: i64,
    action: &str,
    target: String,
    details: serde_json::Value,
) -> NewAuditEvent {
    NewAuditEvent {
        at_ms,
        actor: actor.id.clone(),
        action: action.into(),
        target,
        outcome: Outcome::Success,
        source_ip: actor.source_ip.clone(),
        request_id: actor.request_id.clone(),
        details,
    }
}

impl App {
    /// Creates an organisation with its contract; audited as `org_created`.
    pub async fn create_organisation(
        &self,
        actor: &Actor,
        input: NewOrganisation,
    ) -> Result<Organisation, ServiceError> {
        let now_ms = self.clock.now_ms();
        let org = Organisation {
            id: OrgId::generate(),
            name: input.name,
            contract: input.contract,
            status: OrgStatus::Active,
            created_at_ms: now_ms,
            version: 1,
        };
        let mut tx = self.store.write().await?;
        tx.insert_organisation(&org).await?;
        // Names and e-mails are PII: the audit trail records ids and contract figures only.
        tx.append_audit(
            Scope::Platform,
            audit_event(
                actor,
                now_ms,
                "org_created",
                format!("org:{}", org.id),
                json!({ "org_id": org.id, "seat_limit": org.contract.seat_limit }),
            ),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(org_id = %org.id, actor = ?actor.id, "organisation created");
        Ok(org)
    }

    /// Every organisation (operators see contract data only).
    pub async fn list_organisations(&self) -> Result<Vec<Organisation>, ServiceError> {
        let mut tx = self.store.read().await?;
        Ok(tx.organisations().await?)
    }

    /// One organisation.
    pub async fn organisation(&self, id: OrgId) -> Result<Organisation, ServiceError> {
        let mut tx = self.store.read().await?;
        tx.organisation(id)
            .await?
            .ok_or_else(|| DomainError::not_found("organisation").into())
    }

    /// Suspends an active organisation; audited as `org_suspended`.
    pub async fn suspend_organisation(
        &self,
        actor: &Actor,
        id: OrgId,
    ) -> Result<Organisation, ServiceError> {
        self.change_status(actor, id, "org_suspended", OrgStatus::suspend)
            .await
    }

    /// Resumes a suspended organisation; audited as `org_resumed`.
    pub async fn resume_organisation(
        &self,
        actor: &Actor,
        id: OrgId,
    ) -> Result<Organisation, ServiceError> {
        self.change_status(actor, id, "org_resumed", OrgStatus::resume)
            .await
    }

    async fn change_status(
        &self,
        actor: &Actor,
        id: OrgId,
        action: &str,
        transition: fn(OrgStatus) -> Result<OrgStatus, DomainError>,
    ) -> Result<Organisation, ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let mut org = tx
            .organisation(id)
            .await?
            .ok_or_else(|| DomainError::not_found("organisation"))?;
        let before = org.status;
        org.status = transition(org.status)?;
        org.version = tx.update_organisation_status(&org).await?;
        tx.append_audit(
            Scope::Platform,
            audit_event(
                actor,
                now_ms,
                action,
                format!("org:{id}"),
                json!({ "before": before.as_str(), "after": org.status.as_str() }),
            ),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(org_id = %id, action, "organisation status changed");
        Ok(org)
    }
}
