//! Lock core integration tests (one binary): a simulated phone talks to the lock core over
//! BLE framing, offline, with a simulated board.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use latchkey_lock::machine::{Board, LOG_CAPACITY, WRONG_ATTEMPT_LIMIT, factory_provision};
use latchkey_lock::platform::{Bolt, Slot};
use latchkey_lock::sim::{SimActuator, SimClock, SimEntropy, SimFlash};
use latchkey_lock::{ClaimRefusal, LockCore};
use latchkey_protocol::bounded::Bounded;
use latchkey_protocol::checks::Refusal;
use latchkey_protocol::claim::{ClaimBundle, claim_proof};
use latchkey_protocol::credential::{self, Claims, Window};
use latchkey_protocol::crypto::{Crypto, LocalSigner, PublicKey, SecretScalar, SoftwareCrypto};
use latchkey_protocol::framing::{self, MAX_MESSAGE_LEN, Reassembler};
use latchkey_protocol::handshake::{self, Command, CredentialRef, EphemeralKeyPair, M3Request};
use latchkey_protocol::ids::{Id16, Operation};
use latchkey_protocol::log::{self, ChainCursor, ChainStep, LogAck};
use latchkey_protocol::remote_command::RemoteCommand;
use latchkey_protocol::revocation::{DenyEntry, RevocationList};
use latchkey_protocol::time_token::TimeToken;

const C: SoftwareCrypto = SoftwareCrypto;
const SITE: Id16 = [0x5a; 16];
const NOW: u32 = 1_795_910_400;
const DAY: u32 = 86_400;
const BUILD_TIME: u32 = NOW - 30 * DAY;

type Lock = LockCore<SimFlash, SimClock, SimActuator, SimEntropy, SoftwareCrypto>;

fn scalar(k: u8) -> SecretScalar {
    let mut b = [k; 32];
    b[0] = 1;
    SecretScalar::from_bytes(b)
}

fn key(k: u8) -> LocalSigner<'static, SoftwareCrypto> {
    LocalSigner::new(&C, scalar(k)).unwrap()
}

fn public(k: u8) -> PublicKey {
    C.public_key(&scalar(k)).unwrap()
}

const ISSUER: u8 = 0x11;
const TIME_CMD: u8 = 0x44;
const CLOUD_LOG: u8 = 0x55;
const ACK: u8 = 0x66;

/// A factory-fresh lock on a simulated board whose RTC shows NOW.
fn fresh_lock() -> (Lock, [u8; 16]) {
    let mut flash = SimFlash::default();
    let mut entropy = SimEntropy::default();
    let secret = factory_provision(&mut flash, &mut entropy, &C).unwrap();
    let mut clock = SimClock::default();
    clock.set_rtc_for_test(NOW);
    let board = Board {
        flash,
        clock,
        actuator: SimActuator::default(),
        entropy,
    };
    (LockCore::power_on(board, C, BUILD_TIME).unwrap(), secret)
}

trait ClockExt {
    fn set_rtc_for_test(&mut self, secs: u32);
}

impl ClockExt for SimClock {
    fn set_rtc_for_test(&mut self, secs: u32) {
        self.rtc = Some(secs);
        self.rtc_set_at_ms = self.uptime_ms;
    }
}

fn bundle_for(lock_id: Id16) -> Vec<u8> {
    let bundle = ClaimBundle {
        lock_id,
        site: SITE,
        issuers: Bounded::from_slice(&[public(ISSUER)]).unwrap(),
        time_command_key: public(TIME_CMD),
        cloud_log_key: public(CLOUD_LOG),
        ack_key: public(ACK),
        cfg_ver: 1,
        utc_ms: u64::from(NOW) * 1000,
    };
    let mut buf = [0u8; 400];
    let n = bundle.sign(&C, &key(ISSUER), &mut buf).unwrap();
    buf[..n].to_vec()
}

fn claimed_lock() -> Lock {
    let (mut lock, secret) = fresh_lock();
    let nonce = lock.button_pressed().unwrap();
    let bundle = bundle_for(*lock.lock_id());
    let proof = claim_proof(&C, &secret, &nonce, &bundle).unwrap();
    lock.claim(&bundle, &proof).unwrap();
    lock
}

/// A phone holding one credential for `holder` key id.
struct Phone {
    holder: u8,
    claims: Claims,
    credential: Vec<u8>,
    seed: u8,
}

impl Phone {
    fn new(lock: &Lock, holder: u8, cid_byte: u8) -> Self {
        let claims = Claims {
            cid: [cid_byte; 16],
            site: SITE,
            locks: Bounded::from_slice(&[*lock.lock_id()]).unwrap(),
            uid: 1000 + u32::from(cid_byte),
            holder: public(holder),
            iat: NOW - DAY,
            nbf: NOW - DAY,
            exp: NOW + 6 * DAY,
            epoch: 1,
            rights: 0b111,
            user_type: 0,
            windows: Bounded::new(),
            max_uses: None,
            flags: 0,
        };
        let mut buf = [0u8; credential::MAX_CREDENTIAL_LEN];
        let n = credential::issue(&C, &key(ISSUER), &claims, &mut buf).unwrap();
        Phone {
            holder,
            claims,
            credential: buf[..n].to_vec(),
            seed: cid_byte,
        }
    }
}

