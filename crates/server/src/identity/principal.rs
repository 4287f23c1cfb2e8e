//! Who is calling, and what they may touch. A request's credential (session cookie or API token)
//! is resolved once into a [`Principal`]; every service method then checks it against the object
//! it works on (security.md "Authorization and tenancy"): ids of another tenant answer 404 —
//! never told apart from ids that do not exist — and a role that is too low answers 403.

use latchkey_domain::identity::{ApiScope, Role};
use latchkey_domain::tenancy::Organisation;
use latchkey_domain::{AccountId, DomainError, ErrorCode, OrgId};
use latchkey_store::Tx;
use latchkey_store::repo::{
    AccountRepo, AccountStatus, ApiTokenRepo, Membership, MembershipRepo, OrganisationRepo,
    SessionRecord, SessionRepo,
};

use crate::app::{Actor, App, ServiceError};
use crate::identity::login::SESSION_PURPOSE;
use crate::identity::tokens::looks_like_token;

/// Step-up window: sensitive actions need a sign-in (or re-authentication) this recent.
pub const STEP_UP_WINDOW_MS: i64 = 10 * 60 * 1000;
/// API tokens start with this, so secret scanners and people recognise them.
pub const API_TOKEN_PREFIX: &str = "lkt_";
/// The purpose under which API token secrets are digested.
pub const API_TOKEN_PURPOSE: &str = "api_token";

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A console or API session (cookie).
    Session {
        /// The stored digest of the session id.
        digest: Vec<u8>,
        /// The session.
        record: SessionRecord,
    },
    /// An API token, bound to one organisation.
    ApiToken {
        /// The organisation the token acts in.
        org: OrgId,
        /// The token's public id.
        id: String,
        /// Read-only or read-write.
        scope: ApiScope,
    },
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The account.
    pub account_id: AccountId,
    /// Its e-mail address.
    pub email: String,
    /// Its display name.
    pub name: String,
    /// Platform operator.
    pub is_operator: bool,
    /// TOTP enrolled.
    pub mfa_enrolled: bool,
    /// How the caller authenticated.
    pub credential: Credential,
    /// When the request was authenticated, epoch ms UTC: the instant against which time-limited
    /// memberships (guests) are judged for the whole request.
    pub at_ms: i64,
}

/// What an operation needs inside an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    /// The lowest role that may do it.
    pub role: Role,
    /// True if it changes anything (API tokens need the `write` scope).
    pub write: bool,
}

impl Need {
    /// Any member (guests included) may read.
    pub const MEMBER_READ: Need = Need {
        role: Role::Guest,
        write: false,
    };
    /// Any member (guests included) may change (their own things).
    pub const MEMBER_WRITE: Need = Need {
        role: Role::Guest,
        write: true,
    };
    /// Org admins read.
    pub const ADMIN_READ: Need = Need {
        role: Role::OrgAdmin,
        write: false,
    };
    /// Org admins change.
    pub const ADMIN_WRITE: Need = Need {
        role: Role::OrgAdmin,
        write: true,
    };
}

fn org_not_found() -> ServiceError {
    DomainError::new(ErrorCode::NotFound, "organisation not found").into()
}

pub(crate) fn mfa_required() -> ServiceError {
    DomainError::new(
        ErrorCode::MfaEnrolmentRequired,
        "set up two-step verification (an authenticator app) before using admin functions",
    )
    .into()
}

impl Principal {
    /// The audit actor for this caller.
    pub fn actor(&self, source_ip: Option<String>, request_id: Option<String>) -> Actor {
        let id = match &self.credential {
            Credential::Session { .. } => format!("user:{}", self.account_id),
            Credential::ApiToken { id, .. } => format!("user:{} token:{id}", self.account_id),
        };
        Actor {
            id,
            source_ip,
            request_id,
        }
    }

    /// The session, when the caller used one.
    pub fn session(&self) -> Option<&SessionRecord> {
        match &self.credential {
            Credential::Session { record, .. } => Some(record),
            Credential::ApiToken { .. } => None,
        }
    }

    /// Platform operator with MFA, through a session (API tokens never act as operators).
    pub fn require_operator(&self) -> Result<(), ServiceError> {
        if !self.is_operator || self.session().is_none() {
            return Err(DomainError::new(
                ErrorCode::Forbidden,
                "only the platform operator may do this",
            )
            .into());
        }
        if !self.mfa_enrolled {
            return Err(mfa_required());
        }
        Ok(())
    }

    /// The caller signed in (or re-authenticated) within the step-up window.
    pub fn require_step_up(&self, now_ms: i64) -> Result<(), ServiceError> {
        match self.session() {
            Some(s) if now_ms - s.authenticated_at_ms <= STEP_UP_WINDOW_MS => Ok(()),
            _ => Err(DomainError::new(
                ErrorCode::StepUpRequired,
                "confirm your password (and code) again to do this",
            )
            .into()),
        }
    }

