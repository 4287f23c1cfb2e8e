//! Invitations (security.md "Identity: Invitation"): an org admin — or the platform operator, for
//! an organisation's first org admin — invites a person by e-mail. The link carries a 256-bit
//! token stored only as an HMAC digest, bound to the account and the organisation, valid for the
//! organisation's invitation lifetime (72 h by default) and spent once. The e-mailed GET only peeks; the POST spends it (mail scanners prefetch links).
//! Every failure of a link — unknown, expired, used, tampered, or its membership removed — gets
//! the same "invalid or expired link" answer.
//!
//! The seat limit is enforced atomically: the organisation's seat lock is taken first in the
//! transaction that counts and inserts, so parallel invitations cannot both take the last seat.

use latchkey_domain::identity::lockout::LockoutState;
use latchkey_domain::identity::password::{PasswordContext, PasswordPolicy};
use latchkey_domain::identity::{MembershipStatus, Role, SecuritySettings};
use latchkey_domain::tenancy::{OrgStatus, Organisation, parse_email, parse_name};
use latchkey_domain::{AccountId, DomainError, ErrorCode, OrgId, Scope};
use latchkey_store::Tx;
use latchkey_store::repo::{
    AccountRecord, AccountRepo, AccountStatus, AuditRepo, InvitationRepo, MailRepo, Membership,
    MembershipRepo, NewMail, OrgSettingsRepo, OrganisationRepo, SessionRepo,
};
use serde_json::json;

use crate::app::{Actor, App, ServiceError};
use crate::identity::principal::{Need, Principal};
use crate::identity::tokens::{looks_like_token, new_token};
use crate::tenancy::organisations::audit_event;

/// The purpose under which invitation tokens are digested and stored.
pub const INVITATION_PURPOSE: &str = "invitation";
/// How long an invitation link works unless the organisation's security settings say otherwise
/// (security.md: 72 h default).
pub const INVITATION_TTL_MS: i64 = 72 * 60 * 60 * 1000;

/// Who to invite (raw input; validated here).
#[derive(Debug, Clone)]
pub struct NewInvitation<'a> {
    /// The person's name.
    pub name: &'a str,
    /// Their e-mail address.
    pub email: &'a str,
    /// `member` or `org_admin`.
    pub role: &'a str,
}

/// An invitation that was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentInvitation {
    /// The invited account (new and pending, or an existing one).
    pub account_id: AccountId,
    /// The role the person will have.
    pub role: Role,
    /// True if the invitation created the account. For the service's callers (CLI, tests) only:
    /// the API does not tell an org admin whether an address already had an account elsewhere.
    pub new_account: bool,
    /// When the link stops working, epoch ms UTC.
    pub expires_at_ms: i64,
}

/// What the invitation page shows before anything is spent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationView {
    /// The organisation's name.
    pub organisation: String,
    /// The invited e-mail address.
    pub email: String,
    /// The invited person's name.
    pub name: String,
    /// The role offered.
    pub role: Role,
    /// True if the person must choose a password (new account); false if they already have one.
    pub password_required: bool,
    /// The minimum password length that applies.
    pub password_min_chars: usize,
}

/// An accepted invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedInvitation {
    /// The account now active.
    pub account_id: AccountId,
    /// The organisation joined.
    pub org_id: OrgId,
}

/// The one answer for every unusable link (security.md: "invalid or expired").
pub fn invalid_link() -> ServiceError {
    DomainError::new(
        ErrorCode::NotFound,
        "invalid or expired link: ask your organisation's admin to send a new invitation",
    )
    .into()
}

/// Refuses bidirectional-text controls in names: they let a name display differently from what
/// it is (e.g. reversing an e-mail address shown next to it). Combining marks are fine.
pub(crate) fn refuse_bidi_controls(field: &'static str, value: &str) -> Result<(), DomainError> {
    let bidi = |c: char| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}');
    if value.chars().any(bidi) {
        return Err(DomainError::invalid(
            field,
            format!("{field} must not contain text-direction control characters"),
        ));
    }
    Ok(())
}

