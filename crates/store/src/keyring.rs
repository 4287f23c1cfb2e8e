//! Encryption at rest (security.md "Data protection", whitepaper requirement 7).
//!
//! A master key, held in a file or the environment and never in the database or its backups,
//! wraps per-tenant keys that are stored in the database: versioned data keys for sealed PII
//! columns and one blind-index key for exact-match lookups. Destroying a tenant's wrapped keys
//! makes its sealed data unrecoverable (crypto-shredding at termination).
//!
//! Sealed value layout: `key_version (u32 BE) ‖ nonce (24) ‖ XChaCha20-Poly1305 ciphertext+tag`,
//! with AAD = tenant ‖ table ‖ column ‖ row id (length-prefixed), so a ciphertext copied to another
//! row, column or tenant fails to open.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::path::Path;
use std::sync::{Arc, RwLock};

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use latchkey_domain::TenantId;
use rand::RngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

const NONCE_LEN: usize = 24;
const KEY_CHECK_PLAINTEXT: &[u8] = b"latchkey master key check v1";

/// A master key problem, with the fix.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key text is not 64 hex digits.
    #[error("the master key must be 64 hexadecimal characters (32 bytes); got {0}")]
    BadFormat(String),
    /// The key file could not be read or written.
    #[error("master key file {path}: {reason}")]
    File {
        /// The path.
        path: String,
        /// What failed.
        reason: String,
    },
}

/// The 256-bit master key. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(redacted)")
    }
}

impl MasterKey {
    /// A fresh random key from the operating system's generator.
    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(key.as_mut());
        Self(key)
    }

    /// Parses 64 hex digits (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let mut key = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text, key.as_mut()).map_err(|_| {
            KeyError::BadFormat(format!(
                "{} characters that are not 64 hex digits",
                text.len()
            ))
        })?;
        Ok(Self(key))
    }

    /// The key as 64 hex digits, for writing the key file.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.0.as_ref()))
    }

    /// Reads a key file written by [`MasterKey::create_file`].
    pub fn load_file(path: &Path) -> Result<Self, KeyError> {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| KeyError::File {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?);
        let key_line = text
            .lines()
            .find(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
            .unwrap_or("");
        Self::from_hex(key_line).map_err(|e| KeyError::File {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
    }

    /// Generates a key and writes it to a new file readable only by its owner (mode 0600).
    /// Refuses to overwrite an existing file.
    pub fn create_file(path: &Path) -> Result<Self, KeyError> {
        let key = Self::generate();
        let fail = |e: std::io::Error| KeyError::File {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(fail)?;
        let body = Zeroizing::new(format!(
            "# Latchkey master key. Back it up SEPARATELY from the data directory and its backups:\n\
             # without it the encrypted data cannot be read; with it and a backup, anyone can.\n{}\n",
            key.to_hex().as_str()
        ));
        file.write_all(body.as_bytes()).map_err(fail)?;
        file.sync_all().map_err(fail)?;
        Ok(key)
    }

    fn derive(&self, info: &[u8]) -> Zeroizing<[u8; 32]> {
        derive_key(self.0.as_ref(), b"latchkey-master-v1", info)
    }
}

fn derive_key(ikm: &[u8], salt: &[u8], info: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    // HKDF-SHA256 can always produce 32 bytes (limit is 255 × 32); the error arm is unreachable.
    if Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, out.as_mut())
        .is_err()
    {
        out.as_mut().fill(0);
    }
    out
}

fn random_key() -> Zeroizing<[u8; 32]> {
    let mut key = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(key.as_mut());
    key
}

/// Appends length-prefixed parts, so that no two different part lists encode the same bytes.
fn framed(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        out.extend_from_slice(&(part.len() as u32).to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

fn seal_with(key: &[u8; 32], plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(key.into());
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let mut out = nonce.to_vec();
    // Encryption fails only for messages longer than the AEAD's 2^38-byte limit.
    if let Ok(ct) = cipher.encrypt(
        &nonce,
        Payload {
            msg: plaintext,
            aad,
        },
    ) {
        out.extend_from_slice(&ct);
    }
    out
}

fn open_with(key: &[u8; 32], sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < NONCE_LEN {
        return None;
    }
    let (nonce, ct) = sealed.split_at(NONCE_LEN);
    XChaCha20Poly1305::new(key.into())
        .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad })
        .ok()
}

/// What a tenant key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPurpose {
    /// Encrypts sealed columns.
    Data,
    /// Keys the blind index (HMAC) for exact-match lookups.
    Index,
}

impl KeyPurpose {
    /// Stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            KeyPurpose::Data => "data",
            KeyPurpose::Index => "index",
        }
    }
}

