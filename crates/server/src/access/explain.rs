//! Explainable access: "who can open door D at T, and why", "what can person P open, and why",
//! one decision with its reasons, the exact UTC windows of a person on a lock, and the preview
//! of a removal. All read the organisation's cached decision model (reloaded when anything it
//! reads changed), so they answer what a lock would be told.
//!
//! Who may ask: org admins anything; space managers and device owners about the locks in their
//! scope (answers about a person are cut to those locks); members and guests about themselves.
//! Other people's access is not a member's business: 403. Locks and people outside the caller's
//! reach are 404.

use latchkey_domain::access::{
    AccessModel, Decision, Impact, Interval, LockAccess, PersonAccess, Removal, Target,
};
use latchkey_domain::directory::{DirectoryScope, SpaceTree};
use latchkey_domain::identity::Role;
use latchkey_domain::{AccountId, DeviceId, DomainError, OrgId};
use latchkey_store::Tx;
use latchkey_store::repo::{GrantRepo, MembershipRepo};

use crate::app::{App, ServiceError};
use crate::directory::scope::{directory_scope, role_refused, space_tree};
use crate::identity::principal::{Need, Principal};

/// Longest range `access_windows` answers for in one call: a year and a day, enough for any
/// credential and bounded work per request.
pub const MAX_WINDOW_RANGE_MS: i64 = 367 * 24 * 3_600_000;

/// What the caller may ask about.
enum Asker {
    /// Admin, manager or owner.
    Directory(DirectoryScope, SpaceTree),
    /// Member or guest: only about themselves.
    Person(AccountId),
}

impl Asker {
    fn covers_lock(&self, model: &AccessModel, lock: DeviceId) -> bool {
        match self {
            Asker::Directory(scope, tree) => {
                scope.covers_device(tree, lock, model.space_of_lock(lock))
            }
            Asker::Person(_) => false,
        }
    }
}

fn lock_not_found() -> ServiceError {
    DomainError::not_found("lock").into()
}

impl App {
    async fn asker(
        &self,
        principal: &Principal,
        tx: &mut Tx,
        org: OrgId,
    ) -> Result<Asker, ServiceError> {
        let membership = principal.require_member(tx, org, Need::MEMBER_READ).await?;
        if matches!(membership.role, Role::Member | Role::Guest) {
            return Ok(Asker::Person(principal.account_id));
        }
        let scope = directory_scope(principal, tx, org, false).await?;
        let tree = space_tree(tx, org).await?;
        Ok(Asker::Directory(scope, tree))
    }

    /// Checks the person is a member of the organisation the caller may ask about (404 if not a
    /// member, 403 for a member asking about someone else).
    async fn check_person(
        tx: &mut Tx,
        org: OrgId,
        asker: &Asker,
        person: AccountId,
    ) -> Result<(), ServiceError> {
        match asker {
            Asker::Person(me) if *me == person => Ok(()),
            Asker::Person(_) => Err(role_refused("seeing other people's access")),
            Asker::Directory(..) => {
                if tx.membership(org, person).await?.is_some() {
                    Ok(())
                } else {
                    Err(DomainError::not_found("person").into())
                }
            }
        }
    }

    /// Everyone who may open the lock at `at_ms`, with the grants that let them.
    pub async fn who_can_open(
        &self,
        principal: &Principal,
        org: OrgId,
        lock: DeviceId,
        at_ms: i64,
    ) -> Result<Vec<PersonAccess>, ServiceError> {
        let mut tx = self.store.read().await?;
        let asker = self.asker(principal, &mut tx, org).await?;
        if let Asker::Person(_) = asker {
            return Err(role_refused("seeing who can open a door"));
        }
        let model = self.access_model(&mut tx, org).await?;
        if !asker.covers_lock(&model, lock) {
            return Err(lock_not_found());
        }
        model
            .who_can_open(lock, at_ms)
            .map_err(|_| lock_not_found())
    }

    /// Every lock the person may open at `at_ms` (cut to the caller's scope), with the grants.
    pub async fn what_can_open(
        &self,
        principal: &Principal,
        org: OrgId,
        person: AccountId,
        at_ms: i64,
    ) -> Result<Vec<LockAccess>, ServiceError> {
        let mut tx = self.store.read().await?;
        let asker = self.asker(principal, &mut tx, org).await?;
        Self::check_person(&mut tx, org, &asker, person).await?;
        let model = self.access_model(&mut tx, org).await?;
        let mut locks = model
            .what_can_open(person, at_ms)
            .map_err(|_| DomainError::not_found("person"))?;
        // A manager or owner asking about someone else sees the locks in their scope; about
        // themselves, everything they can open.
        if let Asker::Directory(..) = asker
            && person != principal.account_id
        {
            locks.retain(|l| asker.covers_lock(&model, l.lock));
        }
        Ok(locks)
    }