/// Invitations offer only member or org admin: roles with scope (space manager, device owner)
/// and time-limited guests are given after joining, through the role endpoint, where their
/// scope or end is set.
fn parse_role(raw: &str) -> Result<Role, DomainError> {
    Role::parse(raw)
        .filter(|r| matches!(r, Role::Member | Role::OrgAdmin))
        .ok_or_else(|| DomainError::invalid("role", "role must be member or org_admin"))
}

/// Someone to invite, already validated.
pub(crate) struct Invitee {
    /// E-mail address (domain lower-cased).
    pub email: String,
    /// Name for the e-mail and a new account.
    pub name: String,
    /// Member or org admin.
    pub role: Role,
}

/// The seat limit is reached.
pub(crate) fn seats_full(limit: i64) -> ServiceError {
    DomainError::new(
        ErrorCode::RuleViolation,
        format!(
            "the organisation's contract allows {limit} seats; all are in use. Remove someone or ask the operator to raise the limit"
        ),
    )
    .into()
}

fn tenant_inactive() -> ServiceError {
    DomainError::new(
        ErrorCode::TenantInactive,
        "the organisation is not active; the operator must resume it before people can be invited or join",
    )
    .into()
}

/// The organisation's security settings (defaults if none are stored).
async fn settings_of(tx: &mut Tx, org: OrgId) -> Result<SecuritySettings, ServiceError> {
    Ok(tx.security_settings(org).await?.unwrap_or_default())
}

/// The password rule for a person joining with `role` under `settings` (org admins ≥ 12).
fn password_policy(settings: &SecuritySettings, role: Role) -> PasswordPolicy {
    let policy = settings.password_policy();
    if role.is_admin() {
        policy.for_org_admin()
    } else {
        policy
    }
}

/// Active or invited org admins of `org`.
async fn admins_present(tx: &mut Tx, org: OrgId) -> Result<(usize, usize), ServiceError> {
    let memberships = tx.memberships(org).await?;
    let admins = |status| {
        memberships
            .iter()
            .filter(|m| m.role.is_admin() && m.status == status)
            .count()
    };
    Ok((
        admins(MembershipStatus::Active),
        admins(MembershipStatus::Invited),
    ))
}

/// Who may send (or re-send) invitations into `org`: its org admins, or — while the organisation
/// has no org admin yet — the platform operator, for its first org admin only.
async fn authorise_inviter(
    tx: &mut Tx,
    principal: &Principal,
    org: OrgId,
    role: Role,
    resend: bool,
) -> Result<(), ServiceError> {
    let refused = match principal.require_member(tx, org, Need::ADMIN_WRITE).await {
        Ok(_) => return Ok(()),
        Err(refused) => refused,
    };
    // A store failure is a failure, not a reason to try the operator's path.
    if !principal.is_operator || matches!(refused, ServiceError::Store(_)) {
        return Err(refused);
    }
    principal.require_operator()?;
    if tx.organisation(org).await?.is_none() {
        return Err(DomainError::not_found("organisation").into());
    }
    let (active, invited) = admins_present(tx, org).await?;
    // A re-send of the pending first-admin invitation is still the operator's to make.
    let blocked = if resend {
        active > 0
    } else {
        active + invited > 0
    };
    if blocked {
        return Err(DomainError::new(
            ErrorCode::Forbidden,
            "the organisation already has an org admin; invitations are now made by its org admins",
        )
        .into());
    }
    if role != Role::OrgAdmin {
        return Err(DomainError::new(
            ErrorCode::Forbidden,
            "the operator invites only an organisation's first org admin; its org admins invite everyone else",
        )
        .into());
    }
    Ok(())
}

async fn active_organisation(tx: &mut Tx, org: OrgId) -> Result<Organisation, ServiceError> {
    let found = tx
        .organisation(org)
        .await?
        .ok_or_else(|| DomainError::not_found("organisation"))?;
    if found.status != OrgStatus::Active {
        return Err(tenant_inactive());
    }
    Ok(found)
}

impl App {
    fn invitation_digest(&self, token: &str) -> Vec<u8> {
        self.store
            .keyring()
            .token_digest(INVITATION_PURPOSE, token.as_bytes())
    }

