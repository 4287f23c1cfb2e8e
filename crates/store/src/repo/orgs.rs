//! Organisations (tenants). The table is platform-level — each row *is* a tenant — so these
//! methods take the organisation's id rather than a separate tenant argument. Name and contact
//! e-mail are sealed with the organisation's own data key.

use std::future::Future;

use latchkey_domain::tenancy::{Contract, OrgStatus, Organisation};
use latchkey_domain::{DomainError, ErrorCode, OrgId, Scope};

use crate::db::{Store, Tx};
use crate::error::{Result, StoreError};
use crate::keyring::{Cell, TenantKeys};
use crate::sql::{Row, args};

const TABLE: &str = "organisations";

fn cell<'a>(column: &'a str, row_id: &'a str) -> Cell<'a> {
    Cell {
        table: TABLE,
        column,
        row_id,
    }
}

/// Organisation storage.
pub trait OrganisationRepo {
    /// Creates an organisation and its encryption keys.
    fn insert_organisation(
        &mut self,
        org: &Organisation,
    ) -> impl Future<Output = Result<()>> + Send;
    /// One organisation, or `None`.
    fn organisation(
        &mut self,
        id: OrgId,
    ) -> impl Future<Output = Result<Option<Organisation>>> + Send;
    /// All organisations, oldest first (platform operators).
    fn organisations(&mut self) -> impl Future<Output = Result<Vec<Organisation>>> + Send;
    /// Finds organisations whose contact e-mail is exactly `email` (via each tenant's blind index).
    fn organisations_by_contact(
        &mut self,
        email: &str,
    ) -> impl Future<Output = Result<Vec<Organisation>>> + Send;
    /// Saves a status change if the stored version is still `org.version`; returns the new version.
    fn update_organisation_status(
        &mut self,
        org: &Organisation,
    ) -> impl Future<Output = Result<i64>> + Send;
    /// Saves the contract (seat limit and contact e-mail) if the stored version is still
    /// `org.version`; returns the new version.
    fn update_organisation_contract(
        &mut self,
        org: &Organisation,
    ) -> impl Future<Output = Result<i64>> + Send;
}

const COLUMNS: &str = "id, name_sealed, contact_email_sealed, seat_limit, status, terminated_at_ms, \
                       created_at_ms, version";

fn open_text(keys: &TenantKeys, column: &str, id: &str, sealed: &[u8]) -> Result<String> {
    let plain = keys
        .open(cell(column, id), sealed)
        .ok_or_else(|| StoreError::Unseal {
            what: format!("{TABLE}.{column} of {id}"),
        })?;
    String::from_utf8(plain)
        .map_err(|_| StoreError::Corrupt(format!("{TABLE}.{column} of {id}: not UTF-8")))
}

impl Tx {
    async fn decode_organisation(&mut self, row: Row) -> Result<Organisation> {
        let id_text = row.text("id")?;
        let id: OrgId = id_text
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("organisation id {id_text:?}")))?;
        let keys = self.tenant_keys(id).await?;
        let status_name = row.text("status")?;
        let status = OrgStatus::from_stored(&status_name, row.opt_int("terminated_at_ms")?)
            .ok_or_else(|| StoreError::Corrupt(format!("organisation status {status_name:?}")))?;
        Ok(Organisation {
            id,
            name: open_text(&keys, "name_sealed", &id_text, &row.bytes("name_sealed")?)?,
            contract: Contract {
                seat_limit: row.int("seat_limit")?,
                contact_email: open_text(
                    &keys,
                    "contact_email_sealed",
                    &id_text,
                    &row.bytes("contact_email_sealed")?,
                )?,
            },
            status,
            created_at_ms: row.int("created_at_ms")?,
            version: row.int("version")?,
        })
    }
}

fn normalised_email(email: &str) -> String {
    email.trim().to_lowercase()
}

