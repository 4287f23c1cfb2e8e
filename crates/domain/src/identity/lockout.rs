//! Lockout after consecutive failures — research §2.2–§2.4, the whitepaper's "locked after 3
//! consecutive wrong passwords" without a trivial denial of service: the 3rd consecutive failure
//! locks for 5 min, later episodes for 15 and then 60 min, and 10 episodes without a success end in
//! a hard lock that only an e-mailed unlock link, a password reset or an org admin clears (§2.2 L1,
//! L3; NIST SP 800-53 AC-7 "usually temporary"; NIST SP 800-63B ≤ 100 consecutive failures; ASVS 5.0
//! 6.3.1, 6.1.1).
//!
//! One [`LockoutState`] per lane: the account's untrusted lane, each trusted device (§2.2 L2, OWASP
//! device cookies) and the MFA factor (§2.2 L5, with [`LockoutPolicy::mfa_default`]). The caller
//! loads the state under a row lock (§2.2 I1), calls [`LockoutState::check`] before verifying the
//! password, records the outcome, and writes the state back in the same transaction.
//!
//! Time-driven transitions (a lock expiring, the failure window passing) are applied lazily from
//! `now_ms`, so nothing needs a timer. The failure window is measured from the last failure or the
//! end of the last lock, whichever is later (§2.3 "reset after this with no new failure", §2.4): time
//! spent locked is not quiet time the user chose, so a long lock does not reset the escalation.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// One minute in milliseconds.
pub const MINUTE_MS: i64 = 60_000;
/// One hour in milliseconds.
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
/// One day in milliseconds.
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// Bounds of §2.3: the failures that start a lock episode.
pub const MAX_CONSECUTIVE_FAILURES_RANGE: std::ops::RangeInclusive<u32> = 3..=10;
/// Bounds of §2.3: each lock lasts at least a minute and at most a day (always temporary, AC-7).
pub const LOCK_DURATION_MS_RANGE: std::ops::RangeInclusive<i64> = MINUTE_MS..=DAY_MS;
/// How many escalation steps a policy may list; later episodes reuse the last one (the cap).
pub const MAX_LOCK_DURATION_STEPS: usize = 8;
/// Bounds of §2.3: the quiet time after which counters and episodes start afresh.
pub const FAILURE_WINDOW_MS_RANGE: std::ops::RangeInclusive<i64> = HOUR_MS..=(7 * DAY_MS);
/// Bounds of §2.3: episodes before the hard lock (≤ 30 × 3 failures stays under NIST's 100).
pub const HARD_LOCK_AFTER_EPISODES_RANGE: std::ops::RangeInclusive<u32> = 2..=30;
/// Below this many episodes to the hard lock, the user must be told of locks (§2.3): the e-mailed
/// unlock link is the self-service way out of a hard lock an attacker caused.
pub const NOTIFY_REQUIRED_BELOW_EPISODES: u32 = 5;

/// The tenant-configurable parameters as stored and sent over the API; validate with
/// [`LockoutPolicy::try_from`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockoutParams {
    /// Consecutive failures that start a lock episode (default 3).
    pub max_consecutive_failures: u32,
    /// Lock length of episode 1, 2, …; the last one repeats (default 5, 15, 60 min).
    pub lock_durations_ms: Vec<i64>,
    /// Quiet time after which counters and episodes reset (default 24 h).
    pub failure_window_ms: i64,
    /// Episodes without a success before the hard lock (default 10).
    pub hard_lock_after_episodes: u32,
    /// Whether the user is e-mailed on a lock (default on; §2.2 L4).
    pub notify_user_on_lock: bool,
}

/// Validated lockout parameters; every value is within the bounds of research §2.3.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "LockoutParams", into = "LockoutParams")]
pub struct LockoutPolicy {
    params: LockoutParams,
}