    /// Issues a fresh link for (account, org), voiding older ones, and queues the e-mail in the
    /// same transaction. The mail carries the link and nothing else secret.
    async fn issue_invitation(
        &self,
        tx: &mut Tx,
        org: &Organisation,
        account: &AccountRecord,
        now_ms: i64,
    ) -> Result<i64, ServiceError> {
        tx.revoke_org_tokens(INVITATION_PURPOSE, account.id, org.id, now_ms)
            .await?;
        let ttl_ms = settings_of(tx, org.id).await?.invitation_ttl_ms();
        let hours = ttl_ms / (60 * 60 * 1000);
        let token = new_token();
        let expires_at_ms = now_ms + ttl_ms;
        tx.insert_token(
            &self.invitation_digest(&token),
            INVITATION_PURPOSE,
            Some(account.id),
            Some(org.id),
            now_ms,
            expires_at_ms,
        )
        .await?;
        let link = self.link(&format!("/invite/{token}"));
        let body = format!(
            "Hello {name},\n\n\
             you have been invited to join {org} on Latchkey.\n\n\
             Open this link within {hours} hours to accept:\n{link}\n\n\
             If you did not expect this invitation, ignore this message; nothing happens unless the link is used.\n\n\
             ---\n\n\
             {name} 様\n\n\
             Latchkey の {org} に招待されました。{hours} 時間以内に次のリンクを開いて参加してください:\n{link}\n\n\
             心当たりがない場合はこのメールを無視してください。\n",
            name = account.name,
            org = org.name,
        );
        tx.enqueue_mail(
            Scope::Tenant(org.id),
            &NewMail {
                kind: "invitation".into(),
                to: account.email.clone(),
                subject: format!("Invitation to {} / {} への招待", org.name, org.name),
                body,
            },
            now_ms,
        )
        .await?;
        Ok(expires_at_ms)
    }

    /// Invites a person into `org` (see the module doc for who may). A new e-mail address creates
    /// a pending account without a password; an existing account gets an invited membership and
    /// later joins without a new password. Audited as `user_invited` (ids and role only).
    pub async fn invite(
        &self,
        principal: &Principal,
        actor: &Actor,
        org_id: OrgId,
        input: NewInvitation<'_>,
    ) -> Result<SentInvitation, ServiceError> {
        let name = parse_name("name", input.name)?;
        refuse_bidi_controls("name", &name)?;
        let email = parse_email("email", input.email)?;
        let role = parse_role(input.role)?;
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        authorise_inviter(&mut tx, principal, org_id, role, false).await?;
        // The seat lock first: everything below counts and inserts under it.
        tx.lock_seats(org_id).await?;
        let org = active_organisation(&mut tx, org_id).await?;
        let existing = tx.account_by_email_for_update(&email).await?;
        if let Some(account) = &existing
            && let Some(m) = tx.membership(org_id, account.id).await?
        {
            let message = if m.status == MembershipStatus::Invited {
                "this person is already invited; re-send the invitation instead"
            } else {
                "this person is already a member of the organisation"
            };
            return Err(DomainError::new(ErrorCode::Conflict, message).into());
        }
        let in_use = tx.seats_in_use(org_id, now_ms).await?;
        if in_use >= org.contract.seat_limit {
            return Err(seats_full(org.contract.seat_limit));
        }
        let sent = self
            .invite_in_tx(
                &mut tx,
                actor,
                &org,
                existing,
                Invitee { email, name, role },
                now_ms,
            )
            .await?;
        tx.commit().await?;
        tracing::info!(org_id = %org_id, account_id = %sent.account_id, "invitation sent");
        Ok(sent)
    }

