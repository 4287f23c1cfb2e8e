//! One negative test per attack in research §7 / issue 5 that the protocol layer decides.
//! (Physical-presence attacks — claim without a button press, second claim of a bound lock —
//! are lock-state rules and are tested in the lock core.)

use super::support::*;
use latchkey_protocol::bounded::Bounded;
use latchkey_protocol::checks::{self, LockView, Refusal};
use latchkey_protocol::claim::{claim_proof, verify_claim_proof};
use latchkey_protocol::credential::{Claims, Credential, FLAG_NEEDS_TRUSTED_TIME};
use latchkey_protocol::crypto::{Crypto, SoftwareCrypto};
use latchkey_protocol::error::Error;
use latchkey_protocol::framing::MAX_MESSAGE_LEN;
use latchkey_protocol::handshake::{
    self, Command, CredentialRef, EphemeralKeyPair, LockHello, LockSession, M1, M3Request,
    PhoneSession,
};
use latchkey_protocol::ids::{Operation, cid8};
use latchkey_protocol::log::{self, BatchInput, ChainCursor, ChainStep, LogAck, Record};
use latchkey_protocol::remote_command::RemoteCommand;
use latchkey_protocol::revocation::{DenyEntry, RevocationList, UserFloor};
use latchkey_protocol::time_token::TimeToken;

const C: SoftwareCrypto = SoftwareCrypto;
const UNLOCK: Command = Command {
    op: Operation::Unlock,
    param: 0,
    cmd_id: 1,
};

fn hello() -> LockHello {
    LockHello {
        lock_id: LOCK_ID,
        rev_ver: 1,
        lock_time: NOW,
        status: handshake::STATUS_TIME_TRUSTED,
        cfg_ver: 1,
    }
}

/// Run M1→M2 for session number `s` (distinct ephemeral keys and nonces per session).
fn open_session(s: u8) -> (LockSession, PhoneSession) {
    let phone = handshake::initiate(
        EphemeralKeyPair::new(&C, scalar(0x70 + s)).unwrap(),
        [s; 16],
        0,
    )
    .unwrap();
    let mut m2 = [0u8; handshake::M2_LEN];
    let lock = handshake::respond(
        &C,
        phone.m1(),
        EphemeralKeyPair::new(&C, scalar(0x80 + s)).unwrap(),
        [0x40 + s; 16],
        &hello(),
        &signer(&C, LOCK),
        &mut m2,
    )
    .unwrap();
    let lock_pub = public(&C, LOCK);
    let phone = phone.on_m2(&C, &m2, |_| Some(lock_pub)).unwrap();
    (lock, phone)
}

fn seal_m3(phone: &mut PhoneSession, credential: &[u8], command: Command) -> Vec<u8> {
    let req = M3Request {
        credential: CredentialRef::Full(credential),
        cid: CID,
        command,
        revocation: None,
        time_token: None,
        log_ack: None,
    };
    let mut out = [0u8; MAX_MESSAGE_LEN];
    let n = phone
        .seal_m3(&C, &signer(&C, HOLDER), &req, &mut out)
        .unwrap();
    out[..n].to_vec()
}

fn view(list: Option<&RevocationList>) -> LockView<'_> {
    static TRUSTED: std::sync::OnceLock<[[u8; 8]; 1]> = std::sync::OnceLock::new();
    let trusted = TRUSTED.get_or_init(|| [kid(&C, ISSUER)]);
    LockView {
        site: SITE,
        lock_id: LOCK_ID,
        trusted_issuers: trusted,
        now: NOW,
        time_trusted: true,
        revocation: list,
        revocation_fresh: true,
    }
}

fn judge(claims: &Claims, v: &LockView<'_>) -> Result<(), Refusal> {
    checks::check_claims(claims, &kid(&C, ISSUER), Operation::Unlock, v)
}

