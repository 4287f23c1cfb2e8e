//! An organisation's people, managed by its org admins: list and search, show, disable and
//! re-enable, delete, change role, end sessions, unlock a locked account.
//!
//! Names and e-mail addresses are sealed at rest, so search decrypts and filters here rather than
//! in SQL. Audit events name accounts by id only — the trail stays pseudonymous.
//!
//! Deleting a person removes their membership (their access to this organisation ends at once).
//! If the account then belongs to no organisation and is not an operator, it is switched off
//! (`disabled`); erasing its personal data belongs to the data-lifecycle rules (a later issue),
//! which will purge such accounts.

use latchkey_domain::directory::LabelKind;
use latchkey_domain::identity::lockout::{Gate, LockoutPolicy};
use latchkey_domain::identity::{MembershipStatus, Role};
use latchkey_domain::tenancy::Organisation;
use latchkey_domain::{AccountId, DomainError, ErrorCode, OrgId, Scope};
use latchkey_store::Tx;
use latchkey_store::repo::{
    AccountRecord, AccountRepo, AccountStatus, ApiTokenRepo, AuditRepo, DeviceRepo, GroupRepo,
    InvitationRepo, LabelRepo, Membership, MembershipRepo, OrganisationRepo, RoleScopeRepo,
    SessionRepo,
};
use serde_json::json;

use crate::app::{Actor, App, ServiceError};
use crate::identity::invitations::{INVITATION_PURPOSE, seats_full};
use crate::identity::principal::{Need, Principal};
use crate::tenancy::organisations::audit_event;

/// Largest page of people.
pub const MAX_PER_PAGE: u32 = 100;
/// Page size when none is asked for.
pub const DEFAULT_PER_PAGE: u32 = 50;
/// Longest search text accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// A person as their org admin sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Account id.
    pub account_id: AccountId,
    /// Name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Role in the organisation.
    pub role: Role,
    /// Membership status (invited, active, disabled).
    pub status: MembershipStatus,
    /// True while sign-in is locked (temporarily or hard) after wrong passwords or codes.
    pub locked: bool,
    /// Membership creation time, epoch ms UTC.
    pub created_at_ms: i64,
    /// The membership's version.
    pub version: i64,
}

/// A page of people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeoplePage {
    /// This page.
    pub items: Vec<Person>,
    /// How many match the search in all.
    pub total: usize,
    /// Page number, from 1.
    pub page: u32,
    /// Page size.
    pub per_page: u32,
}

/// A search over the organisation's people.
#[derive(Debug, Clone, Default)]
pub struct PeopleQuery<'a> {
    /// Case-insensitive substring of the name or e-mail address.
    pub q: Option<&'a str>,
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Page size, 1–100.
    pub per_page: Option<u32>,
}

/// The person as this organisation may see them. While the membership is only invited, the name
/// is the one the admin typed and no lock state is shown: an invited address may belong to an
/// account of another organisation, whose details are not this organisation's to see until the
/// person joins.
fn person(
    account: &AccountRecord,
    m: &Membership,
    invited_name: Option<&str>,
    now_ms: i64,
) -> Person {
    if m.status == MembershipStatus::Invited {
        return Person {
            account_id: account.id,
            name: invited_name.unwrap_or(&account.name).to_owned(),
            email: account.email.clone(),
            role: m.role,
            status: m.status,
            locked: false,
            created_at_ms: m.created_at_ms,
            version: m.version,
        };
    }
    let locked = account
        .password_lockout
        .check(&LockoutPolicy::password_default(), now_ms)
        != Gate::Open
        || account
            .mfa_lockout
            .check(&LockoutPolicy::mfa_default(), now_ms)
            != Gate::Open;
    Person {
        account_id: account.id,
        name: account.name.clone(),
        email: account.email.clone(),
        role: m.role,
        status: m.status,
        locked,
        created_at_ms: m.created_at_ms,
        version: m.version,
    }
}

fn member_not_found() -> ServiceError {
    DomainError::new(ErrorCode::NotFound, "no such person in this organisation").into()
}

fn last_admin() -> ServiceError {
    DomainError::new(
        ErrorCode::Conflict,
        "this is the organisation's last active org admin; make someone else an org admin first",
    )
    .into()
}

/// The target's membership and account (and the invited name while only invited), or 404.
async fn target(
    tx: &mut Tx,
    org: OrgId,
    account: AccountId,
) -> Result<(Membership, AccountRecord, Option<String>), ServiceError> {
    let membership = tx
        .membership(org, account)
        .await?
        .ok_or_else(member_not_found)?;
    let record = tx.account(account).await?.ok_or_else(member_not_found)?;
    let invited_name = invited_name_of(tx, &membership).await?;
    Ok((membership, record, invited_name))
}

