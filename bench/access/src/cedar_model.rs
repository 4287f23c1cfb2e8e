//! The same organisation in Cedar, modelled idiomatically (performance.md P5): grants are entity
//! relations, not one policy per grant. For every (target, schedule template) pair that some grant
//! uses there is an `Access` entity; a person or group holding such a grant is a child of it
//! (`principal in Access::"…"`). Each lock carries, per template, the set of access entities that
//! reach it (its own, those of its space and every ancestor space, those of its device groups).
//! Nine policies: one `permit` per template (schedule condition on the context + `principal in
//! resource.aK`) and one `forbid` for disabled accounts, disabled locks and expired guests.
//!
//! Cedar has no time zones, so the caller computes the lock's site-local weekday and minute with
//! jiff and passes them in the context — inside the measured loop, as a real deployment would.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityId, EntityTypeName, EntityUid,
    PolicySet, Request, RestrictedExpression,
};
use jiff::tz::TimeZone;

use crate::org::{Org, Sample, Subj, TEMPLATES, Tgt, y2026, y2026_mid, y2027};

pub struct CedarOrg {
    entities: Entities,
    policies: PolicySet,
    authorizer: Authorizer,
    action: EntityUid,
    person_uids: Vec<EntityUid>,
    lock_uids: Vec<EntityUid>,
    lock_tz: Vec<TimeZone>,
    pub access_entities: usize,
    pub policy_count: usize,
}

fn uid(kind: &str, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(
        EntityTypeName::from_str(kind).unwrap_or_else(|e| panic!("{kind}: {e}")),
        EntityId::new(id),
    )
}

fn target_key(target: Tgt) -> String {
    match target {
        Tgt::Lock(l) => format!("L{l}"),
        Tgt::Space(s) => format!("S{s}"),
        Tgt::DeviceGroup(d) => format!("D{d}"),
    }
}

fn access_uid(target: Tgt, template: usize) -> EntityUid {
    uid("Access", &format!("{}#{template}", target_key(target)))
}

/// One policy per template; must match `org::template_schedule` exactly.
fn policies_text() -> String {
    let office = "context.wd < 5 && 480 <= context.min && context.min < 1140";
    let conditions = [
        "true".to_owned(),
        office.to_owned(),
        "context.wd < 5 && 360 <= context.min && context.min < 720".to_owned(),
        "((context.wd < 5 && 1320 <= context.min) || (context.ywd < 5 && context.min < 360))"
            .to_owned(),
        "context.wd >= 5 && 540 <= context.min && context.min < 1020".to_owned(),
        format!("{} <= context.now && context.now < {}", y2026(), y2027()),
        format!("context.now < {} && {office}", y2026_mid()),
        format!("{} <= context.now && {office}", y2027()),
    ];
    let mut text = String::new();
    for (k, condition) in conditions.iter().enumerate() {
        text.push_str(&format!(
            "@id(\"template{k}\")\npermit(principal, action == Action::\"unlock\", resource)\nwhen {{ {condition} && principal in resource.a{k} }};\n"
        ));
    }
    text.push_str(
        "@id(\"inactive\")\nforbid(principal, action, resource)\nunless { principal.enabled && resource.enabled && context.now < principal.expires };\n",
    );
    text
}