#[test]
fn full_unlock_is_granted_as_a_baseline() {
    let cred = issue(&C, &claims(&C), &signer(&C, ISSUER));
    let (mut lock, mut phone) = open_session(1);
    let m3 = seal_m3(&mut phone, &cred, UNLOCK);
    let mut buf = [0u8; MAX_MESSAGE_LEN];
    let opened = lock.open_m3(&C, &m3, &mut buf).unwrap();
    let CredentialRef::Full(bytes) = opened.credential else {
        panic!("full credential expected")
    };
    let (cred, claims) = Credential::decode(bytes).unwrap();
    judge(&claims, &view(None)).unwrap();
    cred.verify_issuer(&C, &public(&C, ISSUER)).unwrap();
    lock.verify_holder(
        &C,
        &claims.holder,
        &claims.cid,
        &opened.command,
        &opened.holder_sig,
    )
    .unwrap();
}

#[test]
fn replayed_m3_is_refused_in_a_new_session() {
    let cred = issue(&C, &claims(&C), &signer(&C, ISSUER));
    let (_, mut phone) = open_session(1);
    let m3 = seal_m3(&mut phone, &cred, UNLOCK);
    let (mut lock2, _) = open_session(2);
    let mut buf = [0u8; MAX_MESSAGE_LEN];
    assert_eq!(lock2.open_m3(&C, &m3, &mut buf).unwrap_err(), Error::Crypto);
}

#[test]
fn replayed_m3_is_refused_within_its_session() {
    let cred = issue(&C, &claims(&C), &signer(&C, ISSUER));
    let (mut lock, mut phone) = open_session(1);
    let m3 = seal_m3(&mut phone, &cred, UNLOCK);
    let mut buf = [0u8; MAX_MESSAGE_LEN];
    lock.open_m3(&C, &m3, &mut buf).unwrap();
    assert_eq!(lock.open_m3(&C, &m3, &mut buf).unwrap_err(), Error::Replay);
}

#[test]
fn m3_from_another_session_is_refused_even_when_sessions_run_interleaved() {
    let cred = issue(&C, &claims(&C), &signer(&C, ISSUER));
    let (mut lock_a, _phone_a) = open_session(1);
    let (_lock_b, mut phone_b) = open_session(2);
    let m3_b = seal_m3(&mut phone_b, &cred, UNLOCK);
    let mut buf = [0u8; MAX_MESSAGE_LEN];
    assert_eq!(
        lock_a.open_m3(&C, &m3_b, &mut buf).unwrap_err(),
        Error::Crypto
    );
}

#[test]
fn downgrade_with_version_bit_stripped_fails_lock_authentication() {
    // A future phone offers v1+v2; an attacker strips v2 so a (v2-capable) lock would pick v1.
    let offered = M1 {
        versions: 0b11,
        flags: 0,
        ephemeral: public(&C, 0x71),
        nonce: [1; 16],
    };
    let sent = offered.encode().unwrap();
    let mut stripped = sent;
    stripped[1] = 0b01;
    let mut m2 = [0u8; handshake::M2_LEN];
    handshake::respond(
        &C,
        &stripped,
        EphemeralKeyPair::new(&C, scalar(0x81)).unwrap(),
        [2; 16],
        &hello(),
        &signer(&C, LOCK),
        &mut m2,
    )
    .unwrap();
    // The phone binds the M1 it sent; the lock signed a transcript with the stripped one.
    let keys = handshake::derive_session(
        &C,
        &scalar(0x71),
        &handshake::M2Clear::decode(&m2[..handshake::M2_CLEAR_LEN])
            .unwrap()
            .ephemeral,
        &sent,
        &m2[..handshake::M2_CLEAR_LEN],
    )
    .unwrap();
    let (k, _) = keys.l2p();
    let mut body = m2[handshake::M2_CLEAR_LEN..handshake::M2_CLEAR_LEN + 64].to_vec();
    let tag: [u8; 16] = m2[handshake::M2_CLEAR_LEN + 64..].try_into().unwrap();
    let nonce = *keys.l2p().1;
    assert!(
        C.aead_open(k, &nonce, &m2[..handshake::M2_CLEAR_LEN], &mut body, &tag)
            .is_err()
    );
}