async fn invited_name_of(tx: &mut Tx, m: &Membership) -> Result<Option<String>, ServiceError> {
    if m.status == MembershipStatus::Invited {
        Ok(tx.invited_name(m.org_id, m.account_id).await?)
    } else {
        Ok(None)
    }
}

/// Refuses a change that would leave the organisation without an active org admin.
async fn keep_an_admin(tx: &mut Tx, org: OrgId, losing: AccountId) -> Result<(), ServiceError> {
    let others = tx
        .memberships(org)
        .await?
        .into_iter()
        .filter(|m| {
            m.account_id != losing && m.status == MembershipStatus::Active && m.role.is_admin()
        })
        .count();
    if others == 0 {
        return Err(last_admin());
    }
    Ok(())
}

/// Ends the person's sessions and their API tokens in `org` (disable, deletion, role removal);
/// returns how many sessions ended.
async fn cut_access(
    tx: &mut Tx,
    org: OrgId,
    account: AccountId,
    now_ms: i64,
) -> Result<u64, ServiceError> {
    let sessions = tx.delete_sessions_of(account).await?;
    tx.revoke_api_tokens_of(org, account, now_ms).await?;
    Ok(sessions)
}

fn refuse_inactive_org(org: &Organisation) -> Result<(), ServiceError> {
    if org.status == latchkey_domain::tenancy::OrgStatus::Active {
        Ok(())
    } else {
        Err(DomainError::new(
            ErrorCode::TenantInactive,
            "the organisation is not active; the operator must resume it first",
        )
        .into())
    }
}