/// A tenant key as stored: wrapped by the master key.
#[derive(Debug, Clone)]
pub struct WrappedKey {
    /// Owning tenant.
    pub tenant: TenantId,
    /// Purpose.
    pub purpose: KeyPurpose,
    /// Version (data keys rotate; the highest is active).
    pub version: i64,
    /// `nonce ‖ ciphertext` of the key.
    pub wrapped: Vec<u8>,
}

/// Names one sealed cell: the AAD binds the ciphertext to it.
#[derive(Debug, Clone, Copy)]
pub struct Cell<'a> {
    /// Table name.
    pub table: &'a str,
    /// Column name.
    pub column: &'a str,
    /// The row's id.
    pub row_id: &'a str,
}

/// One tenant's unwrapped keys. Dropped keys are zeroed.
pub struct TenantKeys {
    tenant: TenantId,
    data: BTreeMap<i64, Zeroizing<[u8; 32]>>,
    index: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for TenantKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantKeys")
            .field("tenant", &self.tenant)
            .field("data_versions", &self.data.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl TenantKeys {
    fn aad(&self, cell: Cell<'_>) -> Vec<u8> {
        let tenant = self.tenant.to_string();
        framed(&[
            b"latchkey-seal-v1",
            tenant.as_bytes(),
            cell.table.as_bytes(),
            cell.column.as_bytes(),
            cell.row_id.as_bytes(),
        ])
    }

    /// Encrypts a cell's value with the active data key.
    pub fn seal(&self, cell: Cell<'_>, plaintext: &[u8]) -> Vec<u8> {
        let Some((version, key)) = self.data.iter().next_back() else {
            return Vec::new();
        };
        let mut out = (*version as u32).to_be_bytes().to_vec();
        out.extend(seal_with(key, plaintext, &self.aad(cell)));
        out
    }

    /// Decrypts a cell's value; fails if it was altered, moved, or sealed under another tenant.
    pub fn open(&self, cell: Cell<'_>, sealed: &[u8]) -> Option<Vec<u8>> {
        let (version, rest) = sealed.split_first_chunk::<4>()?;
        let key = self.data.get(&i64::from(u32::from_be_bytes(*version)))?;
        open_with(key, rest, &self.aad(cell))
    }

    /// A keyed hash of a normalised value, for exact-match lookups without decrypting
    /// (`kind` separates e.g. e-mail from employee numbers).
    pub fn blind_index(&self, kind: &str, normalised: &str) -> Vec<u8> {
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(self.index.as_ref()) {
            Ok(mac) => mac,
            Err(_) => return Vec::new(), // HMAC accepts keys of any length
        };
        mac.update(&framed(&[kind.as_bytes(), normalised.as_bytes()]));
        mac.finalize().into_bytes().to_vec()
    }
}

/// The keyring: the master key, the key-encryption key derived from it, the audit signing key,
/// and a cache of unwrapped tenant keys.
pub struct Keyring {
    kek: Zeroizing<[u8; 32]>,
    token_key: Zeroizing<[u8; 32]>,
    platform: Arc<TenantKeys>,
    check_key: Zeroizing<[u8; 32]>,
    audit_signing: SigningKey,
    cache: RwLock<HashMap<TenantId, Arc<TenantKeys>>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyring(redacted)")
    }
}

impl Keyring {
    /// Derives the keyring's working keys from the master key.
    pub fn new(master: &MasterKey) -> Self {
        let signing_seed = master.derive(b"audit-checkpoint-signing");
        // Platform-level data (operator mail, later platform accounts) belongs to no tenant and is
        // never crypto-shredded with one, so its keys derive from the master key directly.
        let platform = Arc::new(TenantKeys {
            tenant: TenantId::from_uuid(uuid::Uuid::nil()),
            data: BTreeMap::from([(1, master.derive(b"platform-data-v1"))]),
            index: master.derive(b"platform-index-v1"),
        });
        Self {
            kek: master.derive(b"tenant-key-wrap"),
            token_key: master.derive(b"token-digest-v1"),
            platform,
            check_key: master.derive(b"key-check"),
            audit_signing: SigningKey::from_bytes(&signing_seed),
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// A value proving which master key a database belongs to.
    pub(crate) fn key_check(&self) -> Vec<u8> {
        seal_with(&self.check_key, KEY_CHECK_PLAINTEXT, b"key-check")
    }

    /// True when `blob` was made by [`Keyring::key_check`] with this master key.
    pub(crate) fn matches_key_check(&self, blob: &[u8]) -> bool {
        open_with(&self.check_key, blob, b"key-check").as_deref() == Some(KEY_CHECK_PLAINTEXT)
    }

    fn wrap_aad(tenant: TenantId, purpose: KeyPurpose, version: i64) -> Vec<u8> {
        let tenant = tenant.to_string();
        framed(&[
            b"latchkey-tenant-key-v1",
            tenant.as_bytes(),
            purpose.as_str().as_bytes(),
            &version.to_be_bytes(),
        ])
    }

    /// Generates a new tenant's keys: data key version 1 and an index key, returned unwrapped
    /// (to seal the tenant's first rows) and wrapped (to store).
    pub fn generate_tenant_keys(&self, tenant: TenantId) -> (Arc<TenantKeys>, Vec<WrappedKey>) {
        let data = random_key();
        let index = random_key();
        let wrapped = vec![
            self.wrap(tenant, KeyPurpose::Data, 1, &data),
            self.wrap(tenant, KeyPurpose::Index, 1, &index),
        ];
        let keys = Arc::new(TenantKeys {
            tenant,
            data: BTreeMap::from([(1, data)]),
            index,
        });
        if let Ok(mut cache) = self.cache.write() {
            cache.insert(tenant, keys.clone());
        }
        (keys, wrapped)
    }

    fn wrap(
        &self,
        tenant: TenantId,
        purpose: KeyPurpose,
        version: i64,
        key: &[u8; 32],
    ) -> WrappedKey {
        WrappedKey {
            tenant,
            purpose,
            version,
            wrapped: seal_with(&self.kek, key, &Self::wrap_aad(tenant, purpose, version)),
        }
    }

    fn unwrap(&self, key: &WrappedKey) -> Option<Zeroizing<[u8; 32]>> {
        let plain = Zeroizing::new(open_with(
            &self.kek,
            &key.wrapped,
            &Self::wrap_aad(key.tenant, key.purpose, key.version),
        )?);
        let mut out = Zeroizing::new([0u8; 32]);
        if plain.len() != 32 {
            return None;
        }
        out.copy_from_slice(&plain);
        Some(out)
    }

    /// The stored form of a secret token (session id, one-time link): an HMAC, so a database
    /// leak yields nothing usable (security.md "tokens are stored as HMACs only").
    pub fn token_digest(&self, purpose: &str, token: &[u8]) -> Vec<u8> {
        match <Hmac<Sha256> as Mac>::new_from_slice(self.token_key.as_ref()) {
            Ok(mut mac) => {
                mac.update(&framed(&[purpose.as_bytes(), token]));
                mac.finalize().into_bytes().to_vec()
            }
            Err(_) => Vec::new(),
        }
    }

    /// The platform scope's keys.
    pub(crate) fn platform_keys(&self) -> Arc<TenantKeys> {
        self.platform.clone()
    }

    /// A tenant's keys from the cache, if loaded.
    pub(crate) fn cached(&self, tenant: TenantId) -> Option<Arc<TenantKeys>> {
        self.cache.read().ok()?.get(&tenant).cloned()
    }

    /// Unwraps a tenant's stored keys and caches them. `None` if any fails to unwrap.
    pub(crate) fn load(&self, tenant: TenantId, stored: &[WrappedKey]) -> Option<Arc<TenantKeys>> {
        let mut data = BTreeMap::new();
        let mut index = None;
        for key in stored {
            let plain = self.unwrap(key)?;
            match key.purpose {
                KeyPurpose::Data => {
                    data.insert(key.version, plain);
                }
                KeyPurpose::Index => index = Some(plain),
            }
        }
        if data.is_empty() {
            return None;
        }
        let keys = Arc::new(TenantKeys {
            tenant,
            data,
            index: index?,
        });
        if let Ok(mut cache) = self.cache.write() {
            cache.insert(tenant, keys.clone());
        }
        Some(keys)
    }

    /// Signs an audit checkpoint message with the server's audit key.
    pub(crate) fn sign_checkpoint(&self, message: &[u8]) -> Vec<u8> {
        self.audit_signing.sign(message).to_bytes().to_vec()
    }

    /// Checks a checkpoint signature against the server's audit key.
    pub(crate) fn verify_checkpoint(&self, message: &[u8], signature: &[u8]) -> bool {
        ed25519_dalek::Signature::from_slice(signature)
            .map(|sig| self.audit_verifying_key().verify(message, &sig).is_ok())
            .unwrap_or(false)
    }

    /// The public key that verifies audit checkpoints (publish it to let others check them).
    pub fn audit_verifying_key(&self) -> VerifyingKey {
        self.audit_signing.verifying_key()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cell(row: &str) -> Cell<'_> {
        Cell {
            table: "organisations",
            column: "name_sealed",
            row_id: row,
        }
    }

    #[test]
    fn sealed_values_open_only_in_their_own_cell() {
        let ring = Keyring::new(&MasterKey::generate());
        let tenant = TenantId::generate();
        let (keys, _) = ring.generate_tenant_keys(tenant);
        let sealed = keys.seal(cell("row-1"), b"Acme KK");
        assert_eq!(keys.open(cell("row-1"), &sealed).unwrap(), b"Acme KK");
        assert!(keys.open(cell("row-2"), &sealed).is_none());
        let other_column = Cell {
            column: "contact_email_sealed",
            ..cell("row-1")
        };
        assert!(keys.open(other_column, &sealed).is_none());
        let (other_tenant, _) = ring.generate_tenant_keys(TenantId::generate());
        assert!(other_tenant.open(cell("row-1"), &sealed).is_none());
    }

    #[test]
    fn wrapped_keys_need_the_same_master_key() {
        let master = MasterKey::generate();
        let ring = Keyring::new(&master);
        let tenant = TenantId::generate();
        let (keys, wrapped) = ring.generate_tenant_keys(tenant);
        let sealed = keys.seal(cell("r"), b"secret");

        let same = Keyring::new(&MasterKey::from_hex(&master.to_hex()).unwrap());
        let reloaded = same.load(tenant, &wrapped).unwrap();
        assert_eq!(reloaded.open(cell("r"), &sealed).unwrap(), b"secret");

        let other = Keyring::new(&MasterKey::generate());
        assert!(other.load(tenant, &wrapped).is_none());
        assert!(!other.matches_key_check(&ring.key_check()));
        assert!(same.matches_key_check(&ring.key_check()));
    }

    #[test]
    fn blind_index_is_deterministic_per_tenant() {
        let ring = Keyring::new(&MasterKey::generate());
        let (a, _) = ring.generate_tenant_keys(TenantId::generate());
        let (b, _) = ring.generate_tenant_keys(TenantId::generate());
        assert_eq!(
            a.blind_index("email", "x@y.z"),
            a.blind_index("email", "x@y.z")
        );
        assert_ne!(
            a.blind_index("email", "x@y.z"),
            b.blind_index("email", "x@y.z")
        );
    }

    #[test]
    fn key_text_must_be_64_hex_digits() {
        assert!(MasterKey::from_hex("abc").is_err());
        assert!(MasterKey::from_hex(&"g".repeat(64)).is_err());
        assert!(MasterKey::from_hex(&"0".repeat(64)).is_ok());
        assert_eq!(
            format!("{:?}", MasterKey::generate()),
            "MasterKey(redacted)"
        );
    }
}