    /// The caller's active membership of `org`, if it allows `need`: 404 when the caller is not
    /// an active member (a guest past their end counts as not active; or the API token belongs
    /// to another organisation), 403 when the role or token scope is too low,
    /// `mfa_enrolment_required` for admin work without MFA.
    pub async fn require_member(
        &self,
        tx: &mut Tx,
        org: OrgId,
        need: Need,
    ) -> Result<Membership, ServiceError> {
        if let Credential::ApiToken {
            org: token_org,
            scope,
            ..
        } = &self.credential
        {
            if *token_org != org {
                return Err(org_not_found());
            }
            if need.write && *scope != ApiScope::Write {
                return Err(
                    DomainError::new(ErrorCode::Forbidden, "this API token is read-only").into(),
                );
            }
        }
        let membership = tx
            .membership(org, self.account_id)
            .await?
            .filter(|m| m.is_active_at(self.at_ms))
            .ok_or_else(org_not_found)?;
        if membership.role < need.role {
            return Err(DomainError::new(
                ErrorCode::Forbidden,
                "your role in this organisation does not allow this",
            )
            .into());
        }
        if need.role.is_admin() && !self.mfa_enrolled {
            return Err(mfa_required());
        }
        Ok(membership)
    }
}

/// The text of an API token: `lkt_<org id, 32 hex>_<secret>` — the organisation travels in the
/// token so its lookup can enter that tenant (row-level security) before it knows anything else.
pub fn api_token_text(org: OrgId, secret: &str) -> String {
    format!("{API_TOKEN_PREFIX}{}_{secret}", org.uuid().simple())
}

/// Parses `lkt_<org id, 32 hex>_<secret>` into the organisation and the secret.
pub fn parse_api_token(text: &str) -> Option<(OrgId, &str)> {
    let rest = text.strip_prefix(API_TOKEN_PREFIX)?;
    let (org, secret) = rest.split_once('_')?;
    if org.len() != 32 || !looks_like_token(secret) {
        return None;
    }
    Some((org.parse().ok()?, secret))
}

impl App {
    /// The organisations where the caller is an active member, with their role, by name.
    pub async fn my_organisations(
        &self,
        principal: &Principal,
    ) -> Result<Vec<(Organisation, Role)>, ServiceError> {
        let mut tx = self.store.read().await?;
        let mut found = Vec::new();
        for org_id in tx.organisations_of(principal.account_id).await? {
            if let (Some(m), Some(org)) = (
                tx.membership(org_id, principal.account_id).await?,
                tx.organisation(org_id).await?,
            ) && m.is_active_at(self.clock.now_ms())
            {
                found.push((org, m.role));
            }
        }
        found.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        Ok(found)
    }

    /// The caller behind a session cookie value: `None` if the session is unknown or expired, or
    /// its account is no longer active. Restarts the idle timer.
    pub async fn principal_from_session(
        &self,
        token: &str,
    ) -> Result<Option<Principal>, ServiceError> {
        if !looks_like_token(token) {
            return Ok(None);
        }
        let digest = self
            .store
            .keyring()
            .token_digest(SESSION_PURPOSE, token.as_bytes());
        let mut tx = self.store.write().await?;
        let Some(record) = tx.touch_session(&digest, self.clock.now_ms()).await? else {
            tx.commit().await?;
            return Ok(None);
        };
        let account = tx.account(record.account_id).await?;
        tx.commit().await?;
        Ok(account
            .filter(|a| a.status == AccountStatus::Active)
            .map(|a| Principal {
                account_id: a.id,
                email: a.email,
                name: a.name,
                is_operator: a.is_operator,
                mfa_enrolled: a.totp_secret.is_some(),
                credential: Credential::Session { digest, record },
                at_ms: self.clock.now_ms(),
            }))
    }

    /// The caller behind an `Authorization: Bearer` API token: `None` if unknown, expired,
    /// revoked, or its account or membership is no longer active.
    pub async fn principal_from_api_token(
        &self,
        bearer: &str,
    ) -> Result<Option<Principal>, ServiceError> {
        let Some((org, secret)) = parse_api_token(bearer) else {
            return Ok(None);
        };
        let digest = self
            .store
            .keyring()
            .token_digest(API_TOKEN_PURPOSE, secret.as_bytes());
        let now_ms = self.clock.now_ms();
        let mut tx = self.store.write().await?;
        let Some(token) = tx
            .api_token_by_digest(org, &digest)
            .await?
            .filter(|t| t.is_live(now_ms))
        else {
            return Ok(None);
        };
        let Some(account) = tx
            .account(token.account_id)
            .await?
            .filter(|a| a.status == AccountStatus::Active)
        else {
            return Ok(None);
        };
        tx.touch_api_token(org, &token.id, now_ms).await?;
        tx.commit().await?;
        Ok(Some(Principal {
            account_id: account.id,
            email: account.email,
            name: account.name,
            is_operator: account.is_operator,
            mfa_enrolled: account.totp_secret.is_some(),
            credential: Credential::ApiToken {
                org,
                id: token.id,
                scope: token.scope,
            },
            at_ms: now_ms,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::tokens::new_token;

    #[test]
    fn api_tokens_parse_only_in_their_exact_shape() {
        let org = OrgId::generate();
        let secret = new_token();
        let text = api_token_text(org, &secret);
        assert_eq!(parse_api_token(&text), Some((org, secret.as_str())));
        assert_eq!(parse_api_token(&text[1..]), None);
        assert_eq!(parse_api_token(&format!("{text}x")), None);
        assert_eq!(parse_api_token("lkt_"), None);
        assert_eq!(parse_api_token("lkt_zz_zz"), None);
    }
}