#[test]
fn m1_without_a_common_version_is_refused() {
    let m1 = M1 {
        versions: 0b10,
        flags: 0,
        ephemeral: public(&C, 0x71),
        nonce: [1; 16],
    }
    .encode()
    .unwrap();
    let mut m2 = [0u8; handshake::M2_LEN];
    let r = handshake::respond(
        &C,
        &m1,
        EphemeralKeyPair::new(&C, scalar(0x81)).unwrap(),
        [2; 16],
        &hello(),
        &signer(&C, LOCK),
        &mut m2,
    );
    assert_eq!(r.unwrap_err(), Error::InvalidValue);
}

#[test]
fn fake_lock_is_refused_before_the_credential_leaves_the_phone() {
    let phone =
        handshake::initiate(EphemeralKeyPair::new(&C, scalar(0x71)).unwrap(), [1; 16], 0).unwrap();
    let mut m2 = [0u8; handshake::M2_LEN];
    // Signs with a key that is not the lock's registered identity key.
    handshake::respond(
        &C,
        phone.m1(),
        EphemeralKeyPair::new(&C, scalar(0x81)).unwrap(),
        [2; 16],
        &hello(),
        &signer(&C, OTHER),
        &mut m2,
    )
    .unwrap();
    let lock_pub = public(&C, LOCK);
    assert_eq!(
        phone.on_m2(&C, &m2, |_| Some(lock_pub)).unwrap_err(),
        Error::Crypto
    );
}

#[test]
fn credential_for_another_site_is_refused() {
    let mut c = claims(&C);
    c.site = [0x77; 16];
    assert_eq!(judge(&c, &view(None)), Err(Refusal::WrongSite));
}

#[test]
fn credential_for_another_lock_is_refused() {
    let mut c = claims(&C);
    c.locks = Bounded::from_slice(&[OTHER_LOCK_ID]).unwrap();
    assert_eq!(judge(&c, &view(None)), Err(Refusal::WrongLock));
    c.locks = Bounded::new();
    assert_eq!(
        judge(&c, &view(None)),
        Ok(()),
        "no lock list means the whole site"
    );
}

#[test]
fn expired_within_skew_is_accepted_and_beyond_skew_refused() {
    let mut c = claims(&C);
    c.windows = Bounded::new();
    c.exp = NOW - checks::MAX_SKEW_SECS;
    assert_eq!(judge(&c, &view(None)), Ok(()));
    c.exp = NOW - checks::MAX_SKEW_SECS - 1;
    assert_eq!(judge(&c, &view(None)), Err(Refusal::Expired));
}

#[test]
fn not_yet_valid_beyond_skew_is_refused() {
    let mut c = claims(&C);
    c.windows = Bounded::new();
    c.nbf = NOW + checks::MAX_SKEW_SECS;
    assert_eq!(judge(&c, &view(None)), Ok(()));
    c.nbf = NOW + checks::MAX_SKEW_SECS + 1;
    assert_eq!(judge(&c, &view(None)), Err(Refusal::NotYetValid));
}

#[test]
fn revoked_credential_id_is_refused() {
    let mut list = revocation_list(2);
    list.deny = Bounded::from_slice(&[
        DenyEntry {
            cid8: [0x0d; 8],
            exp: NOW + DAY,
        },
        DenyEntry {
            cid8: cid8(&CID),
            exp: NOW + DAY,
        },
    ])
    .unwrap();
    assert_eq!(judge(&claims(&C), &view(Some(&list))), Err(Refusal::Denied));
}

#[test]
fn epoch_below_min_epoch_is_refused() {
    let mut list = revocation_list(2);
    list.min_epoch = claims(&C).epoch + 1;
    assert_eq!(
        judge(&claims(&C), &view(Some(&list))),
        Err(Refusal::EpochRevoked)
    );
}

