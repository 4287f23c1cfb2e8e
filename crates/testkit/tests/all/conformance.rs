//! The store conformance suite: the same behaviour on SQLite and PostgreSQL.

use std::sync::Arc;

use latchkey_domain::audit::Outcome;
use latchkey_domain::tenancy::{Contract, NewOrganisation, OrgStatus, Organisation, Site};
use latchkey_domain::{ErrorCode, OrgId, Scope, SiteId};
use latchkey_server::{Actor, App, ServiceError};
use latchkey_store::repo::{AuditRepo, NewAuditEvent, OrganisationRepo, SiteRepo};
use latchkey_store::{MasterKey, OpenMode, Store, StoreError};
use latchkey_testkit::TestDb;

on_both_backends!(
    organisations_round_trip,
    contact_lookup_uses_the_blind_index,
    stale_version_is_refused,
    sites_are_scoped_to_their_tenant,
    concurrent_audit_appends_keep_one_gapless_chain,
    reopening_applies_no_migration_twice,
    newer_schema_is_refused_and_left_untouched,
    wrong_master_key_is_refused,
    verify_reports_a_healthy_database,
    suspended_organisation_refuses_changes,
);

fn new_org(name: &str) -> Organisation {
    Organisation {
        id: OrgId::generate(),
        name: name.into(),
        contract: Contract {
            seat_limit: 25,
            contact_email: format!("admin@{}.example", name.to_lowercase()),
        },
        status: OrgStatus::Active,
        created_at_ms: 1_000,
        version: 1,
    }
}

async fn insert(store: &Store, org: &Organisation) -> anyhow::Result<()> {
    let mut tx = store.write().await?;
    tx.insert_organisation(org).await?;
    tx.commit().await?;
    Ok(())
}

async fn organisations_round_trip(db: TestDb) -> anyhow::Result<()> {
    let store = db.open().await?;
    let a = new_org("Alpha");
    let b = new_org("Beta");
    insert(&store, &a).await?;
    insert(&store, &b).await?;
    let mut tx = store.read().await?;
    assert_eq!(tx.organisation(a.id).await?, Some(a.clone()));
    assert_eq!(tx.organisations().await?, vec![a.clone(), b.clone()]);
    assert_eq!(tx.organisation(OrgId::generate()).await?, None);
    drop(tx);
    // A second store on the same database (a restarted process) reads the sealed fields with
    // keys unwrapped from the database, not from the first store's cache.
    store.close().await;
    let reopened = db.open().await?;
    assert_eq!(reopened.read().await?.organisation(b.id).await?, Some(b));
    Ok(())
}

async fn contact_lookup_uses_the_blind_index(db: TestDb) -> anyhow::Result<()> {
    let store = db.open().await?;
    let a = new_org("Alpha");
    insert(&store, &a).await?;
    insert(&store, &new_org("Beta")).await?;
    let found = store
        .read()
        .await?
        .organisations_by_contact("ADMIN@alpha.example")
        .await?;
    assert_eq!(found, vec![a]);
    Ok(())
}

async fn stale_version_is_refused(db: TestDb) -> anyhow::Result<()> {
    let store = db.open().await?;
    let org = new_org("Alpha");
    insert(&store, &org).await?;
    let mut tx = store.write().await?;
    let suspended = Organisation {
        status: OrgStatus::Suspended,
        ..org.clone()
    };
    assert_eq!(tx.update_organisation_status(&suspended).await?, 2);
    let err = tx.update_organisation_status(&suspended).await.unwrap_err();
    match err {
        StoreError::Domain(d) => assert_eq!(d.code, ErrorCode::StaleVersion),
        other => panic!("expected a stale version, got {other}"),
    }
    Ok(())
}

async fn sites_are_scoped_to_their_tenant(db: TestDb) -> anyhow::Result<()> {
    let store = db.open().await?;
    let (a, b) = (new_org("Alpha"), new_org("Beta"));
    insert(&store, &a).await?;
    insert(&store, &b).await?;
    let site = Site {
        id: SiteId::generate(),
        org_id: a.id,
        name: "HQ".into(),
        time_zone: "Asia/Tokyo".into(),
        address: Some("1-1 Chiyoda".into()),
        labels: vec!["hq".into()],
        created_at_ms: 5,
        version: 1,
    };
    let mut tx = store.write().await?;
    tx.insert_site(a.id, &site).await?;
    tx.commit().await?;
    let mut tx = store.read().await?;
    assert_eq!(tx.site(a.id, site.id).await?, Some(site.clone()));
    assert_eq!(
        tx.site(b.id, site.id).await?,
        None,
        "another tenant's site must be invisible"
    );
    assert_eq!(tx.sites(b.id).await?, vec![]);
    assert_eq!(tx.sites(a.id).await?, vec![site]);
    Ok(())
}

fn event(n: usize) -> NewAuditEvent {
    NewAuditEvent {
        at_ms: 1_000 + n as i64,
        actor: "system".into(),
        action: "test_event".into(),
        target: format!("n:{n}"),
        outcome: Outcome::Success,
        source_ip: Some("127.0.0.1".into()),
        request_id: None,
        details: serde_json::json!({ "n": n }),
    }
}

async fn concurrent_audit_appends_keep_one_gapless_chain(db: TestDb) -> anyhow::Result<()> {
    let store = db.open().await?;
    let org = new_org("Alpha");
    insert(&store, &org).await?;
    let chain = Scope::Tenant(org.id);
    let mut tasks = Vec::new();
    for n in 0..20 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = store.write().await?;
            tx.append_audit(chain, event(n)).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let records = store.read().await?.audit_events(chain, 0, 100).await?;
    let seqs: Vec<i64> = records.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
    let verdict = store.verify_audit_chain(chain).await?;
    assert_eq!(verdict.first_bad, None);
    assert_eq!(verdict.events, 20);
    // The platform chain is separate and still empty.
    assert_eq!(store.verify_audit_chain(Scope::Platform).await?.events, 0);
    Ok(())
}