/// A lockout parameter outside the bounds of research §2.3.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockoutPolicyError {
    /// `max_consecutive_failures` outside 3–10.
    #[error("the number of failures before a lock must be between 3 and 10")]
    MaxConsecutiveFailures,
    /// No lock duration, too many, one outside 1 min–24 h, or a later one shorter than an earlier one.
    #[error(
        "lock durations must be 1 to 8 steps, each between 1 minute and 24 hours, never shorter than the one before"
    )]
    LockDurations,
    /// `failure_window_ms` outside 1 h–7 days.
    #[error("the failure window must be between 1 hour and 7 days")]
    FailureWindow,
    /// `hard_lock_after_episodes` outside 2–30.
    #[error("the number of lock episodes before a hard lock must be between 2 and 30")]
    HardLockAfterEpisodes,
    /// Notification switched off while the hard lock comes after fewer than 5 episodes.
    #[error(
        "lock e-mails must stay on when the hard lock comes after fewer than 5 episodes: they carry the self-service unlock link"
    )]
    NotificationRequired,
}

impl LockoutPolicyError {
    /// The parameter at fault, as named in the API.
    pub const fn field(&self) -> &'static str {
        match self {
            LockoutPolicyError::MaxConsecutiveFailures => "max_consecutive_failures",
            LockoutPolicyError::LockDurations => "lock_durations_ms",
            LockoutPolicyError::FailureWindow => "failure_window_ms",
            LockoutPolicyError::HardLockAfterEpisodes => "hard_lock_after_episodes",
            LockoutPolicyError::NotificationRequired => "notify_user_on_lock",
        }
    }
}

impl From<LockoutPolicyError> for DomainError {
    fn from(error: LockoutPolicyError) -> Self {
        DomainError::invalid(error.field(), error.to_string())
    }
}

impl TryFrom<LockoutParams> for LockoutPolicy {
    type Error = LockoutPolicyError;

    fn try_from(params: LockoutParams) -> Result<Self, Self::Error> {
        if !MAX_CONSECUTIVE_FAILURES_RANGE.contains(&params.max_consecutive_failures) {
            return Err(LockoutPolicyError::MaxConsecutiveFailures);
        }
        let durations = &params.lock_durations_ms;
        let durations_ok = !durations.is_empty()
            && durations.len() <= MAX_LOCK_DURATION_STEPS
            && durations.iter().all(|d| LOCK_DURATION_MS_RANGE.contains(d))
            && durations.windows(2).all(|pair| pair.first() <= pair.get(1));
        if !durations_ok {
            return Err(LockoutPolicyError::LockDurations);
        }
        if !FAILURE_WINDOW_MS_RANGE.contains(&params.failure_window_ms) {
            return Err(LockoutPolicyError::FailureWindow);
        }
        if !HARD_LOCK_AFTER_EPISODES_RANGE.contains(&params.hard_lock_after_episodes) {
            return Err(LockoutPolicyError::HardLockAfterEpisodes);
        }
        if params.hard_lock_after_episodes < NOTIFY_REQUIRED_BELOW_EPISODES
            && !params.notify_user_on_lock
        {
            return Err(LockoutPolicyError::NotificationRequired);
        }
        Ok(Self { params })
    }
}

impl From<LockoutPolicy> for LockoutParams {
    fn from(policy: LockoutPolicy) -> Self {
        policy.params
    }
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self::password_default()
    }
}

impl LockoutPolicy {
    /// The password lanes' defaults of §2.3: 3 failures; 5, 15, 60 min; 24 h window; hard lock after 10.
    pub fn password_default() -> Self {
        Self {
            params: LockoutParams {
                max_consecutive_failures: 3,
                lock_durations_ms: vec![5 * MINUTE_MS, 15 * MINUTE_MS, 60 * MINUTE_MS],
                failure_window_ms: DAY_MS,
                hard_lock_after_episodes: 10,
                notify_user_on_lock: true,
            },
        }
    }

    /// The MFA counter's defaults (research REQ-9.3, §2.2 L5): 5 wrong codes lock the factor for
    /// 5 min, escalating like the password lane; its own state, never the password's.
    pub fn mfa_default() -> Self {
        let mut policy = Self::password_default();
        policy.params.max_consecutive_failures = 5;
        policy
    }