/// What the phone hands the lock besides its credential in one session.
#[derive(Default, Clone)]
struct Deliver {
    revocation: Option<Vec<u8>>,
    time_token: bool,
    /// Time the token claims (default NOW).
    time_token_at: Option<u32>,
    log_ack: Option<Vec<u8>>,
}

/// The phone's view of one finished session.
struct Outcome {
    result: u8,
    batch: Option<Vec<u8>>,
    time_trusted_in_m2: bool,
}

/// Send `msg` to the lock frame by frame at `mtu`; return the lock's reply, reassembled.
fn exchange(lock: &mut Lock, msg: &[u8], mtu: usize) -> Vec<u8> {
    let mut frag = framing::fragment(msg, mtu).unwrap();
    let mut frame = [0u8; 256];
    let mut reply = None;
    while let Some(n) = frag.next_into(&mut frame) {
        let n = n.unwrap();
        if let Some(r) = lock.on_frame(&frame[..n]).unwrap() {
            reply = Some(r.to_vec());
        }
    }
    // The lock's reply travels back in frames too.
    let reply = reply.expect("lock replied");
    let mut back = Reassembler::<MAX_MESSAGE_LEN>::new();
    let mut frag = framing::fragment(&reply, mtu).unwrap();
    let mut out = None;
    while let Some(n) = frag.next_into(&mut frame) {
        if let Some(m) = back.push(&frame[..n.unwrap()], 0).unwrap() {
            out = Some(m.to_vec());
        }
    }
    out.unwrap()
}

fn unlock(
    lock: &mut Lock,
    phone: &mut Phone,
    mtu: usize,
    cached: bool,
    op: Operation,
    deliver: &Deliver,
) -> Outcome {
    // Idle time before the phone arrives: the lock precomputes its ephemeral key and log batch.
    lock.tick().unwrap();
    phone.seed = phone.seed.wrapping_add(1);
    let eph = EphemeralKeyPair::new(&C, scalar(0x70 ^ phone.seed)).unwrap();
    let hello = handshake::initiate(eph, [phone.seed; 16], u8::from(cached)).unwrap();
    let m2 = exchange(lock, hello.m1(), mtu);
    let lock_pub = lock.identity_public().unwrap();
    let mut session = hello.on_m2(&C, &m2, |_| Some(lock_pub)).unwrap();
    let time_trusted_in_m2 = session.lock().status & handshake::STATUS_TIME_TRUSTED != 0;
    let token = deliver.time_token.then(|| {
        let t = TimeToken {
            lock_id: *lock.lock_id(),
            nonce: session.lock().nonce,
            utc_ms: u64::from(deliver.time_token_at.unwrap_or(NOW)) * 1000,
        };
        let mut buf = [0u8; 160];
        let n = t.sign(&C, &key(TIME_CMD), &mut buf).unwrap();
        buf[..n].to_vec()
    });
    let command = Command {
        op,
        param: 0,
        cmd_id: u32::from(phone.seed),
    };
    let req = M3Request {
        credential: if cached {
            CredentialRef::Cached(phone.claims.cid)
        } else {
            CredentialRef::Full(&phone.credential)
        },
        cid: phone.claims.cid,
        command,
        revocation: deliver.revocation.as_deref(),
        time_token: token.as_deref(),
        log_ack: deliver.log_ack.as_deref(),
    };
    let mut m3 = [0u8; MAX_MESSAGE_LEN];
    let n = session
        .seal_m3(&C, &key(phone.holder), &req, &mut m3)
        .unwrap();
    let m4 = exchange(lock, &m3[..n], mtu);
    let mut buf = [0u8; MAX_MESSAGE_LEN];
    let m4 = session.open_m4(&C, &m4, &mut buf).unwrap();
    Outcome {
        result: m4.result,
        batch: m4.batch.map(<[u8]>::to_vec),
        time_trusted_in_m2,
    }
}

fn revocation_list(version: u32, deny: &[[u8; 16]]) -> Vec<u8> {
    let mut entries: Vec<DenyEntry> = deny
        .iter()
        .map(|c| DenyEntry {
            cid8: latchkey_protocol::ids::cid8(c),
            exp: NOW + 7 * DAY,
        })
        .collect();
    entries.sort_by_key(|e| e.cid8);
    let list = RevocationList {
        site: SITE,
        version,
        iat: NOW - 60,
        min_epoch: 0,
        deny: Bounded::from_slice(&entries).unwrap(),
        floors: Bounded::new(),
        next_update: Some(NOW + DAY),
    };
    let mut buf = [0u8; 640];
    let n = list.sign(&C, &key(ISSUER), &mut buf).unwrap();
    buf[..n].to_vec()
}

