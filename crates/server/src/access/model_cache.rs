//! Each organisation's access decision model, cached per process and reloaded when the
//! organisation's access version moved.
//!
//! Triggers on every table the model reads bump the version in the same transaction as the
//! change (migration 0008), so a command cannot forget to, and every node of a cluster sees the
//! change on its next request: the check is one indexed read in the request's own transaction,
//! and the snapshot is read in that same transaction, so version and model always agree.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use latchkey_domain::access::{AccessModel, AccessModelBuilder, Subject, Target};
use latchkey_domain::{DomainError, ErrorCode, OrgId};
use latchkey_store::Tx;
use latchkey_store::repo::{AccessSnapshot, GrantRepo};

use crate::app::{App, ServiceError};

/// The cache: organisation → (access version, model).
#[derive(Default)]
pub struct AccessModels {
    models: Mutex<HashMap<OrgId, (i64, Arc<AccessModel>)>>,
}

impl std::fmt::Debug for AccessModels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cached = self.models.lock().map_or(0, |m| m.len());
        f.debug_struct("AccessModels")
            .field("organisations", &cached)
            .finish()
    }
}

impl AccessModels {
    fn cached(&self, org: OrgId, version: i64) -> Option<Arc<AccessModel>> {
        let models = self.models.lock().unwrap_or_else(|p| p.into_inner());
        models
            .get(&org)
            .filter(|(v, _)| *v == version)
            .map(|(_, model)| model.clone())
    }

    fn keep(&self, org: OrgId, version: i64, model: Arc<AccessModel>) {
        let mut models = self.models.lock().unwrap_or_else(|p| p.into_inner());
        // Two requests may load different versions at once; the newer one stays.
        if models.get(&org).is_none_or(|(v, _)| *v <= version) {
            models.insert(org, (version, model));
        }
    }
}

impl App {
    /// The organisation's access model as of `tx`'s snapshot.
    pub(crate) async fn access_model(
        &self,
        tx: &mut Tx,
        org: OrgId,
    ) -> Result<Arc<AccessModel>, ServiceError> {
        let version = tx.access_version(org).await?;
        if let Some(model) = self.access_models.cached(org, version) {
            return Ok(model);
        }
        let snapshot = tx.access_snapshot(org).await?;
        let model = Arc::new(build_model(org, snapshot)?);
        self.access_models.keep(org, version, model.clone());
        Ok(model)
    }
}

/// Builds the model, leaving out grants whose subject or target no longer exists (a deleted
/// group, space, lock or member) and, transitively, grants derived from those: they allow
/// nothing either way, and one dangling row must not take every decision of the organisation
/// down with it.
fn build_model(org: OrgId, snapshot: AccessSnapshot) -> Result<AccessModel, ServiceError> {
    let people: HashSet<_> = snapshot.people.iter().map(|p| p.id).collect();
    let groups: HashSet<_> = snapshot.groups.iter().map(|(g, _)| *g).collect();
    let spaces: HashSet<_> = snapshot.spaces.iter().map(|s| s.id).collect();
    let locks: HashSet<_> = snapshot.locks.iter().map(|l| l.id).collect();
    let device_groups: HashSet<_> = snapshot.device_groups.iter().copied().collect();
    let mut kept: HashSet<_> = HashSet::new();
    let mut grants = Vec::with_capacity(snapshot.grants.len());
    // Grants arrive ordered by id (UUIDv7, time-ordered), so a parent comes before the grants
    // derived from it.
    for grant in snapshot.grants {
        let subject_exists = match grant.subject {
            Subject::Person(p) => people.contains(&p),
            Subject::Group(g) => groups.contains(&g),
        };
        let target_exists = match grant.target {
            Target::Lock(l) => locks.contains(&l),
            Target::Space(s) => spaces.contains(&s),
            Target::DeviceGroup(d) => device_groups.contains(&d),
        };
        let parent_kept = grant
            .delegation
            .is_none_or(|d| kept.contains(&d.parent) && people.contains(&d.shared_by));
        if subject_exists && target_exists && parent_kept {
            kept.insert(grant.id);
            grants.push(grant);
        }
    }
    // Group members who left the organisation are dropped from their groups for the same reason.
    let mut builder = AccessModelBuilder::new();
    builder.reserve_grants(grants.len());
    for person in snapshot.people {
        builder.person(person);
    }
    for (group, members) in snapshot.groups {
        builder.group(group);
        for member in members.into_iter().filter(|m| people.contains(m)) {
            builder.member(group, member);
        }
    }
    for site in snapshot.sites {
        builder.site(site);
    }
    for space in snapshot.spaces {
        builder.space(space);
    }
    for device_group in snapshot.device_groups {
        builder.device_group(device_group);
    }
    for mut lock in snapshot.locks {
        lock.device_groups.retain(|d| device_groups.contains(d));
        builder.lock(lock);
    }
    for grant in grants {
        builder.grant(grant);
    }
    builder.build().map_err(|e| {
        tracing::error!(org = %org, error = %e, "the organisation's access model does not build");
        DomainError::new(
            ErrorCode::Internal,
            format!("the organisation's access data is inconsistent ({e}); see the server log"),
        )
        .into()
    })
}