#[test]
fn user_floor_refuses_credentials_issued_before_it() {
    let c = claims(&C);
    let mut list = revocation_list(2);
    list.floors = Bounded::from_slice(&[UserFloor {
        uid: c.uid,
        min_iat: c.iat + 1,
    }])
    .unwrap();
    assert_eq!(judge(&c, &view(Some(&list))), Err(Refusal::UserFloor));
    list.floors = Bounded::from_slice(&[UserFloor {
        uid: c.uid,
        min_iat: c.iat,
    }])
    .unwrap();
    assert_eq!(judge(&c, &view(Some(&list))), Ok(()));
}

#[test]
fn closed_access_window_is_refused() {
    let mut c = claims(&C);
    c.windows = Bounded::from_slice(&[latchkey_protocol::credential::Window {
        start: NOW + 60,
        end: NOW + 120,
    }])
    .unwrap();
    assert_eq!(judge(&c, &view(None)), Err(Refusal::OutsideWindow));
}

#[test]
fn untrusted_time_fails_closed_for_schedules_and_flagged_credentials() {
    let mut v = view(None);
    v.time_trusted = false;
    assert_eq!(judge(&claims(&C), &v), Err(Refusal::OutsideWindow));
    let mut c = claims(&C);
    c.windows = Bounded::new();
    assert_eq!(
        judge(&c, &v),
        Ok(()),
        "no schedule, no trusted-time flag: honoured"
    );
    c.flags = FLAG_NEEDS_TRUSTED_TIME;
    assert_eq!(judge(&c, &v), Err(Refusal::NeedsTrustedTime));
}

#[test]
fn missing_right_is_refused() {
    let mut c = claims(&C);
    c.rights = Operation::Lock.right_bit();
    assert_eq!(judge(&c, &view(None)), Err(Refusal::RightMissing));
}

#[test]
fn untrusted_issuer_is_refused() {
    assert_eq!(
        checks::check_claims(&claims(&C), &kid(&C, OTHER), Operation::Unlock, &view(None)),
        Err(Refusal::UntrustedIssuer)
    );
}

#[test]
fn forged_issuer_signature_is_refused() {
    let issuer_kid = kid(&C, ISSUER);
    // Signed by an attacker key, then relabelled with the trusted issuer's kid.
    let mut forged = issue(&C, &claims(&C), &signer(&C, OTHER));
    let other_kid = kid(&C, OTHER);
    let at = forged.windows(8).position(|w| w == other_kid).unwrap();
    forged[at..at + 8].copy_from_slice(&issuer_kid);
    let (cred, _) = Credential::decode(&forged).unwrap();
    assert_eq!(cred.envelope.kid, issuer_kid);
    assert_eq!(
        cred.verify_issuer(&C, &public(&C, ISSUER)).unwrap_err(),
        Error::Crypto
    );
    // A genuine credential with one claim byte changed (uid) no longer verifies either.
    let mut tampered = issue(&C, &claims(&C), &signer(&C, ISSUER));
    let uid_at = tampered
        .windows(3)
        .position(|w| w == [0x05, 0x19, 0x10])
        .unwrap();
    tampered[uid_at + 2] ^= 0x01;
    let (cred, claims) = Credential::decode(&tampered).unwrap();
    assert_ne!(claims.uid, 4242);
    assert_eq!(
        cred.verify_issuer(&C, &public(&C, ISSUER)).unwrap_err(),
        Error::Crypto
    );
}

#[test]
fn holder_signature_over_a_different_transcript_is_refused() {
    let cred = issue(&C, &claims(&C), &signer(&C, ISSUER));
    let (_, mut phone_a) = open_session(1);
    let sig_a = signer(&C, HOLDER).sign_th3(&phone_a, UNLOCK);
    let _ = seal_m3(&mut phone_a, &cred, UNLOCK);
    let (lock_b, _) = open_session(2);
    let holder = public(&C, HOLDER);
    assert_eq!(
        lock_b
            .verify_holder(&C, &holder, &CID, &UNLOCK, &sig_a)
            .unwrap_err(),
        Error::Crypto
    );
}

