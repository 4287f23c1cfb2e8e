//! P1–P3 (design/performance.md), measured side by side in one run, for both backends:
//!
//! * P1 — lock-side first unlock (M1 → M2, M3 → checks, issuer + holder verify → M4) as a ratio
//!   to the primitives it must do: ECDH, sign, 2 verifies, 3 AEAD ops, HKDF. Bar ≤ 1.10×.
//! * P2 — the same for a cached unlock (no issuer verify, no credential transfer). Bar ≤ 1.10×.
//! * P3 — credential decode plus every non-signature check, as a ratio to one P-256 verify.
//!   Bar ≤ 0.02×.
//!
//! The ephemeral key pair is precomputed outside the timed region (the lock makes it while
//! idle). Criterion reports each item; the ratios come from an interleaved median-of-rounds
//! measurement at the end (noisy 2-core machines: only ratios from one run are meaningful) and
//! are the last lines printed. `LATCHKEY_BENCH_QUICK=1` skips the criterion part.
//!
//! Run: `CARGO_TARGET_DIR=target-protocol cargo bench -p latchkey-protocol --bench unlock`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use criterion::{BatchSize, Criterion};
use latchkey_protocol::bounded::Bounded;
use latchkey_protocol::checks::{self, LockView};
use latchkey_protocol::credential::{self, Claims, Credential, Window};
use latchkey_protocol::crypto::{
    Crypto, LocalSigner, PublicKey, RingCrypto, SecretScalar, SoftwareCrypto, kid8,
};
use latchkey_protocol::crypto::{Signature, Signer};
use latchkey_protocol::error::Error;
use latchkey_protocol::handshake::{
    self, Command, CredentialRef, EphemeralKeyPair, LockHello, M3Request, M4,
};
use latchkey_protocol::ids::{Id16, Kid8, Operation};
use std::cell::OnceCell;
use std::hint::black_box;
use std::time::Instant;

const SITE: Id16 = [0x5a; 16];
const LOCK_ID: Id16 = [0x1c; 16];
const CID: Id16 = [0xc1; 16];
const NOW: u32 = 1_795_910_400;

fn scalar(k: u8) -> SecretScalar {
    let mut b = [k; 32];
    b[0] = 1;
    SecretScalar::from_bytes(b)
}

/// Everything the lock receives in one first and one cached unlock, prepared once.
struct Fixture<'c, C: Crypto> {
    c: &'c C,
    lock_key: StableSigner<'c, C>,
    issuer_pub: PublicKey,
    trusted: [Kid8; 1],
    hello: LockHello,
    m1: Vec<u8>,
    m3_full: Vec<u8>,
    m3_cached: Vec<u8>,
    cached_claims: Claims,
    credential: Vec<u8>,
    phone_eph_pub: PublicKey,
    m3_full_body: usize,
    m3_cached_body: usize,
    /// Pre-sealed ciphertexts for AEAD-open timing: (length, ciphertext, tag).
    sealed: Vec<(usize, Vec<u8>, [u8; 16])>,
    holder_pub: PublicKey,
    holder_sig: [u8; 64],
}

/// Signs with the backend on every call (so the cost is real) but always returns the first
/// signature it made: ring's ECDSA is randomized, and a fixed M2 lets one pre-sealed M3 (whose
/// holder signature covers M2) serve every iteration. Every call signs the same TH2.
struct StableSigner<'c, C: Crypto> {
    inner: LocalSigner<'c, C>,
    first: OnceCell<Signature>,
}

impl<C: Crypto> Signer for StableSigner<'_, C> {
    fn public_key(&self) -> &PublicKey {
        self.inner.public_key()
    }
    fn sign(&self, msg: &[u8]) -> Result<Signature, Error> {
        let sig = self.inner.sign(msg)?;
        Ok(*self.first.get_or_init(|| sig))
    }
}

const LOCK_EPH: u8 = 0x88;
const PHONE_EPH: u8 = 0x77;

