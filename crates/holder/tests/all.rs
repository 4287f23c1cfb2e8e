//! Holder integration tests (one binary): a simulated phone opens a simulated lock over the
//! simulated BLE link, offline.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use latchkey_holder::link::{LinkConfig, SimLink};
use latchkey_holder::unlock::{Attempt, Offline, Outcome, TimeSource, UnlockError};
use latchkey_holder::wallet::Wallet;
use latchkey_lock::LockCore;
use latchkey_lock::machine::{Board, factory_provision};
use latchkey_lock::platform::Bolt;
use latchkey_lock::sim::{SimActuator, SimClock, SimEntropy, SimFlash};
use latchkey_protocol::bounded::Bounded;
use latchkey_protocol::checks::Refusal;
use latchkey_protocol::claim::{ClaimBundle, claim_proof};
use latchkey_protocol::credential::{self, Claims};
use latchkey_protocol::crypto::{Crypto, LocalSigner, PublicKey, SecretScalar, SoftwareCrypto};
use latchkey_protocol::handshake::EphemeralKeyPair;
use latchkey_protocol::ids::{Id16, Operation};
use latchkey_protocol::log::{self, ChainCursor, ChainStep, LogAck};
use latchkey_protocol::revocation::{DenyEntry, RevocationList};
use latchkey_protocol::time_token::TimeToken;
use proptest::prelude::*;

const C: SoftwareCrypto = SoftwareCrypto;
const SITE: Id16 = [0x5a; 16];
const NOW: u32 = 1_795_910_400;
const DAY: u32 = 86_400;
const ISSUER: u8 = 0x11;
const TIME_CMD: u8 = 0x44;
const CLOUD_LOG: u8 = 0x55;
const ACK: u8 = 0x66;

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