#[test]
fn holder_signature_over_a_different_command_is_refused() {
    let (lock, phone) = open_session(1);
    let sig_lock = signer(&C, HOLDER).sign_th3(
        &phone,
        Command {
            op: Operation::Lock,
            ..UNLOCK
        },
    );
    let holder = public(&C, HOLDER);
    lock.verify_holder(
        &C,
        &holder,
        &CID,
        &Command {
            op: Operation::Lock,
            ..UNLOCK
        },
        &sig_lock,
    )
    .unwrap();
    assert_eq!(
        lock.verify_holder(&C, &holder, &CID, &UNLOCK, &sig_lock)
            .unwrap_err(),
        Error::Crypto
    );
}

trait SignTh3 {
    fn sign_th3(&self, phone: &PhoneSession, cmd: Command) -> [u8; 64];
}

impl<S: latchkey_protocol::crypto::Signer> SignTh3 for S {
    fn sign_th3(&self, phone: &PhoneSession, cmd: Command) -> [u8; 64] {
        self.sign(&phone.th3(&C, &CID, &cmd)).unwrap()
    }
}

#[test]
fn older_or_equal_revocation_list_is_refused() {
    assert_eq!(
        checks::check_revocation_update(&SITE, 9, &revocation_list(9)),
        Err(Refusal::StaleRevocationList)
    );
    assert_eq!(
        checks::check_revocation_update(&SITE, 9, &revocation_list(8)),
        Err(Refusal::StaleRevocationList)
    );
    assert_eq!(
        checks::check_revocation_update(&SITE, 9, &revocation_list(10)),
        Ok(())
    );
    let mut other = revocation_list(10);
    other.site = [0x77; 16];
    assert_eq!(
        checks::check_revocation_update(&SITE, 9, &other),
        Err(Refusal::WrongSite)
    );
}

#[test]
fn revocation_list_signed_by_an_untrusted_key_is_refused() {
    let bytes = sign_list(&C, &revocation_list(10), &signer(&C, OTHER));
    assert_eq!(
        RevocationList::open(&C, &bytes, &public(&C, ISSUER)).unwrap_err(),
        Error::Crypto
    );
}

#[test]
fn time_token_for_another_nonce_is_refused() {
    let (lock, _) = open_session(1);
    let token = TimeToken {
        lock_id: LOCK_ID,
        nonce: [0xee; 16],
        utc_ms: u64::from(NOW) * 1000,
    };
    assert_eq!(
        checks::check_time_token(&token, &LOCK_ID, &lock.m2().nonce),
        Err(Refusal::TimeTokenForOtherSession)
    );
    let good = TimeToken {
        nonce: lock.m2().nonce,
        ..token
    };
    assert_eq!(
        checks::check_time_token(&good, &LOCK_ID, &lock.m2().nonce),
        Ok(())
    );
    assert_eq!(
        checks::check_time_token(&good, &OTHER_LOCK_ID, &lock.m2().nonce),
        Err(Refusal::WrongLock)
    );
}

#[test]
fn time_token_signed_by_another_key_is_refused() {
    let token = TimeToken {
        lock_id: LOCK_ID,
        nonce: [1; 16],
        utc_ms: 5,
    };
    let mut buf = [0u8; 160];
    let n = token.sign(&C, &signer(&C, OTHER), &mut buf).unwrap();
    assert_eq!(
        TimeToken::open(&C, &buf[..n], &public(&C, TIME_CMD)).unwrap_err(),
        Error::Crypto
    );
}

#[test]
fn clock_rollback_never_moves_last_known_good_backwards() {
    let lkgt = NOW;
    assert_eq!(checks::next_last_known_good(lkgt, NOW - 3600), NOW);
    assert_eq!(checks::next_last_known_good(lkgt, NOW + 5), NOW + 5);
}