impl<'c, C: Crypto> Fixture<'c, C> {
    fn new(c: &'c C) -> Self {
        let issuer = LocalSigner::new(c, scalar(0x11)).unwrap();
        let holder = LocalSigner::new(c, scalar(0x33)).unwrap();
        let lock_key = StableSigner {
            inner: LocalSigner::new(c, scalar(0x22)).unwrap(),
            first: OnceCell::new(),
        };
        let issuer_pub = c.public_key(&scalar(0x11)).unwrap();
        let claims = Claims {
            cid: CID,
            site: SITE,
            locks: Bounded::from_slice(&[LOCK_ID]).unwrap(),
            uid: 4242,
            holder: c.public_key(&scalar(0x33)).unwrap(),
            iat: NOW - 86_400,
            nbf: NOW - 86_400,
            exp: NOW + 6 * 86_400,
            epoch: 7,
            rights: 0b11,
            user_type: 0,
            windows: Bounded::from_slice(&[Window {
                start: NOW - 86_400,
                end: NOW + 86_400,
            }])
            .unwrap(),
            max_uses: None,
            flags: 0,
        };
        let mut cbuf = [0u8; credential::MAX_CREDENTIAL_LEN];
        let n = credential::issue(c, &issuer, &claims, &mut cbuf).unwrap();
        let credential = cbuf[..n].to_vec();
        let hello = LockHello {
            lock_id: LOCK_ID,
            rev_ver: 1,
            lock_time: NOW,
            status: handshake::STATUS_TIME_TRUSTED,
            cfg_ver: 1,
        };
        let command = Command {
            op: Operation::Unlock,
            param: 0,
            cmd_id: 1,
        };
        let lock_pub = c.public_key(&scalar(0x22)).unwrap();
        // Deterministic lock ephemeral and nonce: every iteration rebuilds the same session, so
        // one M3 per kind, sealed by the phone once, is valid for all of them.
        let seal = |cred: CredentialRef<'_>| -> (Vec<u8>, Vec<u8>) {
            let phone = handshake::initiate(
                EphemeralKeyPair::new(c, scalar(PHONE_EPH)).unwrap(),
                [1; 16],
                0,
            )
            .unwrap();
            let m1 = phone.m1().to_vec();
            let mut m2 = [0u8; handshake::M2_LEN];
            handshake::respond(
                c,
                &m1,
                EphemeralKeyPair::new(c, scalar(LOCK_EPH)).unwrap(),
                [2; 16],
                &hello,
                &lock_key,
                &mut m2,
            )
            .unwrap();
            let mut session = phone.on_m2(c, &m2, |_| Some(lock_pub)).unwrap();
            let req = M3Request {
                credential: cred,
                cid: CID,
                command,
                revocation: None,
                time_token: None,
                log_ack: None,
            };
            let mut out = [0u8; 1024];
            let n = session.seal_m3(c, &holder, &req, &mut out).unwrap();
            (m1, out[..n].to_vec())
        };
        let (m1, m3_full) = seal(CredentialRef::Full(&credential));
        let (_, m3_cached) = seal(CredentialRef::Cached(CID));
        let sealed = [m3_full.len() - 17, m3_cached.len() - 17]
            .iter()
            .map(|&n| {
                let mut ct = vec![0u8; n];
                let tag = c.aead_seal(&[1; 16], &[2; 12], &[3], &mut ct).unwrap();
                (n, ct, tag)
            })
            .collect();
        let holder_sig = c.ecdsa_sign(&scalar(0x33), &[5u8; 32]).unwrap();
        Fixture {
            sealed,
            holder_pub: c.public_key(&scalar(0x33)).unwrap(),
            holder_sig,
            c,
            trusted: [kid8(c, &issuer_pub)],
            issuer_pub,
            lock_key,
            hello,
            m1,
            m3_full_body: m3_full.len() - 17,
            m3_cached_body: m3_cached.len() - 17,
            m3_full,
            m3_cached,
            cached_claims: claims,
            credential,
            phone_eph_pub: c.public_key(&scalar(PHONE_EPH)).unwrap(),
        }
    }

    fn view(&self) -> LockView<'_> {
        LockView {
            site: SITE,
            lock_id: LOCK_ID,
            trusted_issuers: &self.trusted,
            now: NOW,
            time_trusted: true,
            revocation: None,
            revocation_fresh: true,
        }
    }

    fn ephemeral(&self) -> EphemeralKeyPair {
        EphemeralKeyPair::new(self.c, scalar(LOCK_EPH)).unwrap()
    }

    /// The lock's whole first unlock after M1 arrives (P1).
    fn first_unlock(&self, eph: EphemeralKeyPair) -> u8 {
        let c = self.c;
        let mut m2 = [0u8; handshake::M2_LEN];
        let mut s = handshake::respond(
            c,
            &self.m1,
            eph,
            [2; 16],
            &self.hello,
            &self.lock_key,
            &mut m2,
        )
        .unwrap();
        let mut buf = [0u8; 1024];
        let m3 = s.open_m3(c, &self.m3_full, &mut buf).unwrap();
        let CredentialRef::Full(bytes) = m3.credential else {
            panic!("full")
        };
        let (cred, claims) = Credential::decode(bytes).unwrap();
        checks::check_claims(&claims, &cred.envelope.kid, m3.command.op, &self.view()).unwrap();
        cred.verify_issuer(c, &self.issuer_pub).unwrap();
        s.verify_holder(c, &claims.holder, &claims.cid, &m3.command, &m3.holder_sig)
            .unwrap();
        let cache_key = cred.hash(c);
        let mut m4 = [0u8; 64];
        let n = s
            .seal_m4(
                c,
                &M4 {
                    result: 0,
                    event_seq: 1,
                    lock_state: 2,
                    needs: 0,
                    batch: None,
                },
                &mut m4,
            )
            .unwrap();
        cache_key[0] ^ m4[n - 1]
    }

    /// The lock's cached unlock (P2): claims come from the verified-credential cache.
    fn cached_unlock(&self, eph: EphemeralKeyPair) -> u8 {
        let c = self.c;
        let mut m2 = [0u8; handshake::M2_LEN];
        let mut s = handshake::respond(
            c,
            &self.m1,
            eph,
            [2; 16],
            &self.hello,
            &self.lock_key,
            &mut m2,
        )
        .unwrap();
        let mut buf = [0u8; 1024];
        let m3 = s.open_m3(c, &self.m3_cached, &mut buf).unwrap();
        let CredentialRef::Cached(cid) = m3.credential else {
            panic!("cached")
        };
        let claims = &self.cached_claims;
        assert_eq!(cid, claims.cid);
        checks::check_claims(claims, &self.trusted[0], m3.command.op, &self.view()).unwrap();
        s.verify_holder(c, &claims.holder, &claims.cid, &m3.command, &m3.holder_sig)
            .unwrap();
        let mut m4 = [0u8; 64];
        let n = s
            .seal_m4(
                c,
                &M4 {
                    result: 0,
                    event_seq: 1,
                    lock_state: 2,
                    needs: 0,
                    batch: None,
                },
                &mut m4,
            )
            .unwrap();
        m4[n - 1]
    }

    /// P3 numerator: decode the credential and run every non-signature check.
    fn decode_and_check(&self) {
        let (cred, claims) = Credential::decode(black_box(&self.credential)).unwrap();
        checks::check_claims(&claims, &cred.envelope.kid, Operation::Unlock, &self.view()).unwrap();
    }

    fn verify_issuer(&self) {
        let (cred, _) = Credential::decode(&self.credential).unwrap();
        cred.verify_issuer(self.c, black_box(&self.issuer_pub))
            .unwrap();
    }
}

