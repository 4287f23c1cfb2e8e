//! P1/P2 (design/performance.md) through the whole lock core on the simulated board: the
//! lock's work from the first M1 frame to M4 (reassembly, handshake, checks, signatures,
//! simulated flash writes, event log, sealed log batch in M4), against the primitives it must
//! perform, measured interleaved in one run (10th percentile per workload; see the protocol
//! crate's bench for why).
//!
//! Every M4 hands the phone a sealed log batch. The lock seals it while idle (`tick`, untimed
//! here, like the ephemeral key), so its checkpoint signature is off the unlock path.
//!
//! Run: `CARGO_TARGET_DIR=target-protocol cargo bench -p latchkey-lock --bench lock_unlock`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use latchkey_lock::LockCore;
use latchkey_lock::machine::{Board, factory_provision};
use latchkey_lock::sim::{SimActuator, SimClock, SimEntropy, SimFlash};
use latchkey_protocol::bounded::Bounded;
use latchkey_protocol::claim::{ClaimBundle, claim_proof};
use latchkey_protocol::credential::{self, Claims, Credential};
use latchkey_protocol::crypto::{Crypto, LocalSigner, PublicKey, SecretScalar, SoftwareCrypto};
use latchkey_protocol::framing::{self, MAX_MESSAGE_LEN};
use latchkey_protocol::handshake::{self, Command, CredentialRef, EphemeralKeyPair, M3Request};
use latchkey_protocol::ids::{Id16, Operation};
use std::hint::black_box;
use std::time::Instant;

const C: SoftwareCrypto = SoftwareCrypto;
const SITE: Id16 = [0x5a; 16];
const NOW: u32 = 1_795_910_400;
const DAY: u32 = 86_400;

type Lock = LockCore<SimFlash, SimClock, SimActuator, SimEntropy, SoftwareCrypto>;

fn scalar(k: u8) -> SecretScalar {
    let mut b = [k; 32];
    b[0] = 1;
    SecretScalar::from_bytes(b)
}

fn public(k: u8) -> PublicKey {
    C.public_key(&scalar(k)).unwrap()
}

fn frames(msg: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut f = framing::fragment(msg, 247).unwrap();
    let mut buf = [0u8; 256];
    while let Some(n) = f.next_into(&mut buf) {
        out.push(buf[..n.unwrap()].to_vec());
    }
    out
}

fn deliver(lock: &mut Lock, fs: &[Vec<u8>]) -> Vec<u8> {
    let mut reply = None;
    for f in fs {
        if let Some(r) = lock.on_frame(f).unwrap() {
            reply = Some(r.to_vec());
        }
    }
    reply.unwrap()
}

/// Entropy position from which the lock draws the same ephemeral key and nonce every time, so
/// one M3 sealed by the phone stays valid for every iteration.
const ENTROPY_AT: u64 = 1 << 40;

struct Fixture {
    lock: Lock,
    m1: Vec<Vec<u8>>,
    m3_full: Vec<Vec<u8>>,
    m3_cached: Vec<Vec<u8>>,
    credential: Vec<u8>,
    holder_sig_msg: [u8; 32],
}

impl Fixture {
    fn new() -> Self {
        let mut flash = SimFlash::default();
        let mut entropy = SimEntropy::default();
        let secret = factory_provision(&mut flash, &mut entropy, &C).unwrap();
        let clock = SimClock {
            rtc: Some(NOW),
            ..SimClock::default()
        };
        let board = Board {
            flash,
            clock,
            actuator: SimActuator::default(),
            entropy,
        };
        let mut lock = LockCore::power_on(board, C, NOW - DAY).unwrap();
        let nonce = lock.button_pressed().unwrap();
        let issuer = LocalSigner::new(&C, scalar(0x11)).unwrap();
        let bundle = ClaimBundle {
            lock_id: *lock.lock_id(),
            site: SITE,
            issuers: Bounded::from_slice(&[public(0x11)]).unwrap(),
            time_command_key: public(0x44),
            cloud_log_key: public(0x55),
            ack_key: public(0x66),
            cfg_ver: 1,
            utc_ms: u64::from(NOW) * 1000,
        };
        let mut buf = [0u8; 400];
        let n = bundle.sign(&C, &issuer, &mut buf).unwrap();
        lock.claim(
            &buf[..n],
            &claim_proof(&C, &secret, &nonce, &buf[..n]).unwrap(),
        )
        .unwrap();
        let claims = Claims {
            cid: [0xc1; 16],
            site: SITE,
            locks: Bounded::from_slice(&[*lock.lock_id()]).unwrap(),
            uid: 1,
            holder: public(0x33),
            iat: NOW - DAY,
            nbf: NOW - DAY,
            exp: NOW + 6 * DAY,
            epoch: 1,
            rights: 0b11,
            user_type: 0,
            windows: Bounded::new(),
            max_uses: None,
            flags: 0,
        };
        let mut cbuf = [0u8; credential::MAX_CREDENTIAL_LEN];
        let n = credential::issue(&C, &issuer, &claims, &mut cbuf).unwrap();
        let credential = cbuf[..n].to_vec();
        let holder = LocalSigner::new(&C, scalar(0x33)).unwrap();
        let lock_pub = lock.identity_public().unwrap();
        let mut f = Fixture {
            lock,
            m1: Vec::new(),
            m3_full: Vec::new(),
            m3_cached: Vec::new(),
            credential,
            holder_sig_msg: [5; 32],
        };
        // Warm up: one unlock so the log is pending and the credential cached (steady state).
        for cached in [false, false, true] {
            f.prime();
            let phone =
                handshake::initiate(EphemeralKeyPair::new(&C, scalar(0x77)).unwrap(), [1; 16], 0)
                    .unwrap();
            let m1 = frames(phone.m1());
            let m2 = deliver(&mut f.lock, &m1);
            let mut session = phone.on_m2(&C, &m2, |_| Some(lock_pub)).unwrap();
            let req = M3Request {
                credential: if cached {
                    CredentialRef::Cached(claims.cid)
                } else {
                    CredentialRef::Full(&f.credential)
                },
                cid: claims.cid,
                command: Command {
                    op: Operation::Unlock,
                    param: 0,
                    cmd_id: 1,
                },
                revocation: None,
                time_token: None,
                log_ack: None,
            };
            let mut out = [0u8; MAX_MESSAGE_LEN];
            let n = session.seal_m3(&C, &holder, &req, &mut out).unwrap();
            let m3 = frames(&out[..n]);
            deliver(&mut f.lock, &m3);
            f.m1 = m1;
            if cached {
                f.m3_cached = m3;
            } else {
                f.m3_full = m3;
            }
        }
        f
    }