fn remote(counter: u32, not_after: u32) -> RemoteCommand {
    RemoteCommand {
        lock_id: LOCK_ID,
        counter,
        op: Operation::Unlock,
        not_after,
        requester: 1,
    }
}

#[test]
fn replayed_remote_command_counter_is_refused() {
    assert_eq!(
        checks::check_remote_command(&remote(17, NOW + 10), &LOCK_ID, 17, NOW, true),
        Err(Refusal::CommandReplayed)
    );
    assert_eq!(
        checks::check_remote_command(&remote(16, NOW + 10), &LOCK_ID, 17, NOW, true),
        Err(Refusal::CommandReplayed)
    );
    assert_eq!(
        checks::check_remote_command(&remote(18, NOW + 10), &LOCK_ID, 17, NOW, true),
        Ok(())
    );
}

#[test]
fn expired_or_far_future_remote_command_is_refused() {
    assert_eq!(
        checks::check_remote_command(&remote(18, NOW - 1), &LOCK_ID, 17, NOW, true),
        Err(Refusal::CommandExpired)
    );
    assert_eq!(
        checks::check_remote_command(&remote(18, NOW + 31), &LOCK_ID, 17, NOW, true),
        Err(Refusal::CommandTooFarAhead)
    );
    assert_eq!(
        checks::check_remote_command(&remote(18, NOW + 30), &LOCK_ID, 17, NOW, false),
        Err(Refusal::NeedsTrustedTime)
    );
    let mut other = remote(18, NOW + 30);
    other.lock_id = OTHER_LOCK_ID;
    assert_eq!(
        checks::check_remote_command(&other, &LOCK_ID, 17, NOW, true),
        Err(Refusal::WrongLock)
    );
}

#[test]
fn remote_command_forged_by_a_hub_is_refused() {
    let mut buf = [0u8; 160];
    let n = remote(18, NOW + 30)
        .sign(&C, &signer(&C, OTHER), &mut buf)
        .unwrap();
    assert_eq!(
        RemoteCommand::open(&C, &buf[..n], &public(&C, TIME_CMD)).unwrap_err(),
        Error::Crypto
    );
}

fn records(from: u32, n: u32) -> Vec<Record> {
    (from..from + n)
        .map(|seq| Record {
            seq,
            time: NOW + seq,
            event: 2,
            ..Record::default()
        })
        .collect()
}

/// Seal consecutive batches of `sizes` records from genesis; returns sealed bytes and heads.
fn sealed_batches(sizes: &[u32]) -> (Vec<Vec<u8>>, [u8; 16]) {
    let key = log::derive_log_key(&C, &scalar(LOCK), &public(&C, CLOUD_LOG), &LOCK_ID).unwrap();
    let mut head = log::chain_genesis(&C, &LOCK_ID);
    let mut seq = 1;
    let mut out = Vec::new();
    for (i, n) in sizes.iter().enumerate() {
        let recs = records(seq, *n);
        let mut buf = [0u8; log::MAX_BATCH_LEN];
        let len = log::seal_batch(
            &C,
            &signer(&C, LOCK),
            &key,
            &BatchInput {
                lock_id: LOCK_ID,
                batch_ctr: i as u32 + 1,
                prev_head: head,
                records: &recs,
                time: NOW,
            },
            &mut buf,
        )
        .unwrap();
        for r in &recs {
            head = log::chain_next(&C, &head, r);
        }
        seq += n;
        out.push(buf[..len].to_vec());
    }
    (out, key)
}

fn open(bytes: &[u8], key: &[u8; 16]) -> Result<log::OpenedBatch, Error> {
    let mut scratch = [0u8; log::MAX_BATCH_LEN];
    log::open_batch(&C, &public(&C, LOCK), key, bytes, &mut scratch)
}

#[test]
fn tampered_log_batch_is_refused() {
    let (batches, key) = sealed_batches(&[3]);
    for i in 0..batches[0].len() {
        let mut t = batches[0].clone();
        t[i] ^= 0x20;
        assert!(
            open(&t, &key).is_err(),
            "flipping byte {i} must be detected"
        );
    }
    assert!(open(&batches[0], &key).is_ok());
}

