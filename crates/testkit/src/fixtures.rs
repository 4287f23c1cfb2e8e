//! People and organisations arranged directly through the services and the store, for tests
//! that need "an org admin of A with MFA" without walking through invitations each time.

use latchkey_domain::identity::totp::{totp_code, totp_step};
use latchkey_domain::identity::{MembershipStatus, Role};
use latchkey_domain::tenancy::NewOrganisation;
use latchkey_domain::{AccountId, OrgId};
use latchkey_server::identity::accounts::NewAccount;
use latchkey_server::{Actor, App};
use latchkey_store::repo::{AccountRepo, Membership, MembershipRepo};

/// The password every fixture account has.
pub const FIXTURE_PASSWORD: &str = "violet-harbour-lantern-7";

/// A fixture account.
#[derive(Debug, Clone)]
pub struct Person {
    /// Account id.
    pub id: AccountId,
    /// E-mail address.
    pub email: String,
    /// TOTP secret, when enrolled.
    pub totp_secret: Option<Vec<u8>>,
}

impl Person {
    /// The current TOTP code (for sign-in), if enrolled. Each code is accepted once: move the
    /// clock on by 30 s before asking for another.
    pub fn code(&self, app: &App) -> Option<String> {
        self.totp_secret
            .as_ref()
            .and_then(|s| totp_code(s, totp_step(app.clock.now_ms()), 6))
    }
}

/// Creates an organisation with the given seat limit.
pub async fn organisation(app: &App, name: &str, seats: i64) -> anyhow::Result<OrgId> {
    let org = app
        .create_organisation(
            &Actor::operator_cli(),
            NewOrganisation::parse(name, "contact@example.com", seats)?,
        )
        .await?;
    Ok(org.id)
}

/// Creates an active account (with TOTP enrolled when `mfa`).
pub async fn person(app: &App, email: &str, mfa: bool) -> anyhow::Result<Person> {
    let id = app
        .create_account(
            &Actor::operator_cli(),
            NewAccount {
                email,
                name: "Fixture Person",
                password: FIXTURE_PASSWORD,
                is_operator: false,
            },
        )
        .await?;
    let totp_secret = if mfa {
        Some(enrol_totp(app, id).await?)
    } else {
        None
    };
    Ok(Person {
        id,
        email: email.to_owned(),
        totp_secret,
    })
}

/// Sets a fresh TOTP secret on the account directly in the store; returns it.
pub async fn enrol_totp(app: &App, id: AccountId) -> anyhow::Result<Vec<u8>> {
    let secret: Vec<u8> = uuid::Uuid::now_v7()
        .as_bytes()
        .iter()
        .chain(uuid::Uuid::now_v7().as_bytes())
        .copied()
        .take(20)
        .collect();
    let mut tx = app.store.write().await?;
    let mut account = tx
        .account(id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no account {id}"))?;
    account.totp_secret = Some(secret.clone());
    tx.update_account(&account).await?;
    tx.commit().await?;
    Ok(secret)
}

/// Makes the account an active member of `org` with `role`.
pub async fn join(app: &App, org: OrgId, account: AccountId, role: Role) -> anyhow::Result<()> {
    let mut tx = app.store.write().await?;
    tx.insert_membership(&Membership {
        org_id: org,
        account_id: account,
        role,
        status: MembershipStatus::Active,
        created_at_ms: app.clock.now_ms(),
        version: 1,
        expires_at_ms: None,
    })
    .await?;
    tx.commit().await?;
    Ok(())
}

/// An organisation admin of `org` with MFA enrolled.
pub async fn admin_of(app: &App, org: OrgId, email: &str) -> anyhow::Result<Person> {
    let admin = person(app, email, true).await?;
    join(app, org, admin.id, Role::OrgAdmin).await?;
    Ok(admin)
}

/// A member of `org` without MFA.
pub async fn member_of(app: &App, org: OrgId, email: &str) -> anyhow::Result<Person> {
    let member = person(app, email, false).await?;
    join(app, org, member.id, Role::Member).await?;
    Ok(member)
}