#[test]
fn phone_opens_lock_offline_at_mtu_23_and_247_with_fast_path_second_time() {
    for mtu in [23, 247] {
        let mut lock = claimed_lock();
        let mut phone = Phone::new(&lock, 0x33, 0xc1);
        let first = unlock(
            &mut lock,
            &mut phone,
            mtu,
            false,
            Operation::Unlock,
            &Deliver::default(),
        );
        assert_eq!(first.result, 0, "mtu {mtu}: first unlock");
        assert_eq!(lock.bolt(), Bolt::Unlocked);
        let second = unlock(
            &mut lock,
            &mut phone,
            mtu,
            true,
            Operation::Lock,
            &Deliver::default(),
        );
        assert_eq!(second.result, 0, "mtu {mtu}: fast path");
        assert_eq!(
            lock.board.actuator.moves,
            vec![Bolt::Unlocked, Bolt::Locked]
        );
    }
}

#[test]
fn cached_id_unknown_to_the_lock_is_refused() {
    let mut lock = claimed_lock();
    let mut phone = Phone::new(&lock, 0x33, 0xc1);
    let out = unlock(
        &mut lock,
        &mut phone,
        247,
        true,
        Operation::Unlock,
        &Deliver::default(),
    );
    assert_eq!(out.result, Refusal::NotCached.code());
    assert!(lock.board.actuator.moves.is_empty());
}

#[test]
fn revoked_credential_refused_as_soon_as_a_phone_delivers_the_newer_list() {
    let mut lock = claimed_lock();
    let mut victim = Phone::new(&lock, 0x33, 0xc1);
    let mut courier = Phone::new(&lock, 0x34, 0xc2);
    assert_eq!(
        unlock(
            &mut lock,
            &mut victim,
            247,
            false,
            Operation::Unlock,
            &Deliver::default()
        )
        .result,
        0
    );
    let list = revocation_list(1, &[victim.claims.cid]);
    let d = Deliver {
        revocation: Some(list),
        ..Deliver::default()
    };
    assert_eq!(
        unlock(&mut lock, &mut courier, 247, false, Operation::Lock, &d).result,
        0
    );
    assert_eq!(lock.revocation_version(), 1);
    // Fast path and full path are both refused now.
    assert_eq!(
        unlock(
            &mut lock,
            &mut victim,
            247,
            true,
            Operation::Unlock,
            &Deliver::default()
        )
        .result,
        Refusal::Denied.code()
    );
    assert_eq!(
        unlock(
            &mut lock,
            &mut victim,
            247,
            false,
            Operation::Unlock,
            &Deliver::default()
        )
        .result,
        Refusal::Denied.code()
    );
}

#[test]
fn older_revocation_list_is_not_installed() {
    let mut lock = claimed_lock();
    let mut phone = Phone::new(&lock, 0x33, 0xc1);
    let d = Deliver {
        revocation: Some(revocation_list(5, &[])),
        ..Deliver::default()
    };
    assert_eq!(
        unlock(&mut lock, &mut phone, 247, false, Operation::Unlock, &d).result,
        0
    );
    let d = Deliver {
        revocation: Some(revocation_list(4, &[[0xc1; 16]])),
        ..Deliver::default()
    };
    assert_eq!(
        unlock(&mut lock, &mut phone, 247, false, Operation::Unlock, &d).result,
        Refusal::StaleRevocationList.code()
    );
    assert_eq!(lock.revocation_version(), 5);
}

#[test]
fn unclaimed_lock_answers_no_handshake() {
    let (mut lock, _) = fresh_lock();
    let eph = EphemeralKeyPair::new(&C, scalar(0x71)).unwrap();
    let hello = handshake::initiate(eph, [1; 16], 0).unwrap();
    let mut frag = framing::fragment(hello.m1(), 247).unwrap();
    let mut frame = [0u8; 256];
    let n = frag.next_into(&mut frame).unwrap().unwrap();
    assert!(lock.on_frame(&frame[..n]).is_err());
}

#[test]
fn claim_without_button_press_is_refused() {
    let (mut lock, secret) = fresh_lock();
    let bundle = bundle_for(*lock.lock_id());
    let proof = claim_proof(&C, &secret, &[0; 16], &bundle).unwrap();
    assert_eq!(
        lock.claim(&bundle, &proof),
        Err(ClaimRefusal::NoButtonPress)
    );
}