impl App {
    /// The organisation's people, searched and paged (org admins).
    pub async fn people(
        &self,
        principal: &Principal,
        org: OrgId,
        query: PeopleQuery<'_>,
    ) -> Result<PeoplePage, ServiceError> {
        let page = query.page.unwrap_or(1);
        if page == 0 {
            return Err(DomainError::invalid("page", "page starts at 1").into());
        }
        let per_page = query.per_page.unwrap_or(DEFAULT_PER_PAGE);
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            return Err(DomainError::invalid(
                "per_page",
                format!("per_page must be between 1 and {MAX_PER_PAGE}"),
            )
            .into());
        }
        let needle = query.q.map(str::trim).filter(|q| !q.is_empty());
        if needle.is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS) {
            return Err(DomainError::invalid(
                "q",
                format!("the search text must be at most {MAX_QUERY_CHARS} characters"),
            )
            .into());
        }
        let needle = needle.map(str::to_lowercase);
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.read().await?;
        principal
            .require_member(&mut tx, org, Need::ADMIN_READ)
            .await?;
        let mut matching = Vec::new();
        for m in tx.memberships(org).await? {
            let Some(account) = tx.account(m.account_id).await? else {
                continue;
            };
            let invited_name = invited_name_of(&mut tx, &m).await?;
            let shown = person(&account, &m, invited_name.as_deref(), now_ms);
            let hit = needle.as_deref().is_none_or(|q| {
                shown.name.to_lowercase().contains(q) || shown.email.to_lowercase().contains(q)
            });
            if hit {
                matching.push(shown);
            }
        }
        matching.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then(a.account_id.to_string().cmp(&b.account_id.to_string()))
        });
        let total = matching.len();
        let skip = usize::try_from(u64::from(page - 1) * u64::from(per_page)).unwrap_or(usize::MAX);
        let items = matching
            .into_iter()
            .skip(skip)
            .take(usize::try_from(per_page).unwrap_or(usize::MAX))
            .collect();
        Ok(PeoplePage {
            items,
            total,
            page,
            per_page,
        })
    }

    /// One person of the organisation (org admins).
    pub async fn person(
        &self,
        principal: &Principal,
        org: OrgId,
        account: AccountId,
    ) -> Result<Person, ServiceError> {
        let mut tx = self.store.read().await?;
        principal
            .require_member(&mut tx, org, Need::ADMIN_READ)
            .await?;
        let (m, record, invited_name) = target(&mut tx, org, account).await?;
        Ok(person(
            &record,
            &m,
            invited_name.as_deref(),
            self.clock.now_ms(),
        ))
    }

    /// Switches a person's membership off: sessions end and their API tokens in the organisation
    /// are revoked at once. Audited as `user_disabled`.
    pub async fn disable_person(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        account: AccountId,
    ) -> Result<Person, ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        principal
            .require_member(&mut tx, org, Need::ADMIN_WRITE)
            .await?;
        let (mut m, record, invited_name) = target(&mut tx, org, account).await?;
        match m.status {
            MembershipStatus::Active => {}
            MembershipStatus::Disabled => {
                return Err(DomainError::new(
                    ErrorCode::Conflict,
                    "this person is already disabled",
                )
                .into());
            }
            MembershipStatus::Invited => {
                return Err(DomainError::new(
                    ErrorCode::Conflict,
                    "this person has not accepted the invitation yet; delete the invitation instead",
                )
                .into());
            }
        }
        if m.role.is_admin() {
            keep_an_admin(&mut tx, org, account).await?;
        }
        m.status = MembershipStatus::Disabled;
        m.version = tx.update_membership(&m).await?;
        let sessions = cut_access(&mut tx, org, account, now_ms).await?;
        tx.append_audit(
            Scope::Tenant(org),
            audit_event(
                actor,
                now_ms,
                "user_disabled",
                format!("user:{account}"),
                json!({ "account_id": account, "sessions_ended": sessions }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(person(&record, &m, invited_name.as_deref(), now_ms))
    }

    /// Switches a disabled membership back on; it takes a seat again, so the seat limit applies.
    /// Audited as `user_enabled`.
    pub async fn enable_person(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        account: AccountId,
    ) -> Result<Person, ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        principal
            .require_member(&mut tx, org, Need::ADMIN_WRITE)
            .await?;
        tx.lock_seats(org).await?;
        let (mut m, record, invited_name) = target(&mut tx, org, account).await?;
        if m.status != MembershipStatus::Disabled {
            return Err(
                DomainError::new(ErrorCode::Conflict, "this person is not disabled").into(),
            );
        }
        let organisation = tx
            .organisation(org)
            .await?
            .ok_or_else(|| DomainError::not_found("organisation"))?;
        refuse_inactive_org(&organisation)?;
        let limit = organisation.contract.seat_limit;
        if tx.seats_in_use(org, self.clock.now_ms()).await? >= limit {
            return Err(DomainError::new(
                ErrorCode::RuleViolation,
                format!("the organisation's contract allows {limit} seats; all are in use"),
            )
            .into());
        }
        m.status = MembershipStatus::Active;
        m.version = tx.update_membership(&m).await?;
        tx.append_audit(
            Scope::Tenant(org),
            audit_event(
                actor,
                now_ms,
                "user_enabled",
                format!("user:{account}"),
                json!({ "account_id": account }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(person(&record, &m, invited_name.as_deref(), now_ms))
    }

    /// Removes a person from the organisation (needs step-up). Their sessions end and their API
    /// tokens and pending invitation links in the organisation stop working at once; an account
    /// left in no organisation is switched off (see the module doc). Audited as `user_deleted`.
    pub async fn delete_person(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        account: AccountId,
    ) -> Result<(), ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        principal
            .require_member(&mut tx, org, Need::ADMIN_WRITE)
            .await?;
        let (m, mut record, _) = target(&mut tx, org, account).await?;
        principal.require_step_up(now_ms)?;
        if m.role.is_admin() && m.status == MembershipStatus::Active {
            keep_an_admin(&mut tx, org, account).await?;
        }
        let sessions = cut_access(&mut tx, org, account, now_ms).await?;
        tx.revoke_org_tokens(INVITATION_PURPOSE, account, org, now_ms)
            .await?;
        // The person's place in the directory goes with the membership: group memberships and
        // any role scope (the profile and labels live on the membership row and its labels).
        tx.remove_from_all_groups(org, account).await?;
        tx.set_managed_spaces(org, account, &[]).await?;
        tx.set_owned_devices(org, account, &[]).await?;
        tx.set_labels(org, LabelKind::Person, &account.to_string(), &[])
            .await?;
        tx.delete_membership(org, account).await?;
        let switched_off = tx.organisations_of(account).await?.is_empty()
            && !record.is_operator
            && record.status != AccountStatus::Disabled;
        if switched_off {
            record.status = AccountStatus::Disabled;
            tx.update_account(&record).await?;
        }
        tx.append_audit(
            Scope::Tenant(org),
            audit_event(
                actor,
                now_ms,
                "user_deleted",
                format!("user:{account}"),
                json!({ "account_id": account, "account_disabled": switched_off, "sessions_ended": sessions }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes a person's role (needs step-up). Losing the admin role ends their sessions and
    /// revokes their API tokens in the organisation at once. Audited as `authz_role_change`.
    pub async fn change_role(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        account: AccountId,
        role: &str,
    ) -> Result<Person, ServiceError> {
        self.change_role_until(principal, actor, org, account, role, None)
            .await
    }

    /// Changes a person's role, with the end of the membership for a guest (required for
    /// `guest`, refused for other roles). Leaving space manager or device owner drops that
    /// role's scope in the same transaction, so a later re-grant starts empty. Needs step-up;
    /// audited as `authz_role_change` with before and after.
    pub async fn change_role_until(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        account: AccountId,
        role: &str,
        expires_at_ms: Option<i64>,
    ) -> Result<Person, ServiceError> {
        let role = Role::parse(role).ok_or_else(|| {
            DomainError::invalid(
                "role",
                "role must be guest, member, device_owner, space_manager or org_admin",
            )
        })?;
        let now_ms = self.clock.now_ms();
        match (role, expires_at_ms) {
            (Role::Guest, None) => {
                return Err(DomainError::invalid(
                    "expires_at",
                    "a guest's membership is time-limited: give expires_at",
                )
                .into());
            }
            (Role::Guest, Some(end)) if end <= now_ms => {
                return Err(
                    DomainError::invalid("expires_at", "expires_at must be in the future").into(),
                );
            }
            (Role::Guest, Some(_)) | (_, None) => {}
            (_, Some(_)) => {
                return Err(DomainError::invalid(
                    "expires_at",
                    "only a guest's membership has an end; leave expires_at out",
                )
                .into());
            }
        }
        let mut tx = self.store.write().await?;
        principal
            .require_member(&mut tx, org, Need::ADMIN_WRITE)
            .await?;
        let (mut m, record, invited_name) = target(&mut tx, org, account).await?;
        principal.require_step_up(now_ms)?;
        if m.role == role && m.expires_at_ms == expires_at_ms {
            return Ok(person(&record, &m, invited_name.as_deref(), now_ms));
        }
        // An expired guest holds no seat; giving them time again (or another role) takes one, so
        // only if one is free (under the seat lock, like an invitation).
        let expired = m.expires_at_ms.is_some_and(|end| end <= now_ms);
        if expired
            && matches!(
                m.status,
                MembershipStatus::Active | MembershipStatus::Invited
            )
        {
            tx.lock_seats(org).await?;
            let limit = tx
                .organisation(org)
                .await?
                .ok_or_else(|| DomainError::not_found("organisation"))?
                .contract
                .seat_limit;
            if tx.seats_in_use(org, now_ms).await? >= limit {
                return Err(seats_full(limit));
            }
        }
        let before = m.role;
        let before_expires = m.expires_at_ms;
        if before.is_admin() && !role.is_admin() && m.status == MembershipStatus::Active {
            keep_an_admin(&mut tx, org, account).await?;
        }
        m.role = role;
        m.expires_at_ms = expires_at_ms;
        m.version = tx.update_membership(&m).await?;
        if before != role {
            if before == Role::SpaceManager {
                tx.set_managed_spaces(org, account, &[]).await?;
            }
            if before == Role::DeviceOwner {
                tx.set_owned_devices(org, account, &[]).await?;
            }
        }
        let sessions = if before.is_admin() && !role.is_admin() {
            cut_access(&mut tx, org, account, now_ms).await?
        } else {
            0
        };
        tx.append_audit(
            Scope::Tenant(org),
            audit_event(
                actor,
                now_ms,
                "authz_role_change",
                format!("user:{account}"),
                json!({ "account_id": account, "before": before.as_str(), "after": role.as_str(),
                    "expires_at_ms_before": before_expires, "expires_at_ms_after": expires_at_ms,
                    "sessions_ended": sessions }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(person(&record, &m, invited_name.as_deref(), now_ms))
    }

    /// Ends every session of a person (e.g. a lost laptop). Audited as `session_revoked`.
    pub async fn end_person_sessions(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        account: AccountId,
    ) -> Result<u64, ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        principal
            .require_member(&mut tx, org, Need::ADMIN_WRITE)
            .await?;
        target(&mut tx, org, account).await?;
        let ended = tx.delete_sessions_of(account).await?;
        tx.append_audit(
            Scope::Tenant(org),
            audit_event(
                actor,
                now_ms,
                "session_revoked",
                format!("user:{account}"),
                json!({ "account_id": account, "sessions_ended": ended, "by": "org_admin" }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(ended)
    }

    /// Clears a locked account's password and code locks (research §2.2 L3: an org admin of the
    /// same tenant, with step-up). Audited as `authn_login_unlock`.
    pub async fn unlock_person(
        &self,
        principal: &Principal,
        actor: &Actor,
        org: OrgId,
        account: AccountId,
    ) -> Result<Person, ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        principal
            .require_member(&mut tx, org, Need::ADMIN_WRITE)
            .await?;
        let (m, mut record, invited_name) = target(&mut tx, org, account).await?;
        principal.require_step_up(now_ms)?;
        let was_locked = person(&record, &m, invited_name.as_deref(), now_ms).locked;
        record.password_lockout.unlock();
        record.mfa_lockout.unlock();
        record.version = tx.update_account(&record).await?;
        // The device lanes too: an unlock reopens every lane of the account (research §2.4).
        tx.unlock_devices_of(account).await?;
        tx.append_audit(
            Scope::Tenant(org),
            audit_event(
                actor,
                now_ms,
                "authn_login_unlock",
                format!("user:{account}"),
                json!({ "account_id": account, "was_locked": was_locked, "by": "org_admin" }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(person(&record, &m, invited_name.as_deref(), now_ms))
    }
}
