//! The audit log: append in the caller's transaction (so an event exists exactly when the change
//! it records does), read a chain, write signed checkpoints, and verify a chain.

use std::future::Future;

use latchkey_domain::audit::{AuditRecord, ChainMark, ChainVerdict, Outcome, Tamper, verify_chain};
use latchkey_domain::{OrgId, Scope};
use uuid::Uuid;

use crate::db::{Store, Tx};
use crate::error::{Result, StoreError};
use crate::sql::{Row, args};

/// An event to append; the store assigns its sequence number and hashes.
#[derive(Debug, Clone)]
pub struct NewAuditEvent {
    /// When, epoch ms UTC.
    pub at_ms: i64,
    /// Who (`operator:cli`, `user:<id>`, `system`).
    pub actor: String,
    /// What (`org_created`, …).
    pub action: String,
    /// On what (`org:<id>`).
    pub target: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Client IP, if over the network.
    pub source_ip: Option<String>,
    /// Request id, if any.
    pub request_id: Option<String>,
    /// Particulars (ids, before/after); never secrets or unsealed PII.
    pub details: serde_json::Value,
}

/// A signed checkpoint of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The chain's position it vouches for.
    pub mark: ChainMark,
    /// When it was signed, epoch ms UTC.
    pub at_ms: i64,
    /// Ed25519 signature by the server's audit key.
    pub signature: Vec<u8>,
}

/// Audit log storage.
pub trait AuditRepo {
    /// Appends an event to `chain` within this transaction.
    fn append_audit(
        &mut self,
        chain: Scope,
        event: NewAuditEvent,
    ) -> impl Future<Output = Result<AuditRecord>> + Send;
    /// Up to `limit` events of `chain` with `seq > after_seq`, in order.
    fn audit_events(
        &mut self,
        chain: Scope,
        after_seq: i64,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<AuditRecord>>> + Send;
    /// Signs and stores a checkpoint at the chain's current head (none for an empty chain).
    fn write_checkpoint(
        &mut self,
        chain: Scope,
        at_ms: i64,
    ) -> impl Future<Output = Result<Option<Checkpoint>>> + Send;
}

fn checkpoint_message(chain: Scope, mark: ChainMark, at_ms: i64) -> Vec<u8> {
    let mut msg = b"latchkey-audit-checkpoint-v1".to_vec();
    let key = chain.storage_key();
    msg.extend_from_slice(&(key.len() as u32).to_be_bytes());
    msg.extend_from_slice(key.as_bytes());
    msg.extend_from_slice(&mark.seq.to_be_bytes());
    msg.extend_from_slice(&mark.hash);
    msg.extend_from_slice(&at_ms.to_be_bytes());
    msg
}

fn decode(row: &Row) -> Result<AuditRecord> {
    let outcome_name = row.text("outcome")?;
    Ok(AuditRecord {
        seq: row.int("seq")?,
        id: row.text("id")?,
        at_ms: row.int("at_ms")?,
        actor: row.text("actor")?,
        action: row.text("action")?,
        target: row.text("target")?,
        // An unknown outcome can only come from tampering; keep the row so the hash check names
        // it rather than failing the whole read.
        outcome: Outcome::from_stored(&outcome_name).unwrap_or(Outcome::Denied),
        source_ip: row.opt_text("source_ip")?,
        request_id: row.opt_text("request_id")?,
        details: row.text("details")?,
        prev_hash: row.hash32("prev_hash").unwrap_or([0xff; 32]),
        hash: row.hash32("hash").unwrap_or([0xff; 32]),
    })
}

impl Tx {
    async fn audit_head(&mut self, chain: Scope) -> Result<Option<ChainMark>> {
        let key = chain.storage_key();
        self.enter(&key).await?;
        let row = self
            .inner
            .fetch_optional(
                "SELECT seq, hash FROM audit_heads WHERE tenant_id = $1",
                args![key],
            )
            .await?;
        row.map(|r| {
            Ok(ChainMark {
                seq: r.int("seq")?,
                hash: r.hash32("hash").unwrap_or([0xff; 32]),
            })
        })
        .transpose()
    }

    async fn checkpoints(&mut self, chain: Scope) -> Result<Vec<Checkpoint>> {
        let key = chain.storage_key();
        self.enter(&key).await?;
        self.inner
            .fetch_all(
                "SELECT seq, hash, at_ms, signature FROM audit_checkpoints WHERE tenant_id = $1 ORDER BY seq",
                args![key],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(Checkpoint {
                    mark: ChainMark {
                        seq: r.int("seq")?,
                        hash: r.hash32("hash").unwrap_or([0xff; 32]),
                    },
                    at_ms: r.int("at_ms")?,
                    signature: r.bytes("signature")?,
                })
            })
            .collect()
    }
}