#[test]
fn claim_after_the_pairing_window_closed_is_refused() {
    let (mut lock, secret) = fresh_lock();
    let nonce = lock.button_pressed().unwrap();
    lock.board.clock.advance(180_001);
    let bundle = bundle_for(*lock.lock_id());
    let proof = claim_proof(&C, &secret, &nonce, &bundle).unwrap();
    assert_eq!(
        lock.claim(&bundle, &proof),
        Err(ClaimRefusal::NoButtonPress)
    );
}

#[test]
fn claim_without_the_label_secret_is_refused() {
    let (mut lock, _) = fresh_lock();
    let nonce = lock.button_pressed().unwrap();
    let bundle = bundle_for(*lock.lock_id());
    let proof = claim_proof(&C, &[0u8; 16], &nonce, &bundle).unwrap();
    assert_eq!(lock.claim(&bundle, &proof), Err(ClaimRefusal::BadProof));
}

#[test]
fn second_claim_of_a_bound_lock_is_refused() {
    let mut lock = claimed_lock();
    assert_eq!(
        lock.button_pressed(),
        None,
        "no pairing window on a bound lock"
    );
    let bundle = bundle_for(*lock.lock_id());
    assert_eq!(
        lock.claim(&bundle, &[0u8; 32]),
        Err(ClaimRefusal::AlreadyBound)
    );
}

#[test]
fn logs_reach_the_server_through_a_courier_and_only_a_valid_ack_frees_them() {
    let mut lock = claimed_lock();
    let mut phone = Phone::new(&lock, 0x33, 0xc1);
    let out = unlock(
        &mut lock,
        &mut phone,
        247,
        false,
        Operation::Unlock,
        &Deliver::default(),
    );
    let batch = out.batch.expect("M4 carries pending records");
    // Server side: LCK from the cloud log key and the lock's identity key.
    let lock_pub = lock.identity_public().unwrap();
    let lck = log::derive_log_key(&C, &scalar(CLOUD_LOG), &lock_pub, lock.lock_id()).unwrap();
    let mut scratch = [0u8; log::MAX_BATCH_LEN];
    let opened = log::open_batch(&C, &lock_pub, &lck, &batch, &mut scratch).unwrap();
    let mut cursor = ChainCursor::genesis(&C, lock.lock_id());
    assert_eq!(cursor.advance(&opened), ChainStep::Continues);
    let pending_before = lock.unacked_records().len();
    assert!(pending_before >= 3, "boot, claimed, unlock");

    // A forged ack (wrong key) frees nothing.
    let ack = LogAck {
        lock_id: *lock.lock_id(),
        acked_seq: cursor.seq,
        head: cursor.head,
    };
    let mut buf = [0u8; 160];
    let n = ack.sign(&C, &key(0x99), &mut buf).unwrap();
    let d = Deliver {
        log_ack: Some(buf[..n].to_vec()),
        ..Deliver::default()
    };
    assert_eq!(
        unlock(&mut lock, &mut phone, 247, true, Operation::Lock, &d).result,
        Refusal::AckMismatch.code()
    );
    assert!(lock.unacked_records().len() > pending_before);

    // The genuine ack frees exactly the acknowledged records.
    let n = ack.sign(&C, &key(ACK), &mut buf).unwrap();
    let d = Deliver {
        log_ack: Some(buf[..n].to_vec()),
        ..Deliver::default()
    };
    assert_eq!(
        unlock(&mut lock, &mut phone, 247, true, Operation::Lock, &d).result,
        0
    );
    assert!(lock.unacked_records().iter().all(|r| r.seq > cursor.seq));
}

#[test]
fn replayed_or_expired_remote_command_is_refused() {
    let mut lock = claimed_lock();
    let cmd = |counter: u32, not_after: u32| {
        let c = RemoteCommand {
            lock_id: *lock.lock_id(),
            counter,
            op: Operation::Unlock,
            not_after,
            requester: 7,
        };
        let mut buf = [0u8; 160];
        let n = c.sign(&C, &key(TIME_CMD), &mut buf).unwrap();
        buf[..n].to_vec()
    };
    let first = cmd(1, NOW + 20);
    let expired = cmd(2, NOW - 1);
    assert_eq!(lock.remote_command(&first), Ok(()));
    assert_eq!(lock.remote_command(&first), Err(Refusal::CommandReplayed));
    assert_eq!(lock.remote_command(&expired), Err(Refusal::CommandExpired));
    assert_eq!(lock.board.actuator.moves, vec![Bolt::Unlocked]);
}

