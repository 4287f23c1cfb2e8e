//! The audit hash chain (security.md: per-tenant hash chain + periodic signed checkpoints).
//!
//! Each event's hash covers the previous event's hash and every field of the event in a fixed,
//! length-prefixed encoding, so modifying, deleting, reordering or truncating entries is detected
//! by [`verify_chain`]. Checkpoints (signed elsewhere, with the server key) pin a chain's hash at a
//! sequence number, so a rewrite of the chain's tail after a checkpoint is detected too.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash that precedes the first event of every chain.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// How an audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The action happened.
    Success,
    /// The action was attempted and failed (e.g. wrong password).
    Failure,
    /// The action was refused by a rule or permission.
    Denied,
}

impl Outcome {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }

    /// Parses a stored name.
    pub fn from_stored(name: &str) -> Option<Self> {
        match name {
            "success" => Some(Outcome::Success),
            "failure" => Some(Outcome::Failure),
            "denied" => Some(Outcome::Denied),
            _ => None,
        }
    }
}

/// One audit event as it is hashed and stored: who did what to which target, when, from where,
/// and how it ended. `details` is canonical JSON holding ids and values, never secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    /// Position in its chain, from 1, without gaps.
    pub seq: i64,
    /// Event id (UUIDv7).
    pub id: String,
    /// When it happened, epoch ms UTC.
    pub at_ms: i64,
    /// Who: `operator:cli`, `user:<id>`, `token:<id>`, `system`.
    pub actor: String,
    /// What, in the OWASP logging vocabulary where one exists (`org_created`, `authn_login_fail`).
    pub action: String,
    /// On what: `org:<id>`, `site:<id>`.
    pub target: String,
    /// How it ended.
    pub outcome: Outcome,
    /// The client's IP address, when the action came over the network.
    pub source_ip: Option<String>,
    /// The request id that ties the event to log lines.
    pub request_id: Option<String>,
    /// Canonical JSON with the change's particulars (before/after values, ids).
    pub details: String,
    /// Hash of the previous event in the chain (genesis: zeros).
    pub prev_hash: [u8; 32],
    /// SHA-256 over `prev_hash` and the fields above.
    pub hash: [u8; 32],
}

impl AuditRecord {
    /// Computes the chain hash of this record's content given the previous hash.
    pub fn compute_hash(&self, prev_hash: &[u8; 32]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"latchkey-audit-v1");
        h.update(prev_hash);
        h.update(self.seq.to_be_bytes());
        h.update(self.at_ms.to_be_bytes());
        for field in [
            self.id.as_str(),
            self.actor.as_str(),
            self.action.as_str(),
            self.target.as_str(),
            self.outcome.as_str(),
            self.source_ip.as_deref().unwrap_or("\u{0}none"),
            self.request_id.as_deref().unwrap_or("\u{0}none"),
            self.details.as_str(),
        ] {
            // Length prefixes keep field boundaries unambiguous ("ab"+"c" ≠ "a"+"bc").
            h.update((field.len() as u64).to_be_bytes());
            h.update(field.as_bytes());
        }
        h.finalize().into()
    }
}

/// A chain's position pinned by a signed checkpoint (its signature already verified) or by the
/// chain-head row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainMark {
    /// Sequence number of the pinned event.
    pub seq: i64,
    /// That event's hash.
    pub hash: [u8; 32],
}

/// Why verification stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tamper {
    /// An event's content no longer matches its hash (modified).
    ContentModified,
    /// An event does not follow its predecessor (reordered, or an earlier event was altered).
    BrokenLink,
    /// A sequence number is missing (deleted).
    Missing,
    /// Events that a checkpoint or the chain head vouches for are gone (truncated).
    Truncated,
    /// The chain disagrees with a signed checkpoint (rewritten).
    CheckpointMismatch,
    /// A checkpoint's signature does not verify.
    BadCheckpointSignature,
}

/// The result of verifying one chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainVerdict {
    /// Number of events read.
    pub events: u64,
    /// The first bad sequence number and why, or `None` when the chain is intact.
    pub first_bad: Option<(i64, Tamper)>,
}