/// One primitive operation as the lock performs it in a handshake.
#[derive(Clone, Copy)]
enum Prim {
    Ecdh,
    Sign,
    /// Issuer verify of the credential (Sig_structure over the claims).
    VerifyIssuer,
    /// Holder verify of a 32-byte transcript hash.
    VerifyHolder,
    AeadSeal(usize),
    AeadOpen(usize),
    Hkdf,
}

fn primitive<C: Crypto>(f: &Fixture<'_, C>, p: Prim) {
    let c = f.c;
    match p {
        Prim::Ecdh => {
            black_box(c.ecdh(&scalar(LOCK_EPH), &f.phone_eph_pub).unwrap());
        }
        Prim::Sign => {
            black_box(c.ecdsa_sign(&scalar(0x22), &[7u8; 45]).unwrap());
        }
        Prim::VerifyIssuer => f.verify_issuer(),
        Prim::VerifyHolder => c
            .ecdsa_verify(black_box(&f.holder_pub), &[5u8; 32], &f.holder_sig)
            .unwrap(),
        Prim::AeadSeal(n) => {
            let mut buf = [0u8; 1024];
            black_box(
                c.aead_seal(&[1; 16], &[2; 12], &[4], &mut buf[..n])
                    .unwrap(),
            );
        }
        Prim::AeadOpen(n) => {
            // The copy mirrors the lock's own copy of the ciphertext into its plaintext buffer.
            let (_, ct, tag) = f.sealed.iter().find(|(len, _, _)| *len == n).unwrap();
            let mut buf = [0u8; 1024];
            buf[..n].copy_from_slice(ct);
            c.aead_open(&[1; 16], &[2; 12], &[3], &mut buf[..n], tag)
                .unwrap();
            black_box(buf);
        }
        Prim::Hkdf => {
            let prk = c.hkdf_extract(&[9; 32], &[8; 32]);
            let mut okm = [0u8; 28];
            c.hkdf_expand(&prk, &[b"lk p2l"], &mut okm).unwrap();
            c.hkdf_expand(&prk, &[b"lk l2p"], &mut okm).unwrap();
            black_box(okm);
        }
    }
}

