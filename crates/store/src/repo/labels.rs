//! Free-form labels on directory objects, one row per label (indexed exact match on both
//! backends). Writers replace an object's whole label set in the transaction that changes it.

use std::collections::HashMap;
use std::future::Future;

use latchkey_domain::TenantId;
use latchkey_domain::directory::LabelKind;

use crate::db::Tx;
use crate::error::Result;
use crate::sql::args;

/// Label storage.
pub trait LabelRepo {
    /// Replaces the labels of one object (an empty set removes them all).
    fn set_labels(
        &mut self,
        tenant: TenantId,
        kind: LabelKind,
        object_id: &str,
        labels: &[String],
    ) -> impl Future<Output = Result<()>> + Send;
    /// The labels of one object, sorted.
    fn labels_of(
        &mut self,
        tenant: TenantId,
        kind: LabelKind,
        object_id: &str,
    ) -> impl Future<Output = Result<Vec<String>>> + Send;
    /// Every labelled object of a kind with its labels (sorted), keyed by object id.
    fn labels_by_object(
        &mut self,
        tenant: TenantId,
        kind: LabelKind,
    ) -> impl Future<Output = Result<HashMap<String, Vec<String>>>> + Send;
}

impl LabelRepo for Tx {
    async fn set_labels(
        &mut self,
        tenant: TenantId,
        kind: LabelKind,
        object_id: &str,
        labels: &[String],
    ) -> Result<()> {
        self.enter(&tenant.to_string()).await?;
        self.inner
            .execute(
                "DELETE FROM labels WHERE tenant_id = $1 AND object_kind = $2 AND object_id = $3",
                args![tenant.to_string(), kind.as_str(), object_id],
            )
            .await?;
        for label in labels {
            self.inner
                .execute(
                    "INSERT INTO labels (tenant_id, object_kind, object_id, label) VALUES ($1, $2, $3, $4)",
                    args![tenant.to_string(), kind.as_str(), object_id, label.as_str()],
                )
                .await?;
        }
        Ok(())
    }

    async fn labels_of(
        &mut self,
        tenant: TenantId,
        kind: LabelKind,
        object_id: &str,
    ) -> Result<Vec<String>> {
        self.enter(&tenant.to_string()).await?;
        self.inner
            .fetch_all(
                "SELECT label FROM labels WHERE tenant_id = $1 AND object_kind = $2 AND object_id = $3 \
                 ORDER BY label",
                args![tenant.to_string(), kind.as_str(), object_id],
            )
            .await?
            .iter()
            .map(|r| r.text("label"))
            .collect()
    }

    async fn labels_by_object(
        &mut self,
        tenant: TenantId,
        kind: LabelKind,
    ) -> Result<HashMap<String, Vec<String>>> {
        self.enter(&tenant.to_string()).await?;
        let rows = self
            .inner
            .fetch_all(
                "SELECT object_id, label FROM labels WHERE tenant_id = $1 AND object_kind = $2 \
                 ORDER BY object_id, label",
                args![tenant.to_string(), kind.as_str()],
            )
            .await?;
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for row in rows {
            out.entry(row.text("object_id")?)
                .or_default()
                .push(row.text("label")?);
        }
        Ok(out)
    }
}