    /// The parameters, for storage and display.
    pub fn params(&self) -> &LockoutParams {
        &self.params
    }

    /// Consecutive failures that start a lock episode.
    pub fn max_consecutive_failures(&self) -> u32 {
        self.params.max_consecutive_failures
    }

    /// Episodes without a success before the hard lock.
    pub fn hard_lock_after_episodes(&self) -> u32 {
        self.params.hard_lock_after_episodes
    }

    /// Quiet time after which counters and episodes reset.
    pub fn failure_window_ms(&self) -> i64 {
        self.params.failure_window_ms
    }

    /// Whether the user is e-mailed when a lock starts.
    pub fn notify_user_on_lock(&self) -> bool {
        self.params.notify_user_on_lock
    }

    /// How long lock episode `episode` (1-based) lasts; episodes past the list use its last entry.
    pub fn lock_duration_ms(&self, episode: u32) -> i64 {
        let durations = &self.params.lock_durations_ms;
        let index = usize::try_from(episode.saturating_sub(1)).unwrap_or(usize::MAX);
        durations
            .get(index)
            .or(durations.last())
            .copied()
            .unwrap_or(*LOCK_DURATION_MS_RANGE.start())
    }
}

/// What the caller may do with a password (or code) attempt right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "gate", rename_all = "snake_case")]
pub enum Gate {
    /// Verify the password and record the outcome.
    Open,
    /// Temporarily locked: do not verify; answer exactly like a wrong password (§2.5).
    Locked {
        /// When the lock ends, epoch ms UTC.
        until_ms: i64,
    },
    /// Hard-locked until an unlock link, a reset or an admin: do not verify; answer like a wrong password.
    HardLocked,
}

/// What a recorded failure changed, for the audit log and the lock e-mail (§2.2 I6, L4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum LockoutEvent {
    /// The attempt came while locked and was not counted (§2.2: no count change while locked).
    NotCounted,
    /// The failure was counted; no lock yet.
    Counted {
        /// Consecutive failures so far in this episode.
        consecutive_failures: u32,
    },
    /// This failure started lock episode `episode` (`authn_login_lock`; e-mail the user).
    Locked {
        /// The episode number, 1-based, within the current failure window.
        episode: u32,
        /// When the lock ends, epoch ms UTC.
        until_ms: i64,
    },
    /// This failure completed the last allowed episode: hard lock (`authn_login_lock`; e-mail the user).
    HardLocked {
        /// Episodes counted, equal to the policy's `hard_lock_after_episodes`.
        episodes: u32,
    },
}

/// The lockout state of one lane (account, device or MFA factor); small and serialisable for a row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LockoutState {
    /// Consecutive failures counted in the current episode (never above the policy's maximum).
    pub consecutive_failures: u32,
    /// Lock episodes since the last success, unlock or quiet failure window.
    pub episodes: u32,
    /// End of the current temporary lock, epoch ms UTC; may lie in the past (expired lazily).
    pub locked_until_ms: Option<i64>,
    /// Hard-locked: only [`LockoutState::unlock`] clears it.
    pub hard_locked: bool,
    /// First failure of the current run, epoch ms UTC (for the lock e-mail and audit).
    pub first_failure_ms: Option<i64>,
    /// Most recent counted failure, epoch ms UTC (anchors the failure window).
    pub last_failure_ms: Option<i64>,
}

impl LockoutState {
    /// The state with the time-driven transitions of §2.4 applied at `now_ms`: an expired lock opens
    /// with the count at zero (episodes kept); a quiet failure window resets everything but a hard lock.
    fn settled(&self, policy: &LockoutPolicy, now_ms: i64) -> Self {
        if self.hard_locked {
            return *self;
        }
        let quiet_since = match (self.last_failure_ms, self.locked_until_ms) {
            (Some(failure), Some(until)) => Some(failure.max(until)),
            (failure, until) => failure.or(until),
        };
        if let Some(since) = quiet_since
            && now_ms.saturating_sub(since) >= policy.failure_window_ms()
        {
            return Self::default();
        }
        match self.locked_until_ms {
            Some(until) if now_ms >= until => Self {
                consecutive_failures: 0,
                locked_until_ms: None,
                ..*self
            },
            _ => *self,
        }
    }