fn p1_primitives<C: Crypto>(f: &Fixture<'_, C>) -> Vec<Prim> {
    vec![
        Prim::Ecdh,
        Prim::Sign,
        Prim::VerifyIssuer,
        Prim::VerifyHolder,
        Prim::AeadSeal(64),
        Prim::AeadOpen(f.m3_full_body),
        Prim::AeadSeal(9),
        Prim::Hkdf,
    ]
}

fn p2_primitives<C: Crypto>(f: &Fixture<'_, C>) -> Vec<Prim> {
    vec![
        Prim::Ecdh,
        Prim::Sign,
        Prim::VerifyHolder,
        Prim::AeadSeal(64),
        Prim::AeadOpen(f.m3_cached_body),
        Prim::AeadSeal(9),
        Prim::Hkdf,
    ]
}

/// Time one call (ns); cheap operations are timed as a batch of `iters` and divided.
fn sample(samples: &mut Vec<f64>, iters: u32, run: impl Fn()) {
    let t = Instant::now();
    for _ in 0..iters {
        run();
    }
    samples.push(t.elapsed().as_nanos() as f64 / f64::from(iters));
}

/// 10th percentile: on a shared 2-core machine a sample is only ever slowed down (preemption),
/// and long samples are preempted more often than short ones, so a median would bias the
/// ratio against the longer workload. A low percentile estimates every workload's unloaded
/// cost the same way.
fn p10(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 10]
}