/// Walks a chain's events in ascending `seq` order and reports the first bad sequence number.
/// `head` is the chain-head row (the last seq the writer recorded); `checkpoints` are signed marks
/// whose signatures the caller has already checked.
pub fn verify_chain(
    records: impl IntoIterator<Item = AuditRecord>,
    head: Option<ChainMark>,
    checkpoints: &[ChainMark],
) -> ChainVerdict {
    let mut expected_seq = 1_i64;
    let mut prev = GENESIS_HASH;
    let mut events = 0_u64;
    let mut first_bad: Option<(i64, Tamper)> = None;
    let mut hashes_by_seq = std::collections::BTreeMap::new();

    for record in records {
        events += 1;
        if first_bad.is_some() {
            continue;
        }
        if record.seq != expected_seq {
            first_bad = Some((expected_seq, Tamper::Missing));
            continue;
        }
        if record.compute_hash(&record.prev_hash) != record.hash {
            first_bad = Some((record.seq, Tamper::ContentModified));
            continue;
        }
        if record.prev_hash != prev {
            first_bad = Some((record.seq, Tamper::BrokenLink));
            continue;
        }
        hashes_by_seq.insert(record.seq, record.hash);
        prev = record.hash;
        expected_seq += 1;
    }

    if first_bad.is_none() {
        let last_seq = expected_seq - 1;
        let marks = head.iter().chain(checkpoints.iter());
        for mark in marks {
            let finding = match hashes_by_seq.get(&mark.seq) {
                _ if mark.seq > last_seq => Some((last_seq + 1, Tamper::Truncated)),
                Some(hash) if *hash != mark.hash => Some((mark.seq, Tamper::CheckpointMismatch)),
                _ => None,
            };
            if let Some(found) = finding
                && first_bad.is_none_or(|(seq, _)| found.0 < seq)
            {
                first_bad = Some(found);
            }
        }
    }
    ChainVerdict { events, first_bad }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut prev = GENESIS_HASH;
        (1..=n)
            .map(|seq| {
                let mut r = AuditRecord {
                    seq,
                    id: format!("id-{seq}"),
                    at_ms: 1_000 * seq,
                    actor: "operator:cli".into(),
                    action: "org_created".into(),
                    target: format!("org:{seq}"),
                    outcome: Outcome::Success,
                    source_ip: None,
                    request_id: Some(format!("req-{seq}")),
                    details: "{}".into(),
                    prev_hash: prev,
                    hash: [0; 32],
                };
                r.hash = r.compute_hash(&prev);
                prev = r.hash;
                r
            })
            .collect()
    }

    fn head_of(records: &[AuditRecord]) -> Option<ChainMark> {
        records.last().map(|r| ChainMark {
            seq: r.seq,
            hash: r.hash,
        })
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(5);
        let verdict = verify_chain(c.clone(), head_of(&c), &[]);
        assert_eq!(
            verdict,
            ChainVerdict {
                events: 5,
                first_bad: None
            }
        );
    }

    #[test]
    fn modified_entry_is_reported_at_its_seq() {
        let mut c = chain(5);
        let head = head_of(&c);
        c[2].outcome = Outcome::Failure;
        let verdict = verify_chain(c, head, &[]);
        assert_eq!(verdict.first_bad, Some((3, Tamper::ContentModified)));
    }

    #[test]
    fn deleted_entry_is_reported_as_missing() {
        let mut c = chain(5);
        let head = head_of(&c);
        c.remove(1);
        assert_eq!(
            verify_chain(c, head, &[]).first_bad,
            Some((2, Tamper::Missing))
        );
    }

    #[test]
    fn reordered_entries_break_the_link() {
        let mut c = chain(5);
        let head = head_of(&c);
        // Swap the content of 2 and 3 while keeping the seq column in order.
        let (a, b) = (c[1].clone(), c[2].clone());
        c[1] = AuditRecord { seq: 2, ..b };
        c[2] = AuditRecord { seq: 3, ..a };
        let bad = verify_chain(c, head, &[]).first_bad.unwrap();
        assert_eq!(bad.0, 2);
    }

    #[test]
    fn truncated_tail_is_reported_after_the_last_survivor() {
        let mut c = chain(5);
        let head = head_of(&c);
        c.truncate(3);
        assert_eq!(
            verify_chain(c, head, &[]).first_bad,
            Some((4, Tamper::Truncated))
        );
    }

    #[test]
    fn rewritten_tail_contradicts_a_checkpoint() {
        let original = chain(5);
        let checkpoint = ChainMark {
            seq: 4,
            hash: original[3].hash,
        };
        // An attacker rewrites everything from seq 3 on with consistent hashes.
        let mut forged = chain(5);
        let mut prev = forged[1].hash;
        for r in forged.iter_mut().skip(2) {
            r.actor = "forged".into();
            r.prev_hash = prev;
            r.hash = r.compute_hash(&prev);
            prev = r.hash;
        }
        let head = head_of(&forged);
        assert_eq!(
            verify_chain(forged, head, &[checkpoint]).first_bad,
            Some((4, Tamper::CheckpointMismatch))
        );
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        let c = chain(1);
        let mut moved = c[0].clone();
        moved.actor = "operator:cl".into();
        moved.action = "iorg_created".into();
        assert_ne!(moved.compute_hash(&GENESIS_HASH), c[0].hash);
    }
}