    /// Whether an attempt may be verified at `now_ms`; call before the password hash is touched.
    pub fn check(&self, policy: &LockoutPolicy, now_ms: i64) -> Gate {
        let state = self.settled(policy, now_ms);
        if state.hard_locked {
            return Gate::HardLocked;
        }
        match state.locked_until_ms {
            Some(until_ms) if now_ms < until_ms => Gate::Locked { until_ms },
            _ => Gate::Open,
        }
    }

    /// Records a wrong password (or code) at `now_ms`; attempts while locked are not counted.
    pub fn record_failure(&mut self, policy: &LockoutPolicy, now_ms: i64) -> LockoutEvent {
        *self = self.settled(policy, now_ms);
        if self.check(policy, now_ms) != Gate::Open {
            return LockoutEvent::NotCounted;
        }
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        self.first_failure_ms.get_or_insert(now_ms);
        self.last_failure_ms = Some(now_ms);
        if self.consecutive_failures < policy.max_consecutive_failures() {
            return LockoutEvent::Counted {
                consecutive_failures: self.consecutive_failures,
            };
        }
        self.episodes = self.episodes.saturating_add(1);
        if self.episodes >= policy.hard_lock_after_episodes() {
            self.hard_locked = true;
            self.locked_until_ms = None;
            return LockoutEvent::HardLocked {
                episodes: self.episodes,
            };
        }
        let until_ms = now_ms.saturating_add(policy.lock_duration_ms(self.episodes));
        self.locked_until_ms = Some(until_ms);
        LockoutEvent::Locked {
            episode: self.episodes,
            until_ms,
        }
    }

    /// Records a verified password (or code): counters and episodes reset (§2.4). A hard lock stays:
    /// a success cannot happen through a closed gate, and if a caller bug let one through, only an
    /// explicit unlock may reopen the account.
    pub fn record_success(&mut self) {
        if !self.hard_locked {
            *self = Self::default();
        }
    }