#[test]
fn lockout_after_consecutive_wrong_attempts() {
    let mut lock = claimed_lock();
    // A phone whose holder key does not match its credential: every attempt fails check 7.
    let mut thief = Phone::new(&lock, 0x33, 0xc1);
    thief.holder = 0x35;
    for _ in 0..WRONG_ATTEMPT_LIMIT {
        assert_eq!(
            unlock(
                &mut lock,
                &mut thief,
                247,
                false,
                Operation::Unlock,
                &Deliver::default()
            )
            .result,
            Refusal::HolderSignature.code()
        );
    }
    let mut owner = Phone::new(&lock, 0x34, 0xc2);
    assert_eq!(
        unlock(
            &mut lock,
            &mut owner,
            247,
            false,
            Operation::Unlock,
            &Deliver::default()
        )
        .result,
        Refusal::LockedOut.code()
    );
    lock.board.clock.advance(60_001);
    assert_eq!(
        unlock(
            &mut lock,
            &mut owner,
            247,
            false,
            Operation::Unlock,
            &Deliver::default()
        )
        .result,
        0
    );
}

fn reboot(lock: Lock, keep_rtc: bool) -> Lock {
    let mut board = lock.board;
    board.flash.fail_at = None;
    board.clock.uptime_ms = 0;
    board.clock.rtc_set_at_ms = 0;
    if !keep_rtc {
        board.clock.rtc = None;
    }
    LockCore::power_on(board, C, BUILD_TIME).unwrap()
}

#[test]
fn after_rtc_loss_time_is_untrusted_until_a_nonce_bound_token_arrives() {
    let lock = claimed_lock();
    let mut phone = Phone::new(&lock, 0x33, 0xc1);
    phone.claims.windows = Bounded::from_slice(&[Window {
        start: NOW - DAY,
        end: NOW + DAY,
    }])
    .unwrap();
    let mut buf = [0u8; credential::MAX_CREDENTIAL_LEN];
    let n = credential::issue(&C, &key(ISSUER), &phone.claims, &mut buf).unwrap();
    phone.credential = buf[..n].to_vec();
    let lkgt = lock.last_known_good();
    let mut lock = reboot(lock, false);
    assert!(
        lock.last_known_good() >= lkgt,
        "last-known-good survives power loss"
    );
    let out = unlock(
        &mut lock,
        &mut phone,
        247,
        false,
        Operation::Unlock,
        &Deliver::default(),
    );
    assert!(!out.time_trusted_in_m2);
    assert_eq!(
        out.result,
        Refusal::OutsideWindow.code(),
        "schedules fail closed without trusted time"
    );
    let d = Deliver {
        time_token: true,
        ..Deliver::default()
    };
    let out = unlock(&mut lock, &mut phone, 247, false, Operation::Unlock, &d);
    assert_eq!(out.result, 0);
}

/// Invariants over the flash journal of a run with power losses.
fn check_journal(journal: &[latchkey_lock::sim::Write]) {
    use latchkey_lock::counters::Counters;
    use latchkey_protocol::log::Record;
    let mut lkgt = 0;
    let mut acked = 0;
    let mut seen: std::collections::HashMap<u32, Vec<u8>> = std::collections::HashMap::new();
    for w in journal {
        match w.slot {
            Slot::Counters => {
                let c = Counters::decode(&w.data).unwrap();
                assert!(c.lkgt >= lkgt, "last-known-good time moved backwards");
                assert!(c.acked_seq >= acked, "ack position moved backwards");
                lkgt = c.lkgt;
                acked = c.acked_seq;
            }
            Slot::Log(_) => {
                let rec = Record::from_bytes(&w.data).unwrap();
                if let Some(prev) = seen.insert(rec.seq, w.data.clone()) {
                    assert_eq!(prev, w.data, "sequence number {} reused", rec.seq);
                }
                if !w.old.is_empty() {
                    let old = Record::from_bytes(&w.old).unwrap();
                    assert!(
                        old.seq <= acked,
                        "record {} overwritten before it was acknowledged",
                        old.seq
                    );
                }
            }
            _ => {}
        }
    }
}

/// One day in the life of a lock: unlocks, a list delivery, log ack round trips.
fn scenario(lock: &mut Lock, phone: &mut Phone, stranger: &mut Phone) -> Vec<(u8, bool)> {
    let mut results = Vec::new();
    let lock_pub = lock.identity_public().unwrap();
    let lck = log::derive_log_key(&C, &scalar(CLOUD_LOG), &lock_pub, lock.lock_id()).unwrap();
    let mut pending_ack: Option<Vec<u8>> = None;
    for step in 0..6u8 {
        let (who, valid) = if step == 3 {
            (&mut *stranger, false)
        } else {
            (&mut *phone, true)
        };
        let d = Deliver {
            revocation: (step == 2).then(|| {
                revocation_list(
                    u32::from(step) + lock.revocation_version() + 1,
                    &[[0xee; 16]],
                )
            }),
            log_ack: pending_ack.take(),
            ..Deliver::default()
        };
        let out = unlock(lock, who, 23, false, Operation::Unlock, &d);
        results.push((out.result, valid));
        if let Some(b) = out.batch {
            let mut scratch = [0u8; log::MAX_BATCH_LEN];
            let opened = log::open_batch(&C, &lock_pub, &lck, &b, &mut scratch).unwrap();
            let ack = LogAck {
                lock_id: *lock.lock_id(),
                acked_seq: opened.to_seq(),
                head: opened.head,
            };
            let mut buf = [0u8; 160];
            let n = ack.sign(&C, &key(ACK), &mut buf).unwrap();
            pending_ack = Some(buf[..n].to_vec());
        }
    }
    results
}

