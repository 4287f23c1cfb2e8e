//! Search across the directory: a case-insensitive substring of names and/or an exact label,
//! over the objects the caller reaches (org admins: sites, spaces, people, groups, devices and
//! device groups; space managers: their sites, spaces and devices; device owners: their devices).
//!
//! People's names are sealed, so a search that includes people decrypts every membership's
//! account (as the people list does). At directory sizes (thousands of people) that is a few
//! milliseconds; a tenant with hundreds of thousands of people would need a blind-indexed token
//! search instead.

use latchkey_domain::directory::{DirectoryScope, SpaceTree, parse_label};
use latchkey_domain::identity::MembershipStatus;
use latchkey_domain::{DomainError, OrgId};
use latchkey_store::repo::{
    AccountRepo, DeviceGroupRepo, DeviceRegistryRepo, GroupRepo, InvitationRepo, MemberProfileRepo,
    MembershipRepo, SiteRepo, SpaceRepo,
};

use super::scope::directory_scope;
use crate::app::{App, ServiceError};
use crate::identity::principal::Principal;

/// Longest search text, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most hits returned.
pub const MAX_HITS: usize = 200;

/// One object found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    /// `site`, `space`, `person`, `group`, `device` or `device_group`.
    pub kind: &'static str,
    /// Its id.
    pub id: String,
    /// Its name (for a person: the display name override, else the account's name).
    pub name: String,
    /// Its labels.
    pub labels: Vec<String>,
}

struct Needle {
    text: Option<String>,
    label: Option<String>,
}

impl Needle {
    fn hits(&self, name: &str, labels: &[String]) -> bool {
        self.text
            .as_deref()
            .is_none_or(|t| name.to_lowercase().contains(t))
            && self.label.as_ref().is_none_or(|l| labels.contains(l))
    }
}

impl App {
    /// Finds directory objects by name substring and/or exact label, within the caller's reach.
    pub async fn search_directory(
        &self,
        principal: &Principal,
        org: OrgId,
        q: Option<&str>,
        label: Option<&str>,
    ) -> Result<Vec<SearchHit>, ServiceError> {
        let text = q.map(str::trim).filter(|t| !t.is_empty());
        if text.is_some_and(|t| t.chars().count() > MAX_QUERY_CHARS) {
            return Err(DomainError::invalid(
                "q",
                format!("q must be at most {MAX_QUERY_CHARS} characters"),
            )
            .into());
        }
        let label = label.map(|l| parse_label("label", l)).transpose()?;
        if text.is_none() && label.is_none() {
            return Err(DomainError::invalid("q", "give q (part of a name) or label").into());
        }
        let needle = Needle {
            text: text.map(str::to_lowercase),
            label,
        };
        let mut tx = self.store.read().await?;
        let scope = directory_scope(principal, &mut tx, org, false).await?;
        let spaces = tx.spaces(org).await?;
        let tree = SpaceTree::of(&spaces);
        let mut hits = Vec::new();
        let mut push = |kind, id: String, name: &str, labels: &[String]| {
            if needle.hits(name, labels) {
                hits.push(SearchHit {
                    kind,
                    id,
                    name: name.to_owned(),
                    labels: labels.to_vec(),
                });
            }
        };
        for site in tx.sites(org).await? {
            if scope.covers_site(&tree, site.id) {
                push("site", site.id.to_string(), &site.name, &site.labels);
            }
        }
        for space in &spaces {
            if scope.covers_space(&tree, space.id) {
                push("space", space.id.to_string(), &space.name, &space.labels);
            }
        }
        for device in tx.devices(org).await? {
            if scope.covers_device(&tree, device.id, device.space_id) {
                push(
                    "device",
                    device.id.to_string(),
                    &device.name,
                    &device.labels,
                );
            }
        }
        if matches!(scope, DirectoryScope::Everything) {
            for group in tx.groups(org).await? {
                push("group", group.id.to_string(), &group.name, &group.labels);
            }
            for group in tx.device_groups(org).await? {
                push(
                    "device_group",
                    group.id.to_string(),
                    &group.name,
                    &group.labels,
                );
            }
            let mut profiles = tx.member_profiles(org).await?;
            for m in tx.memberships(org).await? {
                let profile = profiles.remove(&m.account_id).unwrap_or_default();
                // While only invited, the name is the one the admin typed: the account may belong
                // to another organisation whose details are not this one's to see.
                let name = match profile.display_name {
                    Some(n) => n,
                    None if m.status == MembershipStatus::Invited => tx
                        .invited_name(org, m.account_id)
                        .await?
                        .unwrap_or_default(),
                    None => match tx.account(m.account_id).await? {
                        Some(a) => a.name,
                        None => continue,
                    },
                };
                push("person", m.account_id.to_string(), &name, &profile.labels);
            }
        }
        hits.sort_by(|a, b| (a.kind, a.name.to_lowercase()).cmp(&(b.kind, b.name.to_lowercase())));
        hits.truncate(MAX_HITS);
        Ok(hits)
    }
}