    /// Clears every lock and counter: e-mailed unlock link, completed password reset, or org-admin
    /// unlock (§2.2 L3; audit `authn_login_unlock`).
    pub fn unlock(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T0: i64 = 1_800_000_000_000;
    const SECOND_MS: i64 = 1_000;

    fn policy() -> LockoutPolicy {
        LockoutPolicy::password_default()
    }

    /// Fails until a lock starts; returns the lock event.
    fn fail_until_locked(
        state: &mut LockoutState,
        policy: &LockoutPolicy,
        now_ms: i64,
    ) -> LockoutEvent {
        for _ in 0..policy.max_consecutive_failures() {
            let event = state.record_failure(policy, now_ms);
            if !matches!(event, LockoutEvent::Counted { .. }) {
                return event;
            }
        }
        panic!("no lock after max_consecutive_failures failures")
    }

    // T1
    #[test]
    fn fourth_attempt_with_correct_password_is_refused_while_locked() {
        let mut state = LockoutState::default();
        assert_eq!(
            state.record_failure(&policy(), T0),
            LockoutEvent::Counted {
                consecutive_failures: 1
            }
        );
        assert_eq!(
            state.record_failure(&policy(), T0 + SECOND_MS),
            LockoutEvent::Counted {
                consecutive_failures: 2
            }
        );
        let until_ms = T0 + 2 * SECOND_MS + 5 * MINUTE_MS;
        assert_eq!(
            state.record_failure(&policy(), T0 + 2 * SECOND_MS),
            LockoutEvent::Locked {
                episode: 1,
                until_ms
            }
        );
        // The 4th attempt never reaches the password check, so a correct password changes nothing.
        assert_eq!(
            state.check(&policy(), T0 + 3 * SECOND_MS),
            Gate::Locked { until_ms }
        );
    }

    #[test]
    fn attempts_while_locked_are_not_counted() {
        let mut state = LockoutState::default();
        fail_until_locked(&mut state, &policy(), T0);
        let before = state;
        for i in 1..=20 {
            assert_eq!(
                state.record_failure(&policy(), T0 + i * SECOND_MS),
                LockoutEvent::NotCounted
            );
        }
        assert_eq!(state, before);
    }

    // T2
    #[test]
    fn wrong_correct_wrong_wrong_does_not_lock_because_success_resets_the_count() {
        let mut state = LockoutState::default();
        state.record_failure(&policy(), T0);
        assert_eq!(state.check(&policy(), T0 + 1), Gate::Open);
        state.record_success();
        state.record_failure(&policy(), T0 + 2);
        assert_eq!(
            state.record_failure(&policy(), T0 + 3),
            LockoutEvent::Counted {
                consecutive_failures: 2
            }
        );
        assert_eq!(state.check(&policy(), T0 + 4), Gate::Open);
    }

    // T3
    #[test]
    fn lock_expires_five_minutes_after_the_third_failure_and_not_a_second_earlier() {
        let mut state = LockoutState::default();
        fail_until_locked(&mut state, &policy(), T0);
        let until_ms = T0 + 5 * MINUTE_MS;
        assert_eq!(
            state.check(&policy(), T0 + 5 * MINUTE_MS - SECOND_MS),
            Gate::Locked { until_ms }
        );
        assert_eq!(
            state.check(&policy(), T0 + 5 * MINUTE_MS + SECOND_MS),
            Gate::Open
        );
        state.record_success();
        assert_eq!(state, LockoutState::default());
    }

    #[test]
    fn after_a_lock_expires_three_new_failures_are_needed_for_the_next_episode() {
        let mut state = LockoutState::default();
        fail_until_locked(&mut state, &policy(), T0);
        let later = T0 + 5 * MINUTE_MS;
        assert_eq!(
            state.record_failure(&policy(), later),
            LockoutEvent::Counted {
                consecutive_failures: 1
            }
        );
        assert_eq!(state.episodes, 1);
    }

    // T4
    #[test]
    fn lock_durations_escalate_5_15_60_60_and_restart_after_the_failure_window() {
        let policy = policy();
        let mut state = LockoutState::default();
        let mut now = T0;
        for (episode, minutes) in [(1, 5), (2, 15), (3, 60), (4, 60)] {
            assert_eq!(
                fail_until_locked(&mut state, &policy, now),
                LockoutEvent::Locked {
                    episode,
                    until_ms: now + minutes * MINUTE_MS
                }
            );
            now += minutes * MINUTE_MS;
        }
        // 24 h without a failure after the last lock ended: the next episode is the first again.
        now += DAY_MS;
        assert_eq!(
            fail_until_locked(&mut state, &policy, now),
            LockoutEvent::Locked {
                episode: 1,
                until_ms: now + 5 * MINUTE_MS
            }
        );
    }

    #[test]
    fn failures_spread_wider_than_the_window_never_accumulate() {
        let mut state = LockoutState::default();
        for i in 0..10 {
            assert_eq!(
                state.record_failure(&policy(), T0 + i * DAY_MS),
                LockoutEvent::Counted {
                    consecutive_failures: 1
                }
            );
        }
    }

    // T5 (state part): the hard lock and its only ways out.
    #[test]
    fn tenth_episode_hard_locks_until_an_explicit_unlock() {
        let policy = policy();
        let mut state = LockoutState::default();
        let mut now = T0;
        for episode in 1..10 {
            let event = fail_until_locked(&mut state, &policy, now);
            assert!(matches!(event, LockoutEvent::Locked { episode: e, .. } if e == episode));
            now += policy.lock_duration_ms(episode);
        }
        assert_eq!(
            fail_until_locked(&mut state, &policy, now),
            LockoutEvent::HardLocked { episodes: 10 }
        );
        // Neither time, nor a (wrongly recorded) success, nor more failures open it.
        for later in [now + HOUR_MS, now + 30 * DAY_MS] {
            assert_eq!(state.check(&policy, later), Gate::HardLocked);
            assert_eq!(
                state.record_failure(&policy, later),
                LockoutEvent::NotCounted
            );
        }
        state.record_success();
        assert_eq!(state.check(&policy, now + 31 * DAY_MS), Gate::HardLocked);
        state.unlock();
        assert_eq!(state.check(&policy, now + 31 * DAY_MS), Gate::Open);
        assert_eq!(state, LockoutState::default());
    }

    #[test]
    fn unlock_reopens_a_temporary_lock_and_restarts_escalation() {
        let mut state = LockoutState::default();
        fail_until_locked(&mut state, &policy(), T0);
        state.unlock();
        assert_eq!(state.check(&policy(), T0 + 1), Gate::Open);
        assert!(matches!(
            fail_until_locked(&mut state, &policy(), T0 + 2),
            LockoutEvent::Locked { episode: 1, .. }
        ));
    }

    // T10 (state part)
    #[test]
    fn device_lane_has_its_own_counter_untouched_by_the_account_lane() {
        let policy = policy();
        let mut account = LockoutState::default();
        let mut victim_device = LockoutState::default();
        // An attacker without the device cookie locks the account lane.
        fail_until_locked(&mut account, &policy, T0);
        assert!(matches!(
            account.check(&policy, T0 + 1),
            Gate::Locked { .. }
        ));
        // The victim's browser, presenting its device cookie, is judged by its own lane.
        assert_eq!(victim_device.check(&policy, T0 + 1), Gate::Open);
        victim_device.record_success();
        // Three wrong attempts from the victim's browser lock only that device.
        fail_until_locked(&mut victim_device, &policy, T0 + 2);
        assert!(matches!(
            victim_device.check(&policy, T0 + 3),
            Gate::Locked { .. }
        ));
        let other_device = LockoutState::default();
        assert_eq!(other_device.check(&policy, T0 + 3), Gate::Open);
    }

    // T15 (state part)
    #[test]
    fn mfa_counter_locks_after_five_wrong_codes_and_leaves_the_password_state_alone() {
        let password_policy = policy();
        let mfa_policy = LockoutPolicy::mfa_default();
        let mut password = LockoutState::default();
        password.record_success();
        let password_before = password;
        let mut mfa = LockoutState::default();
        for attempt in 1..=4 {
            assert_eq!(
                mfa.record_failure(&mfa_policy, T0 + i64::from(attempt)),
                LockoutEvent::Counted {
                    consecutive_failures: attempt
                }
            );
        }
        assert_eq!(
            mfa.record_failure(&mfa_policy, T0 + 5),
            LockoutEvent::Locked {
                episode: 1,
                until_ms: T0 + 5 + 5 * MINUTE_MS
            }
        );
        assert!(matches!(
            mfa.check(&mfa_policy, T0 + 6),
            Gate::Locked { .. }
        ));
        assert_eq!(password, password_before);
        assert_eq!(password.check(&password_policy, T0 + 6), Gate::Open);
    }

    #[test]
    fn a_clock_that_steps_back_keeps_the_lock() {
        let mut state = LockoutState::default();
        fail_until_locked(&mut state, &policy(), T0);
        assert!(matches!(
            state.check(&policy(), T0 - HOUR_MS),
            Gate::Locked { .. }
        ));
    }

    #[test]
    fn extreme_times_do_not_overflow() {
        let mut state = LockoutState::default();
        fail_until_locked(&mut state, &policy(), i64::MAX - 1);
        assert_eq!(
            state.check(&policy(), i64::MAX - 1),
            Gate::Locked { until_ms: i64::MAX }
        );
        let mut state = LockoutState::default();
        fail_until_locked(&mut state, &policy(), i64::MIN);
        assert!(matches!(
            state.check(&policy(), i64::MIN),
            Gate::Locked { .. }
        ));
        assert_eq!(state.check(&policy(), i64::MAX), Gate::Open);
    }

    #[test]
    fn state_round_trips_through_json() {
        let mut state = LockoutState::default();
        fail_until_locked(&mut state, &policy(), T0);
        let json = serde_json::to_string(&state).unwrap();
        assert_eq!(serde_json::from_str::<LockoutState>(&json).unwrap(), state);
    }

    fn params() -> LockoutParams {
        LockoutPolicy::password_default().params().clone()
    }

    #[test]
    fn policy_parameters_outside_the_bounds_are_refused() {
        let cases: Vec<(LockoutParams, LockoutPolicyError)> = vec![
            (
                LockoutParams {
                    max_consecutive_failures: 2,
                    ..params()
                },
                LockoutPolicyError::MaxConsecutiveFailures,
            ),
            (
                LockoutParams {
                    max_consecutive_failures: 11,
                    ..params()
                },
                LockoutPolicyError::MaxConsecutiveFailures,
            ),
            (
                LockoutParams {
                    lock_durations_ms: vec![],
                    ..params()
                },
                LockoutPolicyError::LockDurations,
            ),
            (
                LockoutParams {
                    lock_durations_ms: vec![59 * SECOND_MS],
                    ..params()
                },
                LockoutPolicyError::LockDurations,
            ),
            (
                LockoutParams {
                    lock_durations_ms: vec![DAY_MS + 1],
                    ..params()
                },
                LockoutPolicyError::LockDurations,
            ),
            (
                LockoutParams {
                    lock_durations_ms: vec![15 * MINUTE_MS, 5 * MINUTE_MS],
                    ..params()
                },
                LockoutPolicyError::LockDurations,
            ),
            (
                LockoutParams {
                    lock_durations_ms: vec![MINUTE_MS; 9],
                    ..params()
                },
                LockoutPolicyError::LockDurations,
            ),
            (
                LockoutParams {
                    failure_window_ms: HOUR_MS - 1,
                    ..params()
                },
                LockoutPolicyError::FailureWindow,
            ),
            (
                LockoutParams {
                    failure_window_ms: 7 * DAY_MS + 1,
                    ..params()
                },
                LockoutPolicyError::FailureWindow,
            ),
            (
                LockoutParams {
                    hard_lock_after_episodes: 1,
                    ..params()
                },
                LockoutPolicyError::HardLockAfterEpisodes,
            ),
            (
                LockoutParams {
                    hard_lock_after_episodes: 31,
                    ..params()
                },
                LockoutPolicyError::HardLockAfterEpisodes,
            ),
            (
                LockoutParams {
                    hard_lock_after_episodes: 4,
                    notify_user_on_lock: false,
                    ..params()
                },
                LockoutPolicyError::NotificationRequired,
            ),
        ];
        for (params, expected) in cases {
            assert_eq!(
                LockoutPolicy::try_from(params.clone()),
                Err(expected.clone()),
                "{params:?}"
            );
            let error = DomainError::from(expected.clone());
            assert_eq!(error.field, Some(expected.field()));
        }
        assert!(
            LockoutPolicy::try_from(LockoutParams {
                hard_lock_after_episodes: 5,
                notify_user_on_lock: false,
                ..params()
            })
            .is_ok()
        );
        assert!(LockoutPolicy::try_from(LockoutPolicy::mfa_default().params().clone()).is_ok());
    }

    #[test]
    fn policy_deserialisation_validates_the_bounds() {
        let mut json = serde_json::to_value(LockoutPolicy::password_default()).unwrap();
        assert_eq!(
            serde_json::from_value::<LockoutPolicy>(json.clone()).unwrap(),
            policy()
        );
        json["max_consecutive_failures"] = serde_json::json!(100);
        assert!(serde_json::from_value::<LockoutPolicy>(json).is_err());
    }

    #[derive(Debug, Clone)]
    enum Op {
        Fail,
        Success,
        Unlock,
        Advance(i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => Just(Op::Fail),
            1 => Just(Op::Success),
            1 => Just(Op::Unlock),
            3 => (0..2 * HOUR_MS).prop_map(Op::Advance),
            1 => (0..3 * DAY_MS).prop_map(Op::Advance),
        ]
    }

    fn any_policy() -> impl Strategy<Value = LockoutPolicy> {
        (
            MAX_CONSECUTIVE_FAILURES_RANGE,
            proptest::collection::vec(LOCK_DURATION_MS_RANGE, 1..=MAX_LOCK_DURATION_STEPS),
            FAILURE_WINDOW_MS_RANGE,
            HARD_LOCK_AFTER_EPISODES_RANGE,
        )
            .prop_map(|(failures, mut durations, window, episodes)| {
                durations.sort_unstable();
                LockoutPolicy::try_from(LockoutParams {
                    max_consecutive_failures: failures,
                    lock_durations_ms: durations,
                    failure_window_ms: window,
                    hard_lock_after_episodes: episodes,
                    notify_user_on_lock: true,
                })
                .unwrap()
            })
    }

    proptest! {
        #[test]
        fn lockout_invariants_hold_for_any_sequence(
            policy in any_policy(),
            ops in proptest::collection::vec(op(), 0..200),
        ) {
            let mut state = LockoutState::default();
            let mut now = T0;
            let mut last_lock: Option<(u32, i64)> = None;
            for op in ops {
                match op {
                    Op::Advance(ms) => now += ms,
                    Op::Unlock => {
                        state.unlock();
                        prop_assert_eq!(state.check(&policy, now), Gate::Open);
                    }
                    Op::Success => {
                        let was_hard = state.hard_locked;
                        state.record_success();
                        // A success always reopens; only a hard lock waits for an explicit unlock.
                        if !was_hard {
                            prop_assert_eq!(state.check(&policy, now), Gate::Open);
                            prop_assert_eq!(state, LockoutState::default());
                        }
                    }
                    Op::Fail => {
                        let gate = state.check(&policy, now);
                        let before = state;
                        let event = state.record_failure(&policy, now);
                        if gate != Gate::Open {
                            prop_assert_eq!(event, LockoutEvent::NotCounted);
                            prop_assert_eq!(state.check(&policy, now), gate);
                            prop_assert_eq!(state.consecutive_failures, before.consecutive_failures);
                        }
                        match event {
                            LockoutEvent::Locked { episode, until_ms } => {
                                let duration = until_ms - now;
                                prop_assert_eq!(duration, policy.lock_duration_ms(episode));
                                prop_assert!(episode < policy.hard_lock_after_episodes());
                                // Within a window, each episode's lock is at least as long as the last.
                                if let Some((last_episode, last_duration)) = last_lock
                                    && episode == last_episode + 1
                                {
                                    prop_assert!(duration >= last_duration);
                                }
                                last_lock = Some((episode, duration));
                            }
                            LockoutEvent::HardLocked { episodes } => {
                                prop_assert_eq!(episodes, policy.hard_lock_after_episodes());
                                prop_assert_eq!(state.check(&policy, now), Gate::HardLocked);
                            }
                            LockoutEvent::Counted { consecutive_failures } => {
                                prop_assert!(consecutive_failures < policy.max_consecutive_failures());
                            }
                            LockoutEvent::NotCounted => prop_assert!(gate != Gate::Open),
                        }
                    }
                }
                prop_assert!(state.consecutive_failures <= policy.max_consecutive_failures());
                prop_assert!(state.episodes <= policy.hard_lock_after_episodes());
            }
        }

        #[test]
        fn hard_lock_comes_after_exactly_n_episodes_of_max_failures(policy in any_policy()) {
            let mut state = LockoutState::default();
            let mut now = T0;
            let mut failures = 0_u32;
            loop {
                failures += 1;
                match state.record_failure(&policy, now) {
                    LockoutEvent::HardLocked { episodes } => {
                        prop_assert_eq!(episodes, policy.hard_lock_after_episodes());
                        break;
                    }
                    LockoutEvent::Locked { until_ms, .. } => now = until_ms,
                    LockoutEvent::Counted { .. } => now += SECOND_MS,
                    LockoutEvent::NotCounted => prop_assert!(false, "counted attempt refused"),
                }
            }
            prop_assert_eq!(
                failures,
                policy.hard_lock_after_episodes() * policy.max_consecutive_failures()
            );
        }
    }
}