#[test]
fn power_loss_at_every_flash_write_keeps_the_invariants() {
    // Count the writes of an undisturbed run, then cut power at each one in turn.
    let mut lock = claimed_lock();
    let start = lock.board.flash.writes;
    let mut phone = Phone::new(&lock, 0x33, 0xc1);
    let mut stranger = Phone::new(&lock, 0x35, 0xc3);
    stranger.holder = 0x36;
    let results = scenario(&mut lock, &mut phone, &mut stranger);
    assert!(
        results.iter().all(|(r, valid)| (*r == 0) == *valid),
        "{results:?}"
    );
    let total = lock.board.flash.writes - start;
    assert!(total > 10);
    for cut in start..start + total {
        let mut lock = claimed_lock();
        lock.board.flash.fail_at = Some(cut);
        let mut phone = Phone::new(&lock, 0x33, 0xc1);
        let mut stranger = Phone::new(&lock, 0x35, 0xc3);
        stranger.holder = 0x36;
        let moves_before = lock.board.actuator.moves.len();
        // Run until the power fails (a panic in `unlock` = the lock stopped answering).
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            scenario(&mut lock, &mut phone, &mut stranger)
        }));
        if let Ok(results) = &run {
            assert!(
                results.iter().all(|(r, valid)| *r != 0 || *valid),
                "cut {cut}: granted an invalid attempt"
            );
        }
        let granted_moves = lock.board.actuator.moves.len() - moves_before;
        assert!(
            granted_moves <= 5,
            "cut {cut}: at most the five valid attempts moved the bolt"
        );
        // Reboot on the same flash and carry on: everything must still work.
        let mut lock = reboot(lock, true);
        let mut phone = Phone::new(&lock, 0x33, 0xc1);
        let mut stranger = Phone::new(&lock, 0x35, 0xc3);
        stranger.holder = 0x36;
        let results = scenario(&mut lock, &mut phone, &mut stranger);
        assert!(
            results.iter().all(|(r, valid)| (*r == 0) == *valid),
            "cut {cut}: after reboot {results:?}"
        );
        check_journal(&lock.board.flash.journal);
        assert!(lock.unacked_records().len() < LOG_CAPACITY);
    }
}

#[test]
fn injected_m3_from_another_session_does_not_end_the_phones_session() {
    let mut lock = claimed_lock();
    let mut phone = Phone::new(&lock, 0x33, 0xc1);
    let lock_pub = lock.identity_public().unwrap();
    // An attacker's session: M1/M2 then its M3, never delivered in its own session.
    let eph = EphemeralKeyPair::new(&C, scalar(0x61)).unwrap();
    let rogue = handshake::initiate(eph, [9; 16], 0).unwrap();
    let m2 = exchange(&mut lock, rogue.m1(), 247);
    let mut rogue = rogue.on_m2(&C, &m2, |_| Some(lock_pub)).unwrap();
    let req = M3Request {
        credential: CredentialRef::Full(&phone.credential),
        cid: phone.claims.cid,
        command: Command {
            op: Operation::Unlock,
            param: 0,
            cmd_id: 1,
        },
        revocation: None,
        time_token: None,
        log_ack: None,
    };
    let mut stale = [0u8; MAX_MESSAGE_LEN];
    let n = rogue.seal_m3(&C, &key(0x33), &req, &mut stale).unwrap();
    let stale = stale[..n].to_vec();
    // The genuine phone starts its session; the stale M3 is injected first.
    let eph = EphemeralKeyPair::new(&C, scalar(0x62)).unwrap();
    let hello = handshake::initiate(eph, [8; 16], 0).unwrap();
    let m2 = exchange(&mut lock, hello.m1(), 247);
    let mut session = hello.on_m2(&C, &m2, |_| Some(lock_pub)).unwrap();
    let mut frag = framing::fragment(&stale, 247).unwrap();
    let mut frame = [0u8; 256];
    let mut last = Ok(None);
    while let Some(len) = frag.next_into(&mut frame) {
        last = lock
            .on_frame(&frame[..len.unwrap()])
            .map(|r| r.map(<[u8]>::to_vec));
    }
    assert!(last.is_err(), "M3 of another session is refused");
    assert!(lock.board.actuator.moves.is_empty());
    let mut m3 = [0u8; MAX_MESSAGE_LEN];
    let n = session.seal_m3(&C, &key(0x33), &req, &mut m3).unwrap();
    let m4 = exchange(&mut lock, &m3[..n], 247);
    let mut buf = [0u8; MAX_MESSAGE_LEN];
    assert_eq!(session.open_m4(&C, &m4, &mut buf).unwrap().result, 0);
    let _ = &mut phone;
}