    /// The write half of an invitation, inside the caller's transaction: the pending account
    /// (for a new address), the invited membership, the link and its e-mail, the audit event.
    /// The caller has authorised the inviter, locked the seats, checked them and checked that
    /// `existing` (the account with this address, read for update) is not a member yet. Bulk
    /// import calls it once per row in one transaction.
    pub(crate) async fn invite_in_tx(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        org: &Organisation,
        existing: Option<AccountRecord>,
        invitee: Invitee,
        now_ms: i64,
    ) -> Result<SentInvitation, ServiceError> {
        let Invitee { email, name, role } = invitee;
        let org_id = org.id;
        let new_account = existing.is_none();
        let typed_name = name.clone();
        let account = match existing {
            Some(account) => account,
            None => {
                let account = AccountRecord {
                    id: AccountId::generate(),
                    email,
                    name,
                    password_hash: None,
                    is_operator: false,
                    status: AccountStatus::Pending,
                    password_lockout: LockoutState::default(),
                    totp_secret: None,
                    totp_last_step: None,
                    mfa_lockout: LockoutState::default(),
                    created_at_ms: now_ms,
                    version: 1,
                };
                tx.insert_account(&account).await?;
                account
            }
        };
        tx.insert_membership(&Membership {
            org_id,
            account_id: account.id,
            role,
            status: MembershipStatus::Invited,
            created_at_ms: now_ms,
            version: 1,
            expires_at_ms: None,
        })
        .await?;
        tx.set_invited_name(org_id, account.id, Some(&typed_name))
            .await?;
        let expires_at_ms = self.issue_invitation(tx, org, &account, now_ms).await?;
        // Whether the address already had an account is not recorded in the tenant's trail: the
        // tenant's admins may read it, and it is another organisation's business.
        tx.append_audit(
            Scope::Tenant(org_id),
            audit_event(
                actor,
                now_ms,
                "user_invited",
                format!("user:{}", account.id),
                json!({ "account_id": account.id, "role": role.as_str() }),
            ),
        )
        .await?;
        Ok(SentInvitation {
            account_id: account.id,
            role,
            new_account,
            expires_at_ms,
        })
    }

