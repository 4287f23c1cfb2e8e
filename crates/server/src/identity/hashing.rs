//! Password hashing: Argon2id at or above the OWASP floor (m = 19 456 KiB, t = 2, p = 1; ASVS 5.0
//! 11.4.2), PHC strings, rehash when the parameters rise, and every hash on a blocking thread
//! behind a small semaphore — m × concurrent hashes is memory an attacker could otherwise demand.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

/// The floor for memory, in KiB.
pub const MIN_MEMORY_KIB: u32 = 19_456;
/// The floor for iterations.
pub const MIN_ITERATIONS: u32 = 2;

/// Argon2id parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Iterations.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for HashParams {
    fn default() -> Self {
        Self {
            memory_kib: MIN_MEMORY_KIB,
            iterations: MIN_ITERATIONS,
            parallelism: 1,
        }
    }
}

/// A failure to hash (parameters) or a hash that cannot be read (corrupt PHC string).
#[derive(Debug, thiserror::Error)]
#[error("password hashing: {0}")]
pub struct HashError(String);

/// Hashes and verifies passwords off the async threads.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    params: HashParams,
    permits: Arc<Semaphore>,
    /// A real hash of a random password, verified for unknown accounts so they cost the same
    /// time as known ones (ASVS 5.0 6.3.8, research §2.2 I4).
    dummy_hash: Arc<str>,
    /// Verifications against real hashes so far (test T6 counts them).
    real_verifications: Arc<std::sync::atomic::AtomicU64>,
}

fn argon(params: HashParams) -> Result<Argon2<'static>, HashError> {
    let p = Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        None,
    )
    .map_err(|e| HashError(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, p))
}

fn hash_blocking(params: HashParams, password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    argon(params)?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

impl PasswordHasher {
    /// The parameters new hashes use.
    pub fn params(&self) -> HashParams {
        self.params
    }

    /// A hasher with these parameters (raised to the floor) and at most `concurrency` hashes at
    /// once.
    pub fn new(params: HashParams, concurrency: usize) -> Self {
        let params = HashParams {
            memory_kib: params.memory_kib.max(MIN_MEMORY_KIB),
            iterations: params.iterations.max(MIN_ITERATIONS),
            parallelism: params.parallelism.max(1),
        };
        // Parameters at or above the floor always hash; the literal is a same-cost fallback.
        let dummy_hash = hash_blocking(params, &uuid::Uuid::new_v4().to_string()).unwrap_or_else(|_| {
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Ls7tGd3FqGvXWZbZ0S3mcCgEQ1kvHSyHbGG+c4uXPbQ".into()
        });
        Self {
            params,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy_hash: dummy_hash.into(),
            real_verifications: Arc::default(),
        }
    }

    /// How many verifications ran against a real account's hash (not the dummy).
    pub fn real_verifications(&self) -> u64 {
        self.real_verifications
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Hashes a (policy-checked, NFKC-normalised) password into a PHC string.
    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| HashError(e.to_string()))?;
        let (params, password) = (self.params, password.to_owned());
        tokio::task::spawn_blocking(move || hash_blocking(params, &password))
            .await
            .map_err(|e| HashError(e.to_string()))?
    }

    /// Verifies a password against a PHC string; `None` verifies against the dummy hash and
    /// always answers false, taking the same time.
    pub async fn verify(&self, password: &str, phc: Option<&str>) -> bool {
        let Ok(_permit) = self.permits.acquire().await else {
            return false;
        };
        let known = phc.is_some();
        if known {
            self.real_verifications
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let phc = phc.map_or_else(|| self.dummy_hash.to_string(), str::to_owned);
        let password = password.to_owned();
        let matched = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&phc)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        known && matched
    }

    /// True when a stored hash used weaker parameters than the current ones (rehash on login).
    pub fn needs_rehash(&self, phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return true;
        };
        let Ok(stored) = Params::try_from(&parsed) else {
            return true;
        };
        parsed.algorithm != Algorithm::Argon2id.ident()
            || stored.m_cost() < self.params.memory_kib
            || stored.t_cost() < self.params.iterations
            || stored.p_cost() < self.params.parallelism
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_carry_their_parameters() {
        let hasher = PasswordHasher::new(HashParams::default(), 2);
        let phc = hasher.hash("correct horse battery").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(hasher.verify("correct horse battery", Some(&phc)).await);
        assert!(!hasher.verify("wrong horse battery", Some(&phc)).await);
        assert!(
            !hasher.verify("correct horse battery", None).await,
            "unknown accounts never match"
        );
        assert!(!hasher.verify("x", Some("not a phc string")).await);
        assert!(!hasher.needs_rehash(&phc));
    }

    #[tokio::test]
    async fn raised_parameters_ask_for_a_rehash_and_weak_ones_are_raised_to_the_floor() {
        let weak = PasswordHasher::new(
            HashParams {
                memory_kib: 8,
                iterations: 1,
                parallelism: 1,
            },
            1,
        );
        let phc = weak.hash("pw").await.unwrap();
        assert!(phc.contains("m=19456,t=2"), "the floor applies: {phc}");
        let stronger = PasswordHasher::new(
            HashParams {
                memory_kib: 24_576,
                iterations: 3,
                parallelism: 1,
            },
            1,
        );
        assert!(stronger.needs_rehash(&phc));
        assert!(
            stronger.verify("pw", Some(&phc)).await,
            "old hashes still verify"
        );
    }
}