    /// Untimed: rewind entropy and precompute the ephemeral key, as the lock does while idle.
    fn prime(&mut self) {
        self.lock.board.entropy.counter = ENTROPY_AT;
        self.lock.tick().unwrap();
    }

    fn unlock(&mut self, cached: bool) {
        deliver(&mut self.lock, &self.m1);
        let m3 = if cached {
            &self.m3_cached
        } else {
            &self.m3_full
        };
        black_box(deliver(&mut self.lock, m3));
    }
}

fn time<T>(f: impl FnOnce() -> T) -> f64 {
    let t = Instant::now();
    black_box(f());
    t.elapsed().as_nanos() as f64
}

fn p10(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 10]
}

fn main() {
    let mut f = Fixture::new();
    let credential = f.credential.clone();
    let (cred, _) = Credential::decode(&credential).unwrap();
    let sig_msg = f.holder_sig_msg;
    let issuer = public(0x11);
    let holder = public(0x33);
    let holder_sig = C.ecdsa_sign(&scalar(0x33), &sig_msg).unwrap();
    let eph = scalar(0x88);
    let peer = public(0x77);
    let mut s: Vec<Vec<f64>> = vec![Vec::new(); 8];
    for _ in 0..60 {
        f.prime();
        s[0].push(time(|| f.unlock(false)));
        f.prime();
        s[1].push(time(|| f.unlock(true)));
        s[2].push(time(|| C.ecdh(&eph, &peer).unwrap()));
        s[3].push(time(|| C.ecdsa_sign(&scalar(0x22), &[7u8; 45]).unwrap()));
        s[4].push(time(|| cred.verify_issuer(&C, &issuer).unwrap()));
        s[5].push(time(|| {
            C.ecdsa_verify(&holder, &sig_msg, &holder_sig).unwrap()
        }));
        s[6].push(
            time(|| {
                for _ in 0..100 {
                    let mut buf = [0u8; 600];
                    black_box(C.aead_seal(&[1; 16], &[2; 12], &[3], &mut buf).unwrap());
                }
            }) / 100.0,
        );
        s[7].push(
            time(|| {
                for _ in 0..100 {
                    let prk = C.hkdf_extract(&[9; 32], &[8; 32]);
                    let mut okm = [0u8; 28];
                    C.hkdf_expand(&prk, &[b"lk p2l"], &mut okm).unwrap();
                    C.hkdf_expand(&prk, &[b"lk l2p"], &mut okm).unwrap();
                }
            }) / 100.0,
        );
    }
    let m: Vec<f64> = s.iter_mut().map(|v| p10(v)).collect();
    let (first, cached, ecdh, sign, v_iss, v_hold, aead600, hkdf) =
        (m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]);
    // Three AEAD operations per handshake, bounded above by three 600-byte seals.
    let aead = 3.0 * aead600;
    let p1 = ecdh + sign + v_iss + v_hold + aead + hkdf;
    let p2 = ecdh + sign + v_hold + aead + hkdf;
    let us = |x: f64| x / 1000.0;
    println!(
        "software: ecdh {:.1} µs, sign {:.1} µs, verify {:.1}/{:.1} µs, 3 AEAD {:.2} µs, hkdf {:.2} µs",
        us(ecdh),
        us(sign),
        us(v_iss),
        us(v_hold),
        us(aead),
        us(hkdf)
    );
    // RAM: the core is no_std without an allocator, so its whole state is this one value (plus
    // stack buffers of at most a few KiB per call: message, reassembly and batch buffers).
    println!(
        "lock core state: {} bytes (static; no heap)",
        std::mem::size_of::<Lock>()
    );
    println!(
        "P1 lock core: first unlock {:.1} µs / primitives {:.1} µs = {:.3}x (bar <= 1.10x)",
        us(first),
        us(p1),
        first / p1
    );
    println!(
        "P2 lock core: cached unlock {:.1} µs / primitives {:.1} µs = {:.3}x (bar <= 1.10x)",
        us(cached),
        us(p2),
        cached / p2
    );
}