#[test]
fn handshake_session_expires_after_ten_seconds() {
    let mut lock = claimed_lock();
    let phone = Phone::new(&lock, 0x33, 0xc1);
    let lock_pub = lock.identity_public().unwrap();
    let eph = EphemeralKeyPair::new(&C, scalar(0x62)).unwrap();
    let hello = handshake::initiate(eph, [8; 16], 0).unwrap();
    let m2 = exchange(&mut lock, hello.m1(), 247);
    let mut session = hello.on_m2(&C, &m2, |_| Some(lock_pub)).unwrap();
    lock.board.clock.advance(10_001);
    let req = M3Request {
        credential: CredentialRef::Full(&phone.credential),
        cid: phone.claims.cid,
        command: Command {
            op: Operation::Unlock,
            param: 0,
            cmd_id: 1,
        },
        revocation: None,
        time_token: None,
        log_ack: None,
    };
    let mut m3 = [0u8; MAX_MESSAGE_LEN];
    let n = session.seal_m3(&C, &key(0x33), &req, &mut m3).unwrap();
    let mut frag = framing::fragment(&m3[..n], 247).unwrap();
    let mut frame = [0u8; 256];
    let mut last = Ok(None);
    while let Some(len) = frag.next_into(&mut frame) {
        last = lock
            .on_frame(&frame[..len.unwrap()])
            .map(|r| r.map(<[u8]>::to_vec));
    }
    assert!(last.is_err());
    assert!(lock.board.actuator.moves.is_empty());
}

/// Ack everything the lock has handed out so far, as the server would after verifying.
fn ack_all(lock: &Lock, batch: &[u8]) -> Vec<u8> {
    let lock_pub = lock.identity_public().unwrap();
    let lck = log::derive_log_key(&C, &scalar(CLOUD_LOG), &lock_pub, lock.lock_id()).unwrap();
    let mut scratch = [0u8; log::MAX_BATCH_LEN];
    let opened = log::open_batch(&C, &lock_pub, &lck, batch, &mut scratch).unwrap();
    let ack = LogAck {
        lock_id: *lock.lock_id(),
        acked_seq: opened.to_seq(),
        head: opened.head,
    };
    let mut buf = [0u8; 160];
    let n = ack.sign(&C, &key(ACK), &mut buf).unwrap();
    buf[..n].to_vec()
}

#[test]
fn full_log_loses_no_unacknowledged_record_and_reports_the_overflow() {
    let mut lock = claimed_lock();
    let mut phone = Phone::new(&lock, 0x33, 0xc1);
    // No courier comes back with acks: the log fills up.
    let mut last = None;
    for _ in 0..LOG_CAPACITY + 10 {
        let out = unlock(
            &mut lock,
            &mut phone,
            247,
            false,
            Operation::Unlock,
            &Deliver::default(),
        );
        assert_eq!(out.result, 0);
        last = out.batch;
    }
    assert_eq!(lock.unacked_records().len(), LOG_CAPACITY);
    let first_seq = lock.unacked_records()[0].seq;
    check_journal(&lock.board.flash.journal);
    // Acks arrive batch by batch (16 records each); the overflow is then reported.
    let mut saw_overflow = false;
    for _ in 0..12 {
        let d = Deliver {
            log_ack: last.as_deref().map(|b| ack_all(&lock, b)),
            ..Deliver::default()
        };
        let out = unlock(&mut lock, &mut phone, 247, false, Operation::Unlock, &d);
        assert_eq!(out.result, 0);
        saw_overflow |= lock
            .unacked_records()
            .iter()
            .any(|r| r.event == latchkey_lock::machine::event::LOG_OVERFLOW && r.aux > 0);
        last = out.batch;
    }
    assert!(saw_overflow, "lost events are reported once space frees");
    assert!(lock.unacked_records().iter().all(|r| r.seq > first_seq));
    // The log has wrapped: slots were reused, and only for acknowledged records.
    assert!(
        lock.board
            .flash
            .journal
            .iter()
            .any(|w| matches!(w.slot, Slot::Log(_)) && !w.old.is_empty())
    );
    check_journal(&lock.board.flash.journal);
}

#[test]
fn limited_use_credential_stops_after_max_uses_even_across_a_reboot() {
    let mut lock = claimed_lock();
    let mut phone = Phone::new(&lock, 0x33, 0xc1);
    phone.claims.max_uses = Some(2);
    let mut buf = [0u8; credential::MAX_CREDENTIAL_LEN];
    let n = credential::issue(&C, &key(ISSUER), &phone.claims, &mut buf).unwrap();
    phone.credential = buf[..n].to_vec();
    let d = Deliver::default();
    assert_eq!(
        unlock(&mut lock, &mut phone, 247, false, Operation::Unlock, &d).result,
        0
    );
    let mut lock = reboot(lock, true);
    assert_eq!(
        unlock(&mut lock, &mut phone, 247, false, Operation::Lock, &d).result,
        0
    );
    assert_eq!(
        unlock(&mut lock, &mut phone, 247, true, Operation::Unlock, &d).result,
        Refusal::UsesExhausted.code()
    );
    assert_eq!(
        lock.board.actuator.moves,
        vec![Bolt::Unlocked, Bolt::Locked]
    );
}

