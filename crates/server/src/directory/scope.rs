//! The caller's reach in an organisation's directory, resolved once per command from their
//! membership and role scope (read in the command's own transaction, never cached, so a change
//! of role or scope takes effect on the next request). The coverage rules themselves live in
//! `latchkey_domain::directory::DirectoryScope`, shared with grants.

use latchkey_domain::directory::{DirectoryScope, SpaceTree};
use latchkey_domain::identity::Role;
use latchkey_domain::{DomainError, ErrorCode, OrgId};
use latchkey_store::Tx;
use latchkey_store::repo::{RoleScopeRepo, SpaceRepo};

use crate::app::{App, ServiceError};
use crate::identity::principal::{Need, Principal, mfa_required};

/// 403 for a caller in the organisation whose role does not allow the call.
pub(crate) fn role_refused(what: &str) -> ServiceError {
    DomainError::new(
        ErrorCode::Forbidden,
        format!("your role in this organisation does not allow {what}"),
    )
    .into()
}

/// The caller's directory scope in `org`: 404 when not an active member (an expired guest is
/// not), 403 for members and guests (nothing administrative), `mfa_enrolment_required` for org
/// admins and space managers without MFA, 403 for a read-only API token on a change.
///
/// For a change (`write`), the organisation's directory is locked first: every row the command
/// reads afterwards (the tree it checks a move against, the scope itself) is the latest
/// committed one, and no concurrent directory change can slip between check and write.
pub(crate) async fn directory_scope(
    principal: &Principal,
    tx: &mut Tx,
    org: OrgId,
    write: bool,
) -> Result<DirectoryScope, ServiceError> {
    let membership = principal
        .require_member(
            tx,
            org,
            Need {
                role: Role::Guest,
                write,
            },
        )
        .await?;
    if membership.role.needs_mfa() && !principal.mfa_enrolled {
        return Err(mfa_required());
    }
    if write && !matches!(membership.role, Role::Member | Role::Guest) {
        tx.lock_directory(org).await?;
    }
    Ok(match membership.role {
        Role::OrgAdmin => DirectoryScope::Everything,
        Role::SpaceManager => DirectoryScope::Spaces(
            tx.managed_spaces(org, principal.account_id)
                .await?
                .into_iter()
                .collect(),
        ),
        Role::DeviceOwner => DirectoryScope::Devices(
            tx.owned_devices(org, principal.account_id)
                .await?
                .into_iter()
                .collect(),
        ),
        Role::Member | Role::Guest => {
            return Err(role_refused("directory administration"));
        }
    })
}

/// Refuses anyone but an org admin (403).
pub(crate) fn require_everything(scope: &DirectoryScope, what: &str) -> Result<(), ServiceError> {
    if scope.is_everything() {
        Ok(())
    } else {
        Err(role_refused(what))
    }
}

/// The organisation's whole space tree, read in the command's transaction.
pub(crate) async fn space_tree(tx: &mut Tx, org: OrgId) -> Result<SpaceTree, ServiceError> {
    Ok(SpaceTree::of(&tx.spaces(org).await?))
}

impl App {
    /// The caller's directory scope in `org` (for the console and, later, grants): the same
    /// checks as every directory call.
    pub async fn my_directory_scope(
        &self,
        principal: &Principal,
        org: OrgId,
    ) -> Result<DirectoryScope, ServiceError> {
        let mut tx = self.store.read().await?;
        directory_scope(principal, &mut tx, org, false).await
    }
}