fn criterion_items<C: Crypto>(crit: &mut Criterion, name: &str, f: &Fixture<'_, C>) {
    let mut g = crit.benchmark_group(name);
    g.sample_size(20);
    g.warm_up_time(std::time::Duration::from_secs(1));
    g.measurement_time(std::time::Duration::from_secs(2));
    g.bench_function("p1_lock_first_unlock", |b| {
        b.iter_batched(
            || f.ephemeral(),
            |e| f.first_unlock(e),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("p2_lock_cached_unlock", |b| {
        b.iter_batched(
            || f.ephemeral(),
            |e| f.cached_unlock(e),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("p3_decode_and_checks", |b| b.iter(|| f.decode_and_check()));
    g.bench_function("ecdh", |b| b.iter(|| primitive(f, Prim::Ecdh)));
    g.bench_function("sign", |b| b.iter(|| primitive(f, Prim::Sign)));
    g.bench_function("verify_credential", |b| {
        b.iter(|| primitive(f, Prim::VerifyIssuer))
    });
    g.bench_function("verify_holder", |b| {
        b.iter(|| primitive(f, Prim::VerifyHolder))
    });
    g.bench_function("aead_seal_64", |b| {
        b.iter(|| primitive(f, Prim::AeadSeal(64)))
    });
    g.bench_function("hkdf_extract_2x_expand", |b| {
        b.iter(|| primitive(f, Prim::Hkdf))
    });
    g.finish();
}

/// Interleaved measurement of P1–P3 for one backend; returns the report lines.
fn ratios<C: Crypto>(name: &str, f: &Fixture<'_, C>) -> Vec<String> {
    const ROUNDS: usize = 60;
    let p1 = p1_primitives(f);
    let p2 = p2_primitives(f);
    let prims: Vec<Prim> = p1.iter().chain(p2.iter()).copied().collect();
    // slots: 0 P1, 1 P2, 2 decode+checks, 3.. primitives
    let mut samples = vec![Vec::new(); 3 + prims.len()];
    for _ in 0..ROUNDS {
        let e = f.ephemeral();
        let t = Instant::now();
        black_box(f.first_unlock(e));
        samples[0].push(t.elapsed().as_nanos() as f64);
        let e = f.ephemeral();
        let t = Instant::now();
        black_box(f.cached_unlock(e));
        samples[1].push(t.elapsed().as_nanos() as f64);
        sample(&mut samples[2], 200, || f.decode_and_check());
        for (i, p) in prims.iter().enumerate() {
            let iters = match p {
                Prim::AeadSeal(_) | Prim::AeadOpen(_) | Prim::Hkdf => 200,
                _ => 1,
            };
            sample(&mut samples[3 + i], iters, || primitive(f, *p));
        }
    }
    let m: Vec<f64> = samples.iter_mut().map(|r| p10(r)).collect();
    let sum = |range: std::ops::Range<usize>| -> f64 { range.map(|i| m[3 + i]).sum() };
    let p1_sum = sum(0..p1.len());
    let p2_sum = sum(p1.len()..p1.len() + p2.len());
    let verify = m[3 + 2];
    let us = |ns: f64| ns / 1000.0;
    vec![
        format!(
            "{name}: ecdh {:.1} µs, sign {:.1} µs, verify {:.1} µs, hkdf {:.2} µs",
            us(m[3]),
            us(m[4]),
            us(verify),
            us(m[3 + 7])
        ),
        format!(
            "P1 {name}: lock-side first unlock {:.1} µs / primitives {:.1} µs = {:.3}x (bar <= 1.10x)",
            us(m[0]),
            us(p1_sum),
            m[0] / p1_sum
        ),
        format!(
            "P2 {name}: lock-side cached unlock {:.1} µs / primitives {:.1} µs = {:.3}x (bar <= 1.10x)",
            us(m[1]),
            us(p2_sum),
            m[1] / p2_sum
        ),
        format!(
            "P3 {name}: decode + checks {:.3} µs / one verify {:.1} µs = {:.4}x (bar <= 0.02x)",
            us(m[2]),
            us(verify),
            m[2] / verify
        ),
    ]
}

fn main() {
    let sw = Fixture::new(&SoftwareCrypto);
    let ring = Fixture::new(&RingCrypto);
    if std::env::var_os("LATCHKEY_BENCH_QUICK").is_none() {
        let mut crit = Criterion::default().configure_from_args();
        criterion_items(&mut crit, "software", &sw);
        criterion_items(&mut crit, "ring", &ring);
        crit.final_summary();
    }
    let mut report = ratios("ring", &ring);
    report.extend(ratios("software", &sw));
    println!();
    for line in report {
        println!("{line}");
    }
}