impl OrganisationRepo for Tx {
    async fn insert_organisation(&mut self, org: &Organisation) -> Result<()> {
        let id = org.id.to_string();
        let (keys, wrapped) = self.keyring.generate_tenant_keys(org.id);
        let email = &org.contract.contact_email;
        self.inner
            .execute(
                "INSERT INTO organisations (id, name_sealed, contact_email_sealed, contact_email_bidx, \
                 seat_limit, status, terminated_at_ms, created_at_ms, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                args![
                    id.as_str(),
                    keys.seal(cell("name_sealed", &id), org.name.as_bytes()),
                    keys.seal(cell("contact_email_sealed", &id), email.as_bytes()),
                    keys.blind_index("email", &normalised_email(email)),
                    org.contract.seat_limit,
                    org.status.as_str(),
                    org.status.terminated_at_ms(),
                    org.created_at_ms,
                    org.version
                ],
            )
            .await?;
        self.insert_tenant_keys(&wrapped, org.created_at_ms).await
    }

    async fn organisation(&mut self, id: OrgId) -> Result<Option<Organisation>> {
        let sql = format!("SELECT {COLUMNS} FROM organisations WHERE id = $1");
        match self
            .inner
            .fetch_optional(&sql, args![id.to_string()])
            .await?
        {
            Some(row) => Ok(Some(self.decode_organisation(row).await?)),
            None => Ok(None),
        }
    }

    async fn organisations(&mut self) -> Result<Vec<Organisation>> {
        let sql = format!("SELECT {COLUMNS} FROM organisations ORDER BY id");
        let rows = self.inner.fetch_all(&sql, args![]).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(self.decode_organisation(row).await?);
        }
        Ok(out)
    }

    async fn organisations_by_contact(&mut self, email: &str) -> Result<Vec<Organisation>> {
        // Each tenant's blind index has its own key, so the lookup computes the index per tenant.
        let rows = self
            .inner
            .fetch_all(
                "SELECT id, contact_email_bidx FROM organisations ORDER BY id",
                args![],
            )
            .await?;
        let wanted = normalised_email(email);
        let mut out = Vec::new();
        for row in rows {
            let id: OrgId = row
                .text("id")?
                .parse()
                .map_err(|_| StoreError::Corrupt("organisation id".into()))?;
            let keys = self.tenant_keys(id).await?;
            if keys.blind_index("email", &wanted) == row.bytes("contact_email_bidx")?
                && let Some(org) = self.organisation(id).await?
            {
                out.push(org);
            }
        }
        Ok(out)
    }

    async fn update_organisation_status(&mut self, org: &Organisation) -> Result<i64> {
        let changed = self
            .inner
            .execute(
                "UPDATE organisations SET status = $1, terminated_at_ms = $2, version = version + 1 \
                 WHERE id = $3 AND version = $4",
                args![
                    org.status.as_str(),
                    org.status.terminated_at_ms(),
                    org.id.to_string(),
                    org.version
                ],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::Domain(DomainError::new(
                ErrorCode::StaleVersion,
                "the organisation changed since it was read; reload and try again",
            )));
        }
        Ok(org.version + 1)
    }

    async fn update_organisation_contract(&mut self, org: &Organisation) -> Result<i64> {
        let id = org.id.to_string();
        let keys = self.tenant_keys(org.id).await?;
        let email = &org.contract.contact_email;
        let changed = self
            .inner
            .execute(
                "UPDATE organisations SET seat_limit = $1, contact_email_sealed = $2, \
                 contact_email_bidx = $3, version = version + 1 WHERE id = $4 AND version = $5",
                args![
                    org.contract.seat_limit,
                    keys.seal(cell("contact_email_sealed", &id), email.as_bytes()),
                    keys.blind_index("email", &normalised_email(email)),
                    id.as_str(),
                    org.version
                ],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::Domain(DomainError::new(
                ErrorCode::StaleVersion,
                "the organisation changed since it was read; reload and try again",
            )));
        }
        Ok(org.version + 1)
    }
}

impl Store {
    /// Every scope: the platform and each organisation (jobs that visit all tenants use this).
    pub async fn scopes(&self) -> Result<Vec<Scope>> {
        let mut tx = self.read().await?;
        let mut scopes = vec![Scope::Platform];
        scopes.extend(
            tx.organisations()
                .await?
                .into_iter()
                .map(|o| Scope::Tenant(o.id)),
        );
        Ok(scopes)
    }
}