    /// Sends a fresh link for a pending invitation; older links stop working. Audited as
    /// `user_invited` with `resent: true`.
    pub async fn resend_invitation(
        &self,
        principal: &Principal,
        actor: &Actor,
        org_id: OrgId,
        account_id: AccountId,
    ) -> Result<SentInvitation, ServiceError> {
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        // Authorised against the role of the pending invitation (operators: first admin only);
        // nothing of it is told to a caller who fails that check.
        let role = tx
            .membership(org_id, account_id)
            .await?
            .map_or(Role::Member, |m| m.role);
        authorise_inviter(&mut tx, principal, org_id, role, true).await?;
        let org = active_organisation(&mut tx, org_id).await?;
        let membership = tx
            .membership(org_id, account_id)
            .await?
            .ok_or_else(|| DomainError::not_found("member"))?;
        if membership.status != MembershipStatus::Invited {
            return Err(DomainError::new(
                ErrorCode::Conflict,
                "this person has already accepted; there is no invitation to re-send",
            )
            .into());
        }
        let account = tx
            .account(account_id)
            .await?
            .ok_or_else(|| DomainError::not_found("member"))?;
        let expires_at_ms = self
            .issue_invitation(&mut tx, &org, &account, now_ms)
            .await?;
        tx.append_audit(
            Scope::Tenant(org_id),
            audit_event(
                actor,
                now_ms,
                "user_invited",
                format!("user:{account_id}"),
                json!({ "account_id": account_id, "role": membership.role.as_str(), "resent": true }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(SentInvitation {
            account_id,
            role: membership.role,
            new_account: false,
            expires_at_ms,
        })
    }

    /// What a link offers, without spending it (GET of the e-mailed page).
    pub async fn peek_invitation(&self, token: &str) -> Result<InvitationView, ServiceError> {
        if !looks_like_token(token) {
            return Err(invalid_link());
        }
        let digest = self.invitation_digest(token);
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.read().await?;
        let spent = tx
            .live_token(&digest, INVITATION_PURPOSE, now_ms)
            .await?
            .ok_or_else(invalid_link)?;
        let (Some(account_id), Some(org_id)) = (spent.account, spent.org) else {
            return Err(invalid_link());
        };
        let (org, account, membership) = invitation_parts(&mut tx, org_id, account_id).await?;
        if org.status != OrgStatus::Active {
            return Err(tenant_inactive());
        }
        let policy = password_policy(&settings_of(&mut tx, org_id).await?, membership.role);
        Ok(InvitationView {
            organisation: org.name,
            password_required: needs_password(&account),
            password_min_chars: policy.min_chars(),
            email: account.email,
            name: account.name,
            role: membership.role,
        })
    }

    /// Accepts an invitation: spends the link, activates the membership and — for a new account —
    /// sets the password (policy-checked, org admins ≥ 12) and activates the account. An existing
    /// active account joins without a new password; a password sent anyway is ignored. Audited
    /// as `user_activated`.
    pub async fn accept_invitation(
        &self,
        actor: &Actor,
        token: &str,
        password: Option<&str>,
    ) -> Result<AcceptedInvitation, ServiceError> {
        // Check and hash the password before the write transaction: Argon2 must not run while
        // the database lock is held. Nothing is spent if the password is refused.
        let view = self.peek_invitation(token).await?;
        let hash = if view.password_required {
            let password = password.ok_or_else(|| {
                DomainError::invalid("password", "choose a password to finish joining")
            })?;
            let context = PasswordContext {
                email: Some(&view.email),
                person_name: Some(&view.name),
                organisation_name: Some(&view.organisation),
            };
            let normalised = PasswordPolicy::with_min_chars(view.password_min_chars)?
                .check(password, &context)
                .map_err(DomainError::from)?;
            Some(self.hasher.hash(&normalised).await.map_err(|e| {
                DomainError::new(
                    ErrorCode::Internal,
                    format!("could not hash the password: {e}"),
                )
            })?)
        } else {
            None
        };
        let digest = self.invitation_digest(token);
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let spent = tx
            .spend_token(&digest, INVITATION_PURPOSE, now_ms)
            .await?
            .ok_or_else(invalid_link)?;
        let (Some(account_id), Some(org_id)) = (spent.account, spent.org) else {
            return Err(invalid_link());
        };
        let (org, mut account, mut membership) =
            invitation_parts(&mut tx, org_id, account_id).await?;
        if org.status != OrgStatus::Active {
            return Err(tenant_inactive());
        }
        let new_account = needs_password(&account);
        if new_account {
            // The account changed between the peek and now (e.g. another invitation accepted).
            let Some(hash) = hash else {
                return Err(DomainError::new(
                    ErrorCode::Conflict,
                    "the account changed meanwhile; open the link again",
                )
                .into());
            };
            account.password_hash = Some(hash);
            account.status = AccountStatus::Active;
            account.password_lockout = LockoutState::default();
            account.version = tx.update_account(&account).await?;
        }
        membership.status = MembershipStatus::Active;
        tx.update_membership(&membership).await?;
        tx.set_invited_name(org_id, account_id, None).await?;
        tx.append_audit(
            Scope::Tenant(org_id),
            audit_event(
                actor,
                now_ms,
                "user_activated",
                format!("user:{account_id}"),
                json!({ "account_id": account_id, "role": membership.role.as_str(), "password_set": new_account }),
            ),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(org_id = %org_id, account_id = %account_id, "invitation accepted");
        Ok(AcceptedInvitation { account_id, org_id })
    }
}

/// An account must set a password when it has none or is not active (a pending invitee, or a
/// person whose account was switched off when they left their last organisation).
fn needs_password(account: &AccountRecord) -> bool {
    account.password_hash.is_none() || account.status != AccountStatus::Active
}

/// The organisation, account and *invited* membership behind a link; anything else is the same
/// "invalid or expired" answer (e.g. the invitation was withdrawn by deleting the membership).
async fn invitation_parts(
    tx: &mut Tx,
    org_id: OrgId,
    account_id: AccountId,
) -> Result<(Organisation, AccountRecord, Membership), ServiceError> {
    let org = tx.organisation(org_id).await?.ok_or_else(invalid_link)?;
    let account = tx.account(account_id).await?.ok_or_else(invalid_link)?;
    let membership = tx
        .membership(org_id, account_id)
        .await?
        .filter(|m| m.status == MembershipStatus::Invited)
        .ok_or_else(invalid_link)?;
    Ok((org, account, membership))
}
