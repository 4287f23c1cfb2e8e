//! Organisation life cycle for platform operators: create, list, show, suspend, resume, and the
//! contract (seat limit, contact). Each change writes a platform audit event in the same
//! transaction. Operators see contract data and counts only — never who the members are.

use latchkey_domain::audit::Outcome;
use latchkey_domain::identity::MembershipStatus;
use latchkey_domain::tenancy::{
    NewOrganisation, OrgStatus, Organisation, parse_email, parse_seat_limit,
};
use latchkey_domain::{DomainError, OrgId, Scope};
use latchkey_store::Tx;
use latchkey_store::repo::{AuditRepo, MembershipRepo, NewAuditEvent, OrganisationRepo};
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

/// An organisation as an operator sees it: the contract and counts, no tenant data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganisationSummary {
    /// The organisation and its contract.
    pub org: Organisation,
    /// Seats held (invited or active memberships).
    pub seats_in_use: i64,
    /// Memberships of any status.
    pub members: i64,
    /// Active org admins.
    pub active_admins: i64,
}

/// A contract change; `None` leaves a term as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContractChange {
    /// New seat limit (never below the seats in use).
    pub seat_limit: Option<i64>,
    /// New contact e-mail address.
    pub contact_email: Option<String>,
}

/// Counts of `org` (read inside the caller's transaction).
pub(crate) async fn summarise(
    tx: &mut Tx,
    org: Organisation,
    now_ms: i64,
) -> Result<OrganisationSummary, ServiceError> {
    let memberships = tx.memberships(org.id).await?;
    let seats_in_use = tx.seats_in_use(org.id, now_ms).await?;
    let count = |f: &dyn Fn(&latchkey_store::repo::Membership) -> bool| {
        i64::try_from(memberships.iter().filter(|m| f(m)).count()).unwrap_or(i64::MAX)
    };
    Ok(OrganisationSummary {
        seats_in_use,
        members: count(&|_| true),
        active_admins: count(&|m| m.status == MembershipStatus::Active && m.role.is_admin()),
        org,
    })
}

impl App {
    /// Every organisation with its counts (operators).
    pub async fn organisation_summaries(&self) -> Result<Vec<OrganisationSummary>, ServiceError> {
        let mut tx = self.store.read().await?;
        let mut out = Vec::new();
        for org in tx.organisations().await? {
            out.push(summarise(&mut tx, org, self.clock.now_ms()).await?);
        }
        Ok(out)
    }

    /// One organisation with its counts (operators).
    pub async fn organisation_summary(
        &self,
        id: OrgId,
    ) -> Result<OrganisationSummary, ServiceError> {
        let mut tx = self.store.read().await?;
        let org = tx
            .organisation(id)
            .await?
            .ok_or_else(|| DomainError::not_found("organisation"))?;
        summarise(&mut tx, org, self.clock.now_ms()).await
    }

    /// Changes the contract: the seat limit may not drop below the seats in use (422 naming
    /// both numbers). Audited as `org_contract_changed` with the figures, never the address.
    pub async fn change_contract(
        &self,
        actor: &Actor,
        id: OrgId,
        change: ContractChange,
    ) -> Result<OrganisationSummary, ServiceError> {
        let seat_limit = change.seat_limit.map(parse_seat_limit).transpose()?;
        let contact_email = change
            .contact_email
            .as_deref()
            .map(|e| parse_email("contact_email", e))
            .transpose()?;
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        // Taken before counting, so that no invitation slips in between the count and the write.
        tx.lock_seats(id).await?;
        let mut org = tx
            .organisation(id)
            .await?
            .ok_or_else(|| DomainError::not_found("organisation"))?;
        let before_limit = org.contract.seat_limit;
        if let Some(limit) = seat_limit {
            let in_use = tx.seats_in_use(id, now_ms).await?;
            if limit < in_use {
                return Err(DomainError::invalid(
                    "seat_limit",
                    format!(
                        "the seat limit cannot be {limit}: {in_use} seats are in use; remove people or pending invitations first"
                    ),
                )
                .into());
            }
            org.contract.seat_limit = limit;
        }
        let contact_changed = contact_email
            .as_ref()
            .is_some_and(|e| *e != org.contract.contact_email);
        if let Some(email) = contact_email {
            org.contract.contact_email = email;
        }
        org.version = tx.update_organisation_contract(&org).await?;
        tx.append_audit(
            Scope::Platform,
            audit_event(
                actor,
                now_ms,
                "org_contract_changed",
                format!("org:{id}"),
                json!({
                    "seat_limit_before": before_limit,
                    "seat_limit_after": org.contract.seat_limit,
                    "contact_changed": contact_changed,
                }),
            ),
        )
        .await?;
        let summary = summarise(&mut tx, org, now_ms).await?;
        tx.commit().await?;
        tracing::info!(org_id = %id, "organisation contract changed");
        Ok(summary)
    }

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
