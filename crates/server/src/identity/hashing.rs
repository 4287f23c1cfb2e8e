//! Password hashing: Argon2id at or above the OWASP floor (m = 19 456 KiB, t = 2, p = 1; ASVS 5.0
//! 11.4.2), PHC strings, rehash when the parameters rise, and every hash on a blocking thread
//! behind a small semaphore — m × concurrent hashes is memory an attacker could otherwise demand.
//!
//! The working memory (m KiB per hash) is allocated once per permit and reused. Allocating and
//! freeing 19 MiB per hash let the allocator keep a copy in every blocking thread's arena, so
//! resident memory grew with the number of threads that had ever hashed (≈ 370 MiB after a
//! sign-in burst on 2 cores), not with the number of hashes running at once.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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
    /// Working memory for Argon2, one buffer per permit, reused across hashes.
    memory: Arc<std::sync::Mutex<Vec<Vec<Block>>>>,
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

/// Hashes into a PHC string, using `memory` as Argon2's working memory (grown if too small).
fn hash_blocking(
    params: HashParams,
    password: &str,
    memory: &mut Vec<Block>,
) -> Result<String, HashError> {
    let error = |e: argon2::password_hash::Error| HashError(e.to_string());
    let salt = SaltString::generate(&mut OsRng);
    let argon = argon(params)?;
    let mut salt_buffer = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_buffer).map_err(error)?;
    let blocks = working_memory(memory, argon.params().block_count());
    let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
        argon
            .hash_password_into_with_memory(password.as_bytes(), salt_bytes, out, blocks)
            .map_err(Into::into)
    })
    .map_err(error)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon.params()).map_err(error)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// True if `password` matches the PHC string, using `memory` as working memory.
fn verify_blocking(phc: &str, password: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let mut salt_buffer = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_buffer) else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params);
    let blocks = working_memory(memory, argon.params().block_count());
    Output::init_with(expected.len(), |out| {
        argon
            .hash_password_into_with_memory(password.as_bytes(), salt_bytes, out, blocks)
            .map_err(Into::into)
    })
    // `Output` compares in constant time.
    .is_ok_and(|computed| computed == expected)
}

/// The first `blocks` blocks of `memory`, growing it once if a hash needs more.
fn working_memory(memory: &mut Vec<Block>, blocks: usize) -> &mut [Block] {
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    memory.get_mut(..blocks).unwrap_or_default()
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
        let mut memory = Vec::new();
        let dummy_hash = hash_blocking(params, &uuid::Uuid::new_v4().to_string(), &mut memory).unwrap_or_else(|_| {
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Ls7tGd3FqGvXWZbZ0S3mcCgEQ1kvHSyHbGG+c4uXPbQ".into()
        });
        Self {
            params,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy_hash: dummy_hash.into(),
            real_verifications: Arc::default(),
            // The start-up hash's buffer is dropped, not pooled: an idle server holds no working
            // memory; buffers appear with the first sign-ins and are reused from then on.
            memory: Arc::default(),
        }
    }

    /// Runs `work` on a blocking thread with a working-memory buffer, returning the buffer to
    /// the pool afterwards. Callers hold a permit, so at most `concurrency` buffers exist.
    async fn with_memory<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Option<T> {
        let pool = self.memory.clone();
        let mut buffer = pool
            .lock()
            .ok()
            .and_then(|mut buffers| buffers.pop())
            .unwrap_or_default();
        let (result, buffer) = tokio::task::spawn_blocking(move || {
            let result = work(&mut buffer);
            (result, buffer)
        })
        .await
        .ok()?;
        if let Ok(mut buffers) = pool.lock() {
            buffers.push(buffer);
        }
        Some(result)
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
        self.with_memory(move |memory| hash_blocking(params, &password, memory))
            .await
            .unwrap_or_else(|| Err(HashError("the hashing task failed".into())))
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
        let matched = self
            .with_memory(move |memory| verify_blocking(&phc, &password, memory))
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
    async fn pooled_hashing_is_interchangeable_with_the_reference_implementation() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let hasher = PasswordHasher::new(HashParams::default(), 2);
        let ours = hasher.hash("tangerine quarry").await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"tangerine quarry", &parsed)
                .is_ok()
        );
        let salt = SaltString::generate(&mut OsRng);
        let reference = argon(HashParams::default())
            .unwrap()
            .hash_password(b"tangerine quarry", &salt)
            .unwrap()
            .to_string();
        assert!(hasher.verify("tangerine quarry", Some(&reference)).await);
        assert!(!hasher.verify("tangerine quarrx", Some(&reference)).await);
        // Concurrent use never holds more buffers than permits.
        let runs: Vec<_> = (0..6)
            .map(|_| {
                let hasher = hasher.clone();
                let ours = ours.clone();
                tokio::spawn(async move { hasher.verify("tangerine quarry", Some(&ours)).await })
            })
            .collect();
        for run in runs {
            assert!(run.await.unwrap());
        }
        assert!(hasher.memory.lock().unwrap().len() <= 2);
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