fn claimed_lock() -> Lock {
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
    let mut lock = LockCore::power_on(board, C, NOW - 30 * DAY).unwrap();
    let nonce = lock.button_pressed().unwrap();
    let bundle = ClaimBundle {
        lock_id: *lock.lock_id(),
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
    let proof = claim_proof(&C, &secret, &nonce, &buf[..n]).unwrap();
    lock.claim(&buf[..n], &proof).unwrap();
    lock
}

/// A phone with one credential for `lock`, held by key `holder`.
struct Phone {
    wallet: Wallet,
    holder: u8,
    cid: Id16,
    seq: u8,
}

fn phone_for(lock: &Lock, holder: u8, cid_byte: u8) -> Phone {
    let claims = Claims {
        cid: [cid_byte; 16],
        site: SITE,
        locks: Bounded::from_slice(&[*lock.lock_id()]).unwrap(),
        uid: u32::from(cid_byte),
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
    let mut wallet = Wallet::new();
    wallet.add_credential(buf[..n].to_vec()).unwrap();
    wallet.add_lock(*lock.lock_id(), lock.identity_public().unwrap());
    Phone {
        wallet,
        holder,
        cid: claims.cid,
        seq: cid_byte,
    }
}

/// The server's time endpoint, reachable when the phone is online.
struct Online;

impl TimeSource for Online {
    fn time_token(&mut self, lock_id: &Id16, nonce: &[u8; 16]) -> Option<Vec<u8>> {
        let t = TimeToken {
            lock_id: *lock_id,
            nonce: *nonce,
            utc_ms: u64::from(NOW) * 1000,
        };
        let mut buf = [0u8; 160];
        let n = t.sign(&C, &key(TIME_CMD), &mut buf).unwrap();
        Some(buf[..n].to_vec())
    }
}

/// Deliver one message phone → lock over the link; returns the lock's reply, if one came back
/// over the link intact.
fn round_trip(lock: &mut Lock, link: &mut SimLink, msg: &[u8]) -> Option<Vec<u8>> {
    let mut reply = None;
    for f in link.send(msg).unwrap() {
        lock.board.clock.advance(link.config.delay_ms);
        if let Ok(Some(r)) = lock.on_frame(&f) {
            reply = Some(r.to_vec());
        }
    }
    let back = link.send(&reply?).unwrap();
    SimLink::receive(&back, 0)
}

#[derive(Debug, PartialEq, Eq)]
enum Run {
    Lock(Outcome),
    Phone(UnlockError),
    LinkLost,
}

fn try_unlock(
    lock: &mut Lock,
    phone: &mut Phone,
    link: &mut SimLink,
    op: Operation,
    time: &mut dyn TimeSource,
) -> Run {
    // Idle time before the phone arrives: the lock precomputes its ephemeral key and log batch.
    lock.tick().unwrap();
    phone.seq = phone.seq.wrapping_add(1);
    let eph = EphemeralKeyPair::new(&C, scalar(0x40 ^ phone.seq)).unwrap();
    let (mut attempt, m1) =
        Attempt::start(eph, [phone.seq; 16], op, u32::from(phone.seq), NOW).unwrap();
    let Some(m2) = round_trip(lock, link, &m1) else {
        return Run::LinkLost;
    };
    let m3 = match attempt.on_m2(&C, &phone.wallet, &key(phone.holder), time, &m2) {
        Ok(m3) => m3,
        Err(e) => return Run::Phone(e),
    };
    let Some(m4) = round_trip(lock, link, &m3) else {
        return Run::LinkLost;
    };
    match attempt.on_m4(&C, &mut phone.wallet, &m4) {
        Ok(o) => Run::Lock(o),
        Err(e) => Run::Phone(e),
    }
}

/// The app retries a lost exchange a few times, as a user pressing "unlock" would.
fn unlock(lock: &mut Lock, phone: &mut Phone, link: &mut SimLink, op: Operation) -> Run {
    for _ in 0..8 {
        match try_unlock(lock, phone, link, op, &mut Offline) {
            Run::LinkLost => continue,
            other => return other,
        }
    }
    Run::LinkLost
}

fn granted(r: &Run) -> bool {
    matches!(r, Run::Lock(o) if o.granted())
}

#[test]
fn simulated_phone_opens_simulated_lock_offline_at_mtu_23_and_247_fast_path_second() {
    for mtu in [23, 247] {
        let mut lock = claimed_lock();
        let mut phone = phone_for(&lock, 0x33, 0xc1);
        let mut link = SimLink::new(LinkConfig::clean(mtu), 1);
        assert!(
            granted(&unlock(&mut lock, &mut phone, &mut link, Operation::Unlock)),
            "mtu {mtu}"
        );
        assert!(
            granted(&unlock(&mut lock, &mut phone, &mut link, Operation::Lock)),
            "mtu {mtu}: fast path"
        );
        assert_eq!(
            lock.board.actuator.moves,
            vec![Bolt::Unlocked, Bolt::Locked]
        );
    }
}

#[test]
fn phone_refuses_a_lock_missing_from_its_directory() {
    let mut lock = claimed_lock();
    let mut phone = phone_for(&lock, 0x33, 0xc1);
    phone.wallet = {
        let mut w = Wallet::new();
        w.add_lock([0x77; 16], public(0x22));
        w
    };
    let mut link = SimLink::new(LinkConfig::clean(247), 1);
    assert_eq!(
        unlock(&mut lock, &mut phone, &mut link, Operation::Unlock),
        Run::Phone(UnlockError::UnknownLock)
    );
}

#[test]
fn revoked_credential_refused_as_soon_as_a_courier_delivers_the_newer_list() {
    let mut lock = claimed_lock();
    let mut victim = phone_for(&lock, 0x33, 0xc1);
    let mut courier = phone_for(&lock, 0x34, 0xc2);
    let mut link = SimLink::new(LinkConfig::clean(247), 2);
    assert!(granted(&unlock(
        &mut lock,
        &mut victim,
        &mut link,
        Operation::Unlock
    )));
    let list = RevocationList {
        site: SITE,
        version: 1,
        iat: NOW - 60,
        min_epoch: 0,
        deny: Bounded::from_slice(&[DenyEntry {
            cid8: latchkey_protocol::ids::cid8(&victim.cid),
            exp: NOW + 6 * DAY,
        }])
        .unwrap(),
        floors: Bounded::new(),
        next_update: None,
    };
    let mut buf = [0u8; 640];
    let n = list.sign(&C, &key(ISSUER), &mut buf).unwrap();
    courier.wallet.offer_revocation(1, buf[..n].to_vec());
    assert!(granted(&unlock(
        &mut lock,
        &mut courier,
        &mut link,
        Operation::Lock
    )));
    assert_eq!(lock.revocation_version(), 1);
    let r = unlock(&mut lock, &mut victim, &mut link, Operation::Unlock);
    assert_eq!(
        r,
        Run::Lock(Outcome {
            result: Refusal::Denied.code(),
            ..outcome_of(&r)
        })
    );
}

fn outcome_of(r: &Run) -> Outcome {
    match r {
        Run::Lock(o) => *o,
        other => panic!("no lock outcome: {other:?}"),
    }
}

#[test]
fn logs_reach_the_verifier_through_couriers_and_gaps_are_detected() {
    let mut lock = claimed_lock();
    let mut a = phone_for(&lock, 0x33, 0xc1);
    let mut b = phone_for(&lock, 0x34, 0xc2);
    let mut link = SimLink::new(LinkConfig::clean(247), 3);
    let lock_pub = lock.identity_public().unwrap();
    let lck = log::derive_log_key(&C, &scalar(CLOUD_LOG), &lock_pub, lock.lock_id()).unwrap();
    let mut cursor = ChainCursor::genesis(&C, lock.lock_id());
    let open = |bytes: &[u8]| {
        let mut scratch = [0u8; log::MAX_BATCH_LEN];
        log::open_batch(&C, &lock_pub, &lck, bytes, &mut scratch).unwrap()
    };

    // Phone A carries the first batch; the server verifies it and A brings the ack back.
    assert!(granted(&unlock(
        &mut lock,
        &mut a,
        &mut link,
        Operation::Unlock
    )));
    let batches = a.wallet.take_batches();
    assert_eq!(batches.len(), 1);
    let first = open(&batches[0].bytes);
    assert_eq!(cursor.advance(&first), ChainStep::Continues);
    let ack = LogAck {
        lock_id: *lock.lock_id(),
        acked_seq: cursor.seq,
        head: cursor.head,
    };
    let mut buf = [0u8; 160];
    let n = ack.sign(&C, &key(ACK), &mut buf).unwrap();
    a.wallet.offer_ack(*lock.lock_id(), buf[..n].to_vec());
    assert!(granted(&unlock(
        &mut lock,
        &mut a,
        &mut link,
        Operation::Lock
    )));
    assert!(
        lock.unacked_records()
            .iter()
            .all(|r| r.seq > first.to_seq()),
        "acked records freed"
    );
    let _lost_in_transit = a.wallet.take_batches(); // phone A loses this batch (never uploaded)

    // The lock keeps unacknowledged records, so B's batch repeats them: nothing is lost.
    assert!(granted(&unlock(
        &mut lock,
        &mut b,
        &mut link,
        Operation::Unlock
    )));
    let from_b = open(&b.wallet.take_batches()[0].bytes);
    assert_eq!(cursor.advance(&from_b), ChainStep::Continues);

    // A courier that withholds a batch *after* an ack the server never sent shows as a gap:
    // simulate by skipping B's batch in a fresh cursor that starts at the first batch.
    let mut skipping = ChainCursor::genesis(&C, lock.lock_id());
    let _ = skipping.advance(&first);
    let mut c = phone_for(&lock, 0x35, 0xc3);
    let n = LogAck {
        lock_id: *lock.lock_id(),
        acked_seq: from_b.to_seq(),
        head: from_b.head,
    }
    .sign(&C, &key(ACK), &mut buf)
    .unwrap();
    c.wallet.offer_ack(*lock.lock_id(), buf[..n].to_vec());
    assert!(granted(&unlock(
        &mut lock,
        &mut c,
        &mut link,
        Operation::Lock
    )));
    // An ack invalidates the batch the lock had prepared; the next visit carries a fresh one.
    assert!(c.wallet.take_batches().is_empty());
    assert!(granted(&unlock(
        &mut lock,
        &mut c,
        &mut link,
        Operation::Unlock
    )));
    let later = open(&c.wallet.take_batches()[0].bytes);
    assert!(
        matches!(skipping.advance(&later), ChainStep::Gap { .. }),
        "a verifier that missed B's batch sees the gap"
    );
}

#[test]
fn untrusted_lock_time_is_fixed_by_an_online_phone() {
    let mut lock = claimed_lock();
    let mut phone = phone_for(&lock, 0x33, 0xc1);
    lock.board.clock.rtc = None; // RTC lost power
    let mut link = SimLink::new(LinkConfig::clean(247), 4);
    let r = try_unlock(
        &mut lock,
        &mut phone,
        &mut link,
        Operation::Unlock,
        &mut Online,
    );
    assert!(granted(&r));
    assert!(
        lock.board.clock.rtc.is_some(),
        "the signed, nonce-bound token set the clock"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Over a lossy, duplicating, reordering link, with a thief interleaved: the lock never
    /// grants the thief, never moves the bolt without a granted valid attempt, and a clean
    /// link still works afterwards.
    #[test]
    fn faulty_link_never_grants_invalid_attempts(
        seed in any::<u64>(),
        mtu in prop_oneof![Just(23usize), Just(64), Just(247)],
        loss in 0u16..150,
        dup in 0u16..150,
        reorder in 0u16..150,
        plan in proptest::collection::vec(any::<bool>(), 3..7),
    ) {
        let mut lock = claimed_lock();
        let mut owner = phone_for(&lock, 0x33, 0xc1);
        let mut thief = phone_for(&lock, 0x33, 0xc2);
        thief.holder = 0x39; // has a credential, not its holder key
        let mut link = SimLink::new(LinkConfig { mtu, loss_permille: loss, duplicate_permille: dup, reorder_permille: reorder, delay_ms: 20 }, seed);
        let mut granted_valid = 0;
        for valid in plan {
            let r = if valid { unlock(&mut lock, &mut owner, &mut link, Operation::Unlock) } else { unlock(&mut lock, &mut thief, &mut link, Operation::Unlock) };
            if valid {
                granted_valid += usize::from(granted(&r));
            } else {
                prop_assert!(!granted(&r), "thief granted: {r:?}");
            }
            lock.board.clock.advance(61_000); // outlive any lockout the thief caused
        }
        // Every operation the lock performed (its log) was the owner's, and at least as many as
        // the owner saw granted (an M4 lost on the link hides a grant from the phone).
        let ops: Vec<_> = lock.unacked_records().iter().filter(|r| r.event == latchkey_lock::machine::event::LOCK_OPERATION).collect();
        prop_assert!(ops.iter().all(|r| r.uid == 0xc1), "an operation ran for someone else");
        prop_assert!(ops.len() >= granted_valid);
        prop_assert_eq!(lock.board.actuator.moves.len(), ops.len());
        let mut clean = SimLink::new(LinkConfig::clean(247), seed);
        prop_assert!(granted(&unlock(&mut lock, &mut owner, &mut clean, Operation::Lock)));
    }
}