#[test]
fn owner_claims_over_ble_and_the_app_authenticates_the_lock_with_the_label_secret() {
    use latchkey_protocol::claim::{
        ClaimRequest, MSG_CLAIM_RESULT, MSG_PAIR_REQUEST, PairingOffer,
    };
    let (mut lock, secret) = fresh_lock();
    assert_eq!(
        exchange(&mut lock, &[MSG_PAIR_REQUEST], 23),
        vec![MSG_CLAIM_RESULT, ClaimRefusal::NoButtonPress.code()]
    );
    lock.button_pressed().unwrap();
    let offer = PairingOffer::decode(&exchange(&mut lock, &[MSG_PAIR_REQUEST], 23)).unwrap();
    offer.verify(&C, &secret).unwrap();
    assert!(
        offer.verify(&C, &[0u8; 16]).is_err(),
        "a key substituted in radio range fails the tag"
    );
    assert_eq!(offer.identity, lock.identity_public().unwrap());
    let bundle = bundle_for(offer.lock_id);
    let proof = claim_proof(&C, &secret, &offer.nonce, &bundle).unwrap();
    let mut buf = [0u8; 512];
    let n = ClaimRequest {
        proof,
        bundle: &bundle,
    }
    .encode(&mut buf)
    .unwrap();
    assert_eq!(
        exchange(&mut lock, &buf[..n], 23),
        vec![MSG_CLAIM_RESULT, 0]
    );
    assert!(lock.is_bound());
    assert_eq!(
        exchange(&mut lock, &buf[..n], 23),
        vec![MSG_CLAIM_RESULT, ClaimRefusal::AlreadyBound.code()]
    );
    assert_eq!(
        exchange(&mut lock, &[MSG_PAIR_REQUEST], 23),
        vec![MSG_CLAIM_RESULT, ClaimRefusal::AlreadyBound.code()]
    );
}

#[test]
fn signed_time_older_than_last_known_good_never_rolls_the_clock_back() {
    let lock = claimed_lock();
    let mut phone = Phone::new(&lock, 0x33, 0xc1);
    let lkgt = lock.last_known_good();
    let mut lock = reboot(lock, false);
    let d = Deliver {
        time_token: true,
        time_token_at: Some(NOW - 10 * DAY),
        ..Deliver::default()
    };
    assert_eq!(
        unlock(&mut lock, &mut phone, 247, false, Operation::Unlock, &d).result,
        0
    );
    assert!(lock.last_known_good() >= lkgt);
    assert!(
        lock.board.clock.rtc.unwrap() >= lkgt,
        "the RTC is set no earlier than last-known-good"
    );
    check_journal(&lock.board.flash.journal);
}

#[test]
fn revocation_overflow_raises_min_epoch_and_reissued_credentials_work() {
    let mut lock = claimed_lock();
    let mut old = Phone::new(&lock, 0x33, 0xc1);
    // The deny-list overflowed: the server bumps min_epoch past every credential of epoch 1.
    let list = RevocationList {
        site: SITE,
        version: 7,
        iat: NOW - 60,
        min_epoch: 2,
        deny: Bounded::new(),
        floors: Bounded::new(),
        next_update: Some(NOW + DAY),
    };
    let mut buf = [0u8; 640];
    let n = list.sign(&C, &key(ISSUER), &mut buf).unwrap();
    let d = Deliver {
        revocation: Some(buf[..n].to_vec()),
        ..Deliver::default()
    };
    assert_eq!(
        unlock(&mut lock, &mut old, 247, false, Operation::Unlock, &d).result,
        Refusal::EpochRevoked.code()
    );
    assert_eq!(
        lock.revocation_version(),
        7,
        "the list was installed before the check"
    );
    // The re-issued credential (epoch 2) opens.
    let mut renewed = Phone::new(&lock, 0x33, 0xc1);
    renewed.claims.epoch = 2;
    let mut cbuf = [0u8; credential::MAX_CREDENTIAL_LEN];
    let n = credential::issue(&C, &key(ISSUER), &renewed.claims, &mut cbuf).unwrap();
    renewed.credential = cbuf[..n].to_vec();
    assert_eq!(
        unlock(
            &mut lock,
            &mut renewed,
            247,
            false,
            Operation::Unlock,
            &Deliver::default()
        )
        .result,
        0
    );
}