impl CedarOrg {
    pub fn build(org: &Org) -> CedarOrg {
        // Access entities and who is in them.
        let mut person_parents: Vec<HashSet<EntityUid>> = vec![HashSet::new(); org.people.len()];
        let mut group_parents: Vec<HashSet<EntityUid>> = vec![HashSet::new(); org.groups.len()];
        let mut access: HashSet<(Tgt, usize)> = HashSet::new();
        for grant in &org.grants {
            let access_uid = access_uid(grant.target, grant.template);
            access.insert((grant.target, grant.template));
            match grant.subject {
                Subj::Person(p) => person_parents[p].insert(access_uid),
                Subj::Group(g) => group_parents[g].insert(access_uid),
            };
        }
        println!("  cedar: {} access entities", access.len());
        // Per lock and template: the access entities that reach it.
        let mut lock_access: Vec<Vec<Vec<EntityUid>>> =
            vec![vec![Vec::new(); TEMPLATES]; org.locks.len()];
        for (target, template) in &access {
            for l in org.locks_of(*target) {
                lock_access[*l][*template].push(access_uid(*target, *template));
            }
        }
        let mut entities: Vec<Entity> = Vec::with_capacity(
            org.people.len() + org.groups.len() + access.len() + org.locks.len(),
        );
        for (target, template) in &access {
            entities.push(Entity::new_no_attrs(
                access_uid(*target, *template),
                HashSet::new(),
            ));
        }
        let group_uids: Vec<EntityUid> = (0..org.groups.len())
            .map(|g| uid("Group", &format!("G{g}")))
            .collect();
        for (g, parents) in group_parents.into_iter().enumerate() {
            entities.push(Entity::new_no_attrs(group_uids[g].clone(), parents));
        }
        let person_uids: Vec<EntityUid> = (0..org.people.len())
            .map(|p| uid("Person", &format!("P{p}")))
            .collect();
        for (p, mut parents) in person_parents.into_iter().enumerate() {
            let person = &org.people[p];
            parents.extend(person.groups.iter().map(|g| group_uids[*g].clone()));
            let attrs = HashMap::from([
                (
                    "enabled".to_owned(),
                    RestrictedExpression::new_bool(person.enabled),
                ),
                (
                    "expires".to_owned(),
                    RestrictedExpression::new_long(person.expires_at_ms.unwrap_or(i64::MAX)),
                ),
            ]);
            entities.push(
                Entity::new(person_uids[p].clone(), attrs, parents)
                    .unwrap_or_else(|e| panic!("{e}")),
            );
        }
        println!("  cedar: people and groups");
        let lock_uids: Vec<EntityUid> = (0..org.locks.len())
            .map(|l| uid("Lock", &format!("L{l}")))
            .collect();
        for (l, per_template) in lock_access.into_iter().enumerate() {
            let mut attrs = HashMap::from([(
                "enabled".to_owned(),
                RestrictedExpression::new_bool(org.locks[l].enabled),
            )]);
            for (k, uids) in per_template.into_iter().enumerate() {
                attrs.insert(
                    format!("a{k}"),
                    RestrictedExpression::new_set(
                        uids.into_iter().map(RestrictedExpression::new_entity_uid),
                    ),
                );
            }
            entities.push(
                Entity::new(lock_uids[l].clone(), attrs, HashSet::new())
                    .unwrap_or_else(|e| panic!("{e}")),
            );
        }
        println!("  cedar: locks; computing the entity store (transitive closure) ...");
        let access_entities = access.len();
        drop(access);
        let entities = Entities::from_entities(entities, None)
            .unwrap_or_else(|e| panic!("cedar entities: {e}"));
        let policies =
            PolicySet::from_str(&policies_text()).unwrap_or_else(|e| panic!("cedar policies: {e}"));
        let policy_count = policies.policies().count();
        CedarOrg {
            entities,
            policies,
            authorizer: Authorizer::new(),
            action: uid("Action", "unlock"),
            person_uids,
            lock_uids,
            lock_tz: (0..org.locks.len())
                .map(|l| org.lock_time_zone(l))
                .collect(),
            access_entities,
            policy_count,
        }
    }

    pub fn decide(&self, _org: &Org, sample: &Sample) -> bool {
        let local = jiff::Timestamp::from_millisecond(sample.at_ms)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned(self.lock_tz[sample.lock].clone());
        let wd = i64::from(local.weekday().to_monday_zero_offset());
        let minute = i64::from(local.hour()) * 60 + i64::from(local.minute());
        let context = Context::from_pairs([
            (
                "now".to_owned(),
                RestrictedExpression::new_long(sample.at_ms),
            ),
            ("wd".to_owned(), RestrictedExpression::new_long(wd)),
            (
                "ywd".to_owned(),
                RestrictedExpression::new_long((wd + 6) % 7),
            ),
            ("min".to_owned(), RestrictedExpression::new_long(minute)),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let request = Request::new(
            self.person_uids[sample.person].clone(),
            self.action.clone(),
            self.lock_uids[sample.lock].clone(),
            context,
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        self.authorizer
            .is_authorized(&request, &self.policies, &self.entities)
            .decision()
            == Decision::Allow
    }
}