#[test]
fn dropped_log_batch_shows_a_gap() {
    let (batches, key) = sealed_batches(&[2, 2, 2]);
    let mut cursor = ChainCursor::genesis(&C, &LOCK_ID);
    assert_eq!(
        cursor.advance(&open(&batches[0], &key).unwrap()),
        ChainStep::Continues
    );
    assert_eq!(
        cursor.advance(&open(&batches[2], &key).unwrap()),
        ChainStep::Gap {
            after_seq: 2,
            from_seq: 5
        }
    );
}

#[test]
fn reordered_log_batches_show_a_gap_and_a_duplicate() {
    let (batches, key) = sealed_batches(&[2, 2]);
    let mut cursor = ChainCursor::genesis(&C, &LOCK_ID);
    assert_eq!(
        cursor.advance(&open(&batches[1], &key).unwrap()),
        ChainStep::Gap {
            after_seq: 0,
            from_seq: 3
        }
    );
    assert_eq!(
        cursor.advance(&open(&batches[0], &key).unwrap()),
        ChainStep::Duplicate
    );
    let mut clean = ChainCursor::genesis(&C, &LOCK_ID);
    for b in &batches {
        assert_eq!(clean.advance(&open(b, &key).unwrap()), ChainStep::Continues);
    }
}

#[test]
fn log_batch_sealed_under_another_key_is_refused() {
    let (batches, _) = sealed_batches(&[1]);
    assert_eq!(open(&batches[0], &[0x42; 16]).unwrap_err(), Error::Crypto);
}

#[test]
fn forged_log_ack_is_refused() {
    let (batches, key) = sealed_batches(&[2]);
    let head = open(&batches[0], &key).unwrap().head;
    let ack = LogAck {
        lock_id: LOCK_ID,
        acked_seq: 2,
        head,
    };
    let mut buf = [0u8; 160];
    // Forged by a courier: wrong signing key.
    let n = ack.sign(&C, &signer(&C, OTHER), &mut buf).unwrap();
    assert_eq!(
        LogAck::open(&C, &buf[..n], &public(&C, ACK)).unwrap_err(),
        Error::Crypto
    );
    // Genuine signature but a head the lock never had: records stay.
    let wrong = LogAck {
        head: [0; 32],
        ..ack
    };
    assert_eq!(
        checks::check_log_ack(&wrong, &LOCK_ID, |_| Some(head)),
        Err(Refusal::AckMismatch)
    );
    assert_eq!(
        checks::check_log_ack(&ack, &LOCK_ID, |_| None),
        Err(Refusal::AckMismatch)
    );
    assert_eq!(
        checks::check_log_ack(&ack, &OTHER_LOCK_ID, |_| Some(head)),
        Err(Refusal::WrongLock)
    );
    assert_eq!(checks::check_log_ack(&ack, &LOCK_ID, |_| Some(head)), Ok(2));
}

#[test]
fn claim_without_the_label_secret_is_refused() {
    let bundle = b"bundle bytes";
    let nonce = [0x9a; 16];
    let proof = claim_proof(&C, &[0x5e; 16], &nonce, bundle).unwrap();
    assert_eq!(
        verify_claim_proof(&C, &[0x5e; 16], &nonce, bundle, &proof),
        Ok(())
    );
    assert_eq!(
        verify_claim_proof(&C, &[0x5f; 16], &nonce, bundle, &proof),
        Err(Error::Crypto)
    );
    assert_eq!(
        verify_claim_proof(&C, &[0x5e; 16], &[0x9b; 16], bundle, &proof),
        Err(Error::Crypto),
        "proof from another pairing window"
    );
    assert_eq!(
        verify_claim_proof(&C, &[0x5e; 16], &nonce, b"other bundle", &proof),
        Err(Error::Crypto)
    );
}