    /// May the person open the lock at `at_ms`, and why (or why not).
    pub async fn decide(
        &self,
        principal: &Principal,
        org: OrgId,
        person: AccountId,
        lock: DeviceId,
        at_ms: i64,
    ) -> Result<Decision, ServiceError> {
        let (model, _) = self.model_for_pair(principal, org, person, lock).await?;
        Ok(model.decide(person, lock, at_ms))
    }

    /// The exact UTC intervals in `[from_ms, to_ms)` in which the person may open the lock —
    /// what an offline credential for the pair would carry.
    pub async fn access_windows(
        &self,
        principal: &Principal,
        org: OrgId,
        person: AccountId,
        lock: DeviceId,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<Interval>, ServiceError> {
        if to_ms <= from_ms {
            return Err(DomainError::invalid("to", "to must be after from").into());
        }
        if to_ms.saturating_sub(from_ms) > MAX_WINDOW_RANGE_MS {
            return Err(DomainError::invalid(
                "to",
                "ask for at most 367 days at a time (split longer ranges)",
            )
            .into());
        }
        let (model, _) = self.model_for_pair(principal, org, person, lock).await?;
        Ok(model
            .access_windows(person, lock, from_ms, to_ms)
            .map_err(DomainError::from)?)
    }

    /// The model, after checking the caller may ask about this person and lock: a person about
    /// themselves (any lock of the organisation), a directory role about locks in scope.
    async fn model_for_pair(
        &self,
        principal: &Principal,
        org: OrgId,
        person: AccountId,
        lock: DeviceId,
    ) -> Result<(std::sync::Arc<AccessModel>, Asker), ServiceError> {
        let mut tx = self.store.read().await?;
        let asker = self.asker(principal, &mut tx, org).await?;
        Self::check_person(&mut tx, org, &asker, person).await?;
        let model = self.access_model(&mut tx, org).await?;
        let lock_known = model.space_of_lock(lock).is_some();
        let reachable = match &asker {
            Asker::Person(_) => lock_known,
            Asker::Directory(..) => asker.covers_lock(&model, lock),
        };
        if !reachable {
            return Err(lock_not_found());
        }
        Ok((model, asker))
    }

    /// What would change at `at_ms` if the grant were revoked or the person left the group:
    /// the (person, lock) pairs that lose access and those another grant keeps open. Org admins
    /// for anything; managers and owners for grants whose target is in their scope.
    pub async fn preview_removal(
        &self,
        principal: &Principal,
        org: OrgId,
        removal: Removal,
        at_ms: i64,
    ) -> Result<Impact, ServiceError> {
        let mut tx = self.store.read().await?;
        let asker = self.asker(principal, &mut tx, org).await?;
        let Asker::Directory(scope, tree) = &asker else {
            return Err(role_refused("previewing changes to access"));
        };
        let model = self.access_model(&mut tx, org).await?;
        match removal {
            Removal::Grant { grant } => {
                let record = tx
                    .grant(org, grant)
                    .await?
                    .ok_or_else(|| DomainError::not_found("grant"))?;
                let in_scope = scope.is_everything()
                    || match record.spec.target {
                        Target::Lock(l) => scope.covers_device(tree, l, model.space_of_lock(l)),
                        Target::Space(s) => scope.covers_space(tree, s),
                        Target::DeviceGroup(_) => false,
                    };
                if !in_scope {
                    return Err(DomainError::not_found("grant").into());
                }
            }
            Removal::Membership { .. } => {
                if !scope.is_everything() {
                    return Err(role_refused("previewing group membership changes"));
                }
            }
        }
        let mut impact = model
            .what_changes_if(removal, at_ms)
            .map_err(DomainError::from)?;
        if !scope.is_everything() {
            impact.lose.retain(|p| asker.covers_lock(&model, p.lock));
            impact.keep.retain(|p| asker.covers_lock(&model, p.lock));
        }
        Ok(impact)
    }
}