impl AuditRepo for Tx {
    async fn append_audit(&mut self, chain: Scope, event: NewAuditEvent) -> Result<AuditRecord> {
        let key = chain.storage_key();
        self.enter(&key).await?;
        self.inner
            .execute(
                "INSERT INTO audit_heads (tenant_id, seq, hash) VALUES ($1, 0, $2) \
                 ON CONFLICT (tenant_id) DO NOTHING",
                args![key.as_str(), latchkey_domain::audit::GENESIS_HASH.to_vec()],
            )
            .await?;
        // The UPDATE takes the head row's lock until commit, so concurrent appends to one chain
        // serialise on PostgreSQL (SQLite already has a single writer).
        let head = self
            .inner
            .fetch_optional(
                "UPDATE audit_heads SET seq = seq + 1 WHERE tenant_id = $1 RETURNING seq, hash",
                args![key.as_str()],
            )
            .await?
            .ok_or_else(|| StoreError::Corrupt("audit head vanished".into()))?;
        let mut record = AuditRecord {
            seq: head.int("seq")?,
            id: Uuid::now_v7().hyphenated().to_string(),
            at_ms: event.at_ms,
            actor: event.actor,
            action: event.action,
            target: event.target,
            outcome: event.outcome,
            source_ip: event.source_ip,
            request_id: event.request_id,
            details: event.details.to_string(),
            prev_hash: head.hash32("hash")?,
            hash: [0; 32],
        };
        record.hash = record.compute_hash(&record.prev_hash);
        self.inner
            .execute(
                "INSERT INTO audit_events (tenant_id, seq, id, at_ms, actor, action, target, outcome, \
                 source_ip, request_id, details, prev_hash, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                args![
                    key.as_str(),
                    record.seq,
                    record.id.as_str(),
                    record.at_ms,
                    record.actor.as_str(),
                    record.action.as_str(),
                    record.target.as_str(),
                    record.outcome.as_str(),
                    record.source_ip.clone(),
                    record.request_id.clone(),
                    record.details.as_str(),
                    record.prev_hash.to_vec(),
                    record.hash.to_vec()
                ],
            )
            .await?;
        self.inner
            .execute(
                "UPDATE audit_heads SET hash = $1 WHERE tenant_id = $2",
                args![record.hash.to_vec(), key.as_str()],
            )
            .await?;
        Ok(record)
    }

    async fn audit_events(
        &mut self,
        chain: Scope,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<AuditRecord>> {
        let key = chain.storage_key();
        self.enter(&key).await?;
        self.inner
            .fetch_all(
                "SELECT seq, id, at_ms, actor, action, target, outcome, source_ip, request_id, details, \
                 prev_hash, hash FROM audit_events WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                args![key, after_seq, limit],
            )
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    async fn write_checkpoint(&mut self, chain: Scope, at_ms: i64) -> Result<Option<Checkpoint>> {
        let Some(mark) = self.audit_head(chain).await? else {
            return Ok(None);
        };
        let signature = self
            .keyring
            .sign_checkpoint(&checkpoint_message(chain, mark, at_ms));
        let inserted = self
            .inner
            .execute(
                "INSERT INTO audit_checkpoints (tenant_id, seq, hash, at_ms, signature) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, seq) DO NOTHING",
                args![
                    chain.storage_key(),
                    mark.seq,
                    mark.hash.to_vec(),
                    at_ms,
                    signature.clone()
                ],
            )
            .await?;
        if inserted == 0 {
            // Nothing new since the last checkpoint: that one still vouches for the head.
            return Ok(self
                .checkpoints(chain)
                .await?
                .into_iter()
                .find(|c| c.mark.seq == mark.seq));
        }
        Ok(Some(Checkpoint {
            mark,
            at_ms,
            signature,
        }))
    }
}

/// Pages read at a time while verifying.
const VERIFY_PAGE: i64 = 1_000;

impl Store {
    /// Verifies one chain end to end: every hash and link, the chain head, and every signed
    /// checkpoint (a checkpoint with a bad signature is itself a finding).
    pub async fn verify_audit_chain(&self, chain: Scope) -> Result<ChainVerdict> {
        let mut tx = self.read().await?;
        let mut records = Vec::new();
        let mut after = 0;
        loop {
            let page = tx.audit_events(chain, after, VERIFY_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            records.extend(page);
        }
        let head = tx.audit_head(chain).await?;
        let mut good = Vec::new();
        let mut bad_signature: Option<i64> = None;
        for checkpoint in tx.checkpoints(chain).await? {
            let message = checkpoint_message(chain, checkpoint.mark, checkpoint.at_ms);
            if self
                .keyring()
                .verify_checkpoint(&message, &checkpoint.signature)
            {
                good.push(checkpoint.mark);
            } else {
                bad_signature =
                    Some(bad_signature.map_or(checkpoint.mark.seq, |s| s.min(checkpoint.mark.seq)));
            }
        }
        let mut verdict = verify_chain(records, head, &good);
        if let Some(seq) = bad_signature
            && verdict.first_bad.is_none_or(|(first, _)| seq < first)
        {
            verdict.first_bad = Some((seq, Tamper::BadCheckpointSignature));
        }
        Ok(verdict)
    }

    /// Writes a signed checkpoint on every chain; returns how many were new or confirmed.
    pub async fn checkpoint_all(&self, at_ms: i64) -> Result<usize> {
        let mut written = 0;
        for chain in self.scopes().await? {
            let mut tx = self.write().await?;
            if tx.write_checkpoint(chain, at_ms).await?.is_some() {
                written += 1;
            }
            tx.commit().await?;
        }
        Ok(written)
    }
}

/// Parses the chain a CLI argument names: an organisation id, or `platform`.
pub fn parse_chain(text: &str) -> Option<Scope> {
    if text == "platform" {
        return Some(Scope::Platform);
    }
    text.parse::<OrgId>().ok().map(Scope::Tenant)
}
