//! Encryption at rest: a known PII value never appears in the raw database, and a sealed value
//! moved to another row, column or tenant fails to decrypt.

use std::sync::Arc;

use latchkey_domain::OrgId;
use latchkey_domain::tenancy::NewOrganisation;
use latchkey_server::{Actor, App};
use latchkey_store::StoreError;
use latchkey_store::repo::OrganisationRepo;
use latchkey_testkit::TestDb;

on_both_backends!(
    known_pii_never_appears_in_the_raw_database,
    ciphertext_moved_to_another_tenant_fails_to_decrypt,
    ciphertext_moved_to_another_column_fails_to_decrypt,
);

const NAME: &str = "Zebracorn Holdings";
const EMAIL: &str = "zebracorn-contact@unique.example";

async fn two_orgs(db: &TestDb) -> anyhow::Result<(App, OrgId, OrgId)> {
    let app = App::new(db.open().await?, Arc::new(db.clock.clone()));
    let actor = Actor::operator_cli();
    let a = app
        .create_organisation(&actor, NewOrganisation::parse(NAME, EMAIL, 10)?)
        .await?;
    let b = app
        .create_organisation(
            &actor,
            NewOrganisation::parse("Other", "other@other.example", 10)?,
        )
        .await?;
    Ok((app, a.id, b.id))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn known_pii_never_appears_in_the_raw_database(db: TestDb) -> anyhow::Result<()> {
    let (app, a, _) = two_orgs(&db).await?;
    // The service reads the plaintext back…
    assert_eq!(app.organisation(a).await?.name, NAME);
    let needles: [&[u8]; 3] = [b"Zebracorn", b"zebracorn-contact", b"unique.example"];
    match db.sqlite_file() {
        Some(file) => {
            app.store.close().await;
            // …but no byte sequence of it is in the database file or its WAL.
            let mut raw = std::fs::read(&file)?;
            let wal = file.with_extension("db-wal");
            if wal.exists() {
                raw.extend(std::fs::read(wal)?);
            }
            assert!(raw.len() > 4096, "read the real file");
            for needle in needles {
                assert!(
                    !contains(&raw, needle),
                    "{:?} found in the raw SQLite file",
                    String::from_utf8_lossy(needle)
                );
            }
        }
        None => {
            let tenant = a.to_string();
            let mut dump = Vec::new();
            for sql in [
                "SELECT row_to_json(o)::text FROM organisations o",
                "SELECT row_to_json(k)::text FROM tenant_keys k",
                "SELECT row_to_json(e)::text FROM audit_events e",
            ] {
                dump.extend(db.raw_texts(Some(&tenant), sql).await?);
            }
            let platform = uuid::Uuid::nil().to_string();
            dump.extend(
                db.raw_texts(
                    Some(&platform),
                    "SELECT row_to_json(e)::text FROM audit_events e",
                )
                .await?,
            );
            assert!(dump.len() >= 4, "read the real rows: {dump:?}");
            let text = dump.join("\n");
            for needle in needles {
                let plain = String::from_utf8_lossy(needle).to_string();
                let hex: String = needle.iter().map(|b| format!("{b:02x}")).collect();
                assert!(
                    !text.contains(&plain) && !text.contains(&hex),
                    "{plain} found in PostgreSQL rows"
                );
            }
        }
    }
    Ok(())
}

async fn ciphertext_moved_to_another_tenant_fails_to_decrypt(db: TestDb) -> anyhow::Result<()> {
    let (app, a, b) = two_orgs(&db).await?;
    db.raw_execute(
        None,
        &[&format!(
            "UPDATE organisations SET name_sealed = (SELECT name_sealed FROM organisations WHERE id = '{a}') WHERE id = '{b}'"
        )],
    )
    .await?;
    let err = app.store.read().await?.organisation(b).await.unwrap_err();
    assert!(matches!(err, StoreError::Unseal { .. }), "{err}");
    // The original row is untouched.
    assert_eq!(app.organisation(a).await?.name, NAME);
    Ok(())
}

async fn ciphertext_moved_to_another_column_fails_to_decrypt(db: TestDb) -> anyhow::Result<()> {
    let (app, a, _) = two_orgs(&db).await?;
    db.raw_execute(
        None,
        &[&format!(
            "UPDATE organisations SET contact_email_sealed = name_sealed WHERE id = '{a}'"
        )],
    )
    .await?;
    let err = app.store.read().await?.organisation(a).await.unwrap_err();
    assert!(matches!(err, StoreError::Unseal { .. }), "{err}");
    Ok(())
}