async fn reopening_applies_no_migration_twice(db: TestDb) -> anyhow::Result<()> {
    let first = Store::open(&db.url, &db.master, &db.clock, OpenMode::Migrate).await?;
    assert_eq!(first.applied.len(), latchkey_store::known_versions().len());
    first.store.close().await;
    let second = Store::open(&db.url, &db.master, &db.clock, OpenMode::Migrate).await?;
    assert!(second.applied.is_empty());
    second.store.ready().await?;
    Ok(())
}

async fn newer_schema_is_refused_and_left_untouched(db: TestDb) -> anyhow::Result<()> {
    db.open().await?.close().await;
    db.raw_execute(
        None,
        &["INSERT INTO schema_migrations (version, name, checksum, applied_at_ms) VALUES (999, 'future', 'x', 0)"],
    )
    .await?;
    let err = Store::open(&db.url, &db.master, &db.clock, OpenMode::Migrate)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::SchemaTooNew { found: 999, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("newer Latchkey"));
    let versions = db
        .raw_texts(
            None,
            "SELECT CAST(version AS TEXT) FROM schema_migrations ORDER BY version",
        )
        .await?;
    let mut expected: Vec<String> = latchkey_store::known_versions()
        .iter()
        .map(|v| v.to_string())
        .collect();
    expected.push("999".into());
    assert_eq!(versions, expected, "nothing was applied or removed");
    Ok(())
}

async fn wrong_master_key_is_refused(db: TestDb) -> anyhow::Result<()> {
    let store = db.open().await?;
    insert(&store, &new_org("Alpha")).await?;
    store.close().await;
    let err = Store::open(
        &db.url,
        &MasterKey::generate(),
        &db.clock,
        OpenMode::Migrate,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::MasterKeyMismatch), "{err}");
    Ok(())
}

async fn verify_reports_a_healthy_database(db: TestDb) -> anyhow::Result<()> {
    let store = db.open().await?;
    insert(&store, &new_org("Alpha")).await?;
    let report = store.verify().await?;
    assert_eq!(report.problems, Vec::<String>::new());
    assert_eq!(report.schema_version, latchkey_store::latest_version());
    Ok(())
}

async fn suspended_organisation_refuses_changes(db: TestDb) -> anyhow::Result<()> {
    let app = App::new(db.open().await?, Arc::new(db.clock.clone()));
    let actor = Actor::operator_cli();
    let org = app
        .create_organisation(
            &actor,
            NewOrganisation::parse("Acme", "ops@acme.example", 10)?,
        )
        .await?;
    app.suspend_organisation(&actor, org.id).await?;
    let err = app
        .create_site(&actor, org.id, "HQ", "Europe/Berlin")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ServiceError::Domain(d) if d.code == ErrorCode::TenantInactive),
        "{err}"
    );
    app.resume_organisation(&actor, org.id).await?;
    let site = app
        .create_site(&actor, org.id, "HQ", "Europe/Berlin")
        .await?;
    assert_eq!(app.list_sites(org.id).await?, vec![site]);
    // Three platform events (created, suspended, resumed) and one tenant event, all verifiable.
    let platform = app.store.verify_audit_chain(Scope::Platform).await?;
    assert_eq!((platform.events, platform.first_bad), (3, None));
    let tenant = app.store.verify_audit_chain(Scope::Tenant(org.id)).await?;
    assert_eq!((tenant.events, tenant.first_bad), (1, None));
    Ok(())
}

/// PostgreSQL only: every table with a tenant_id has forced row-level security, and the check
/// that says so can fail.
#[tokio::test]
async fn postgres_tenant_tables_have_forced_row_level_security() -> anyhow::Result<()> {
    let Some(db) = TestDb::postgres().await? else {
        return Ok(());
    };
    let store = db.open().await?;
    assert_eq!(store.verify().await?.problems, Vec::<String>::new());
    db.raw_execute(
        None,
        &["CREATE TABLE sneaky (tenant_id TEXT NOT NULL, secret TEXT)"],
    )
    .await?;
    let problems = store.verify().await?.problems;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("sneaky"), "{problems:?}");
    Ok(())
}

/// PostgreSQL only: even a query that forgets the tenant filter sees only the tenant set for the
/// transaction, and nothing when none is set.
#[tokio::test]
async fn postgres_row_level_security_hides_other_tenants_rows() -> anyhow::Result<()> {
    let Some(db) = TestDb::postgres().await? else {
        return Ok(());
    };
    let app = App::new(db.open().await?, Arc::new(db.clock.clone()));
    let actor = Actor::operator_cli();
    let a = app
        .create_organisation(
            &actor,
            NewOrganisation::parse("Alpha", "a@alpha.example", 5)?,
        )
        .await?;
    let b = app
        .create_organisation(&actor, NewOrganisation::parse("Beta", "b@beta.example", 5)?)
        .await?;
    app.create_site(&actor, a.id, "Alpha HQ", "Asia/Tokyo")
        .await?;
    app.create_site(&actor, b.id, "Beta HQ", "Asia/Tokyo")
        .await?;
    let unscoped = "SELECT name FROM sites ORDER BY name";
    assert_eq!(
        db.raw_texts(Some(&a.id.to_string()), unscoped).await?,
        vec!["Alpha HQ"]
    );
    assert_eq!(
        db.raw_texts(Some(&b.id.to_string()), unscoped).await?,
        vec!["Beta HQ"]
    );
    assert_eq!(db.raw_texts(None, unscoped).await?, Vec::<String>::new());
    Ok(())
}
