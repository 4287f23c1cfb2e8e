//! Whom a grant may name: the organisation's members and groups, by name, for the people who
//! make grants. Space managers and device owners may grant access within their scope, so they
//! need to pick a person or a group; the directory's people and group pages stay for org admins
//! (they show e-mail addresses, profiles, memberships and scopes), and this is the minimum a
//! grant needs: ids, names and addresses of active or invited members, names of groups.

use latchkey_domain::identity::MembershipStatus;
use latchkey_domain::{AccountId, GroupId, OrgId};
use latchkey_store::repo::{AccountRepo, GroupRepo, MembershipRepo};

use crate::app::{App, ServiceError};
use crate::directory::scope::directory_scope;
use crate::identity::principal::Principal;

/// A person a grant may name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectPerson {
    /// Account id.
    pub id: AccountId,
    /// Name.
    pub name: String,
    /// E-mail address (to tell two people of the same name apart).
    pub email: String,
}

/// The people and groups a grant may name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectChoices {
    /// Active and invited members, by name.
    pub people: Vec<SubjectPerson>,
    /// Groups, by name.
    pub groups: Vec<(GroupId, String)>,
}

impl App {
    /// The people and groups the caller may name in a grant (org admins, space managers and
    /// device owners; 403 for members and guests, 404 outside the organisation).
    pub async fn grant_subject_choices(
        &self,
        principal: &Principal,
        org: OrgId,
    ) -> Result<SubjectChoices, ServiceError> {
        let mut tx = self.store.read().await?;
        directory_scope(principal, &mut tx, org, false).await?;
        let mut people = Vec::new();
        for membership in tx.memberships(org).await? {
            if membership.status == MembershipStatus::Disabled {
                continue;
            }
            if let Some(account) = tx.account(membership.account_id).await? {
                people.push(SubjectPerson {
                    id: account.id,
                    name: account.name,
                    email: account.email,
                });
            }
        }
        people.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        let mut groups: Vec<(GroupId, String)> = tx
            .groups(org)
            .await?
            .into_iter()
            .map(|g| (g.id, g.name))
            .collect();
        groups.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        Ok(SubjectChoices { people, groups })
    }
}
