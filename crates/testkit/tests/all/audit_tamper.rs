//! Tamper evidence of the audit log: an attacker with write access to the database modifies,
//! deletes, truncates or reorders entries; `verify_audit_chain` (behind `latchkey audit verify`)
//! names the first bad sequence number each time.

use std::sync::Arc;

use latchkey_domain::audit::Tamper;
use latchkey_domain::tenancy::NewOrganisation;
use latchkey_domain::{Clock as _, OrgId, Scope};
use latchkey_server::{Actor, App};
use latchkey_testkit::TestDb;

on_both_backends!(
    intact_chain_verifies,
    append_only_triggers_refuse_changes,
    modified_entry_is_reported,
    deleted_entry_is_reported,
    truncated_tail_is_reported,
    reordered_entries_are_reported,
    truncation_hidden_by_rewinding_the_head_is_caught_by_a_checkpoint,
    forged_checkpoint_signature_is_reported,
);

/// An organisation whose chain holds 5 events (site creations), with a checkpoint at seq 5.
async fn chain_of_five(db: &TestDb) -> anyhow::Result<(App, OrgId)> {
    let app = App::new(db.open().await?, Arc::new(db.clock.clone()));
    let actor = Actor::operator_cli();
    let org = app
        .create_organisation(
            &actor,
            NewOrganisation::parse("Acme", "ops@acme.example", 10)?,
        )
        .await?;
    for n in 0..5 {
        app.create_site(&actor, org.id, &format!("Site {n}"), "Asia/Tokyo")
            .await?;
    }
    app.store.checkpoint_all(db.clock.now_ms()).await?;
    Ok((app, org.id))
}

/// Runs the attacker's statements with the append-only triggers switched off, as someone with
/// the database owner's rights could.
async fn tamper(db: &TestDb, org: OrgId, statements: &[String]) -> anyhow::Result<()> {
    let mut all: Vec<String> = if db.pg_url.is_some() {
        vec!["ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_or_delete".into()]
    } else {
        vec![
            "DROP TRIGGER audit_events_no_update".into(),
            "DROP TRIGGER audit_events_no_delete".into(),
        ]
    };
    all.extend(statements.iter().cloned());
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    db.raw_execute(Some(&org.to_string()), &refs).await
}

async fn first_bad(app: &App, org: OrgId) -> anyhow::Result<Option<(i64, Tamper)>> {
    Ok(app
        .store
        .verify_audit_chain(Scope::Tenant(org))
        .await?
        .first_bad)
}

fn on(org: OrgId, sql: &str) -> String {
    sql.replace("{org}", &org.to_string())
}

async fn intact_chain_verifies(db: TestDb) -> anyhow::Result<()> {
    let (app, org) = chain_of_five(&db).await?;
    let verdict = app.store.verify_audit_chain(Scope::Tenant(org)).await?;
    assert_eq!((verdict.events, verdict.first_bad), (5, None));
    Ok(())
}

async fn append_only_triggers_refuse_changes(db: TestDb) -> anyhow::Result<()> {
    let (app, org) = chain_of_five(&db).await?;
    let update = on(
        org,
        "UPDATE audit_events SET actor = 'x' WHERE tenant_id = '{org}' AND seq = 1",
    );
    let delete = on(
        org,
        "DELETE FROM audit_events WHERE tenant_id = '{org}' AND seq = 1",
    );
    for sql in [update, delete] {
        let err = db
            .raw_execute(Some(&org.to_string()), &[&sql])
            .await
            .unwrap_err();
        assert!(format!("{err:#}").contains("append-only"), "{err:#}");
    }
    assert_eq!(first_bad(&app, org).await?, None);
    Ok(())
}

async fn modified_entry_is_reported(db: TestDb) -> anyhow::Result<()> {
    let (app, org) = chain_of_five(&db).await?;
    tamper(
        &db,
        org,
        &[on(
            org,
            "UPDATE audit_events SET outcome = 'failure' WHERE tenant_id = '{org}' AND seq = 3",
        )],
    )
    .await?;
    assert_eq!(
        first_bad(&app, org).await?,
        Some((3, Tamper::ContentModified))
    );
    Ok(())
}

async fn deleted_entry_is_reported(db: TestDb) -> anyhow::Result<()> {
    let (app, org) = chain_of_five(&db).await?;
    tamper(
        &db,
        org,
        &[on(
            org,
            "DELETE FROM audit_events WHERE tenant_id = '{org}' AND seq = 3",
        )],
    )
    .await?;
    assert_eq!(first_bad(&app, org).await?, Some((3, Tamper::Missing)));
    Ok(())
}

async fn truncated_tail_is_reported(db: TestDb) -> anyhow::Result<()> {
    let (app, org) = chain_of_five(&db).await?;
    tamper(
        &db,
        org,
        &[on(
            org,
            "DELETE FROM audit_events WHERE tenant_id = '{org}' AND seq >= 4",
        )],
    )
    .await?;
    assert_eq!(first_bad(&app, org).await?, Some((4, Tamper::Truncated)));
    Ok(())
}

async fn reordered_entries_are_reported(db: TestDb) -> anyhow::Result<()> {
    let (app, org) = chain_of_five(&db).await?;
    tamper(
        &db,
        org,
        &[
            on(
                org,
                "UPDATE audit_events SET seq = -2 WHERE tenant_id = '{org}' AND seq = 2",
            ),
            on(
                org,
                "UPDATE audit_events SET seq = 2 WHERE tenant_id = '{org}' AND seq = 3",
            ),
            on(
                org,
                "UPDATE audit_events SET seq = 3 WHERE tenant_id = '{org}' AND seq = -2",
            ),
        ],
    )
    .await?;
    let bad = first_bad(&app, org)
        .await?
        .expect("reordering must be detected");
    assert_eq!(bad.0, 2, "{bad:?}");
    Ok(())
}

async fn truncation_hidden_by_rewinding_the_head_is_caught_by_a_checkpoint(
    db: TestDb,
) -> anyhow::Result<()> {
    let (app, org) = chain_of_five(&db).await?;
    tamper(
        &db,
        org,
        &[
            on(
                org,
                "DELETE FROM audit_events WHERE tenant_id = '{org}' AND seq >= 4",
            ),
            on(
                org,
                "UPDATE audit_heads SET seq = 3, hash = (SELECT hash FROM audit_events \
                 WHERE tenant_id = '{org}' AND seq = 3) WHERE tenant_id = '{org}'",
            ),
        ],
    )
    .await?;
    assert_eq!(first_bad(&app, org).await?, Some((4, Tamper::Truncated)));
    Ok(())
}

async fn forged_checkpoint_signature_is_reported(db: TestDb) -> anyhow::Result<()> {
    let (app, org) = chain_of_five(&db).await?;
    let zeros = if db.pg_url.is_some() {
        "decode(repeat('00', 64), 'hex')"
    } else {
        "zeroblob(64)"
    };
    tamper(
        &db,
        org,
        &[on(
            org,
            &format!(
                "UPDATE audit_checkpoints SET signature = {zeros} WHERE tenant_id = '{{org}}'"
            ),
        )],
    )
    .await?;
    assert_eq!(
        first_bad(&app, org).await?,
        Some((5, Tamper::BadCheckpointSignature))
    );
    Ok(())
}
