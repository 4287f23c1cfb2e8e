//! L0 of the lockout design (research §2.2): a per-client-IP throttle on failed sign-ins that
//! runs before any password hashing, so one address cannot make the server burn Argon2 time or
//! walk through many accounts. At most 10 failures a minute and 50 an hour per address; beyond
//! that every attempt from it gets 429 with `Retry-After` until the window ends (always expiring).
//!
//! Deliberately in memory: it guards this process's CPU, and a restart forgetting it costs only
//! a few more hashes — the account lockout (in the database) is the real control. The map is
//! bounded: past [`MAX_TRACKED_ADDRESSES`] entries, expired ones are dropped, and if that is not
//! enough the least recently seen tenth goes, so a flood of addresses cannot grow memory.
//!
//! The key is the TCP peer address (`X-Forwarded-For` is never trusted, test T12); IPv6 addresses
//! are keyed by their /64, since one host usually holds a whole /64.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Failures per address per minute before it is throttled.
pub const FAILURES_PER_MINUTE: u32 = 10;
/// Failures per address per hour before it is throttled.
pub const FAILURES_PER_HOUR: u32 = 50;
/// Addresses tracked at most (about 64 bytes each).
pub const MAX_TRACKED_ADDRESSES: usize = 65_536;

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;

/// A fixed counting window.
#[derive(Debug, Clone, Copy)]
struct Window {
    start_ms: i64,
    count: u32,
}

impl Window {
    /// The window at `now_ms`: a new one if the old one ended.
    fn at(self, now_ms: i64, length_ms: i64) -> Self {
        if now_ms.saturating_sub(self.start_ms) >= length_ms || now_ms < self.start_ms {
            Window {
                start_ms: now_ms,
                count: 0,
            }
        } else {
            self
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    minute: Window,
    hour: Window,
    last_ms: i64,
}

/// The throttle; one per process, shared by every sign-in entry point through [`crate::App`].
#[derive(Debug)]
pub struct LoginThrottle {
    entries: Mutex<HashMap<IpAddr, Entry>>,
    capacity: usize,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::with_capacity(MAX_TRACKED_ADDRESSES)
    }
}

/// The key of a client address: IPv4 as is, IPv6 by its /64; `None` for in-process callers
/// (CLI, tests) and anything unparsable, which are not throttled.
fn key(source_ip: Option<&str>) -> Option<IpAddr> {
    let ip: IpAddr = source_ip?.parse().ok()?;
    Some(match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
    })
}

/// Whole seconds from `now_ms` to `end_ms`, at least 1 (a `Retry-After` of 0 invites a loop).
fn secs_until(end_ms: i64, now_ms: i64) -> u64 {
    let ms = end_ms.saturating_sub(now_ms).max(0);
    u64::try_from(ms.saturating_add(999) / 1000)
        .unwrap_or(1)
        .max(1)
}

impl LoginThrottle {
    /// A throttle tracking at most `capacity` addresses.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Entry>> {
        // A panic while holding the lock cannot leave a half-written entry worth refusing over.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `Err(retry_after_secs)` if the address has used up its failures; call before hashing.
    pub fn check(&self, source_ip: Option<&str>, now_ms: i64) -> Result<(), u64> {
        let Some(key) = key(source_ip) else {
            return Ok(());
        };
        let entries = self.entries();
        let Some(entry) = entries.get(&key) else {
            return Ok(());
        };
        let hour = entry.hour.at(now_ms, HOUR_MS);
        if hour.count >= FAILURES_PER_HOUR {
            return Err(secs_until(hour.start_ms.saturating_add(HOUR_MS), now_ms));
        }
        let minute = entry.minute.at(now_ms, MINUTE_MS);
        if minute.count >= FAILURES_PER_MINUTE {
            return Err(secs_until(
                minute.start_ms.saturating_add(MINUTE_MS),
                now_ms,
            ));
        }
        Ok(())
    }

    /// Counts one failed attempt from the address.
    pub fn record_failure(&self, source_ip: Option<&str>, now_ms: i64) {
        let Some(key) = key(source_ip) else {
            return;
        };
        let mut entries = self.entries();
        if !entries.contains_key(&key) && entries.len() >= self.capacity {
            evict(&mut entries, now_ms, self.capacity);
        }
        let fresh = Window {
            start_ms: now_ms,
            count: 0,
        };
        let entry = entries.entry(key).or_insert(Entry {
            minute: fresh,
            hour: fresh,
            last_ms: now_ms,
        });
        entry.minute = entry.minute.at(now_ms, MINUTE_MS);
        entry.hour = entry.hour.at(now_ms, HOUR_MS);
        entry.minute.count = entry.minute.count.saturating_add(1);
        entry.hour.count = entry.hour.count.saturating_add(1);
        entry.last_ms = now_ms;
    }

    /// Addresses tracked now (for tests and metrics).
    pub fn tracked(&self) -> usize {
        self.entries().len()
    }
}

/// Makes room: entries whose hour has passed carry no information; if the map is still full the
/// least recently seen tenth is dropped (an attacker rotating addresses only forgets its own).
fn evict(entries: &mut HashMap<IpAddr, Entry>, now_ms: i64, capacity: usize) {
    entries.retain(|_, e| now_ms.saturating_sub(e.last_ms) < HOUR_MS);
    if entries.len() < capacity {
        return;
    }
    let mut seen: Vec<i64> = entries.values().map(|e| e.last_ms).collect();
    let drop_count = (capacity / 10).max(1).min(seen.len());
    let (_, cutoff, _) = seen.select_nth_unstable(drop_count.saturating_sub(1));
    let cutoff = *cutoff;
    entries.retain(|_, e| e.last_ms > cutoff);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000_000;

    #[test]
    fn the_eleventh_failure_in_a_minute_is_throttled_until_the_minute_ends() {
        let throttle = LoginThrottle::default();
        let ip = Some("192.0.2.1");
        for i in 0..10 {
            assert_eq!(throttle.check(ip, T0 + i), Ok(()));
            throttle.record_failure(ip, T0 + i);
        }
        assert_eq!(throttle.check(ip, T0 + 10_000), Err(50));
        assert_eq!(throttle.check(Some("192.0.2.2"), T0), Ok(()));
        assert_eq!(
            throttle.check(ip, T0 + MINUTE_MS),
            Ok(()),
            "always expiring"
        );
    }

    #[test]
    fn fifty_failures_an_hour_are_throttled_until_the_hour_ends() {
        let throttle = LoginThrottle::default();
        let ip = Some("192.0.2.1");
        for i in 0..50 {
            let at = T0 + i * 7 * 1000; // 8.6 a minute: under the minute limit
            assert_eq!(throttle.check(ip, at), Ok(()), "attempt {i}");
            throttle.record_failure(ip, at);
        }
        let retry = throttle.check(ip, T0 + 400_000).unwrap_err();
        assert_eq!(retry, 3_600 - 400);
        assert_eq!(throttle.check(ip, T0 + HOUR_MS), Ok(()));
    }

    #[test]
    fn ipv6_addresses_of_one_slash_64_share_a_count() {
        let throttle = LoginThrottle::default();
        for i in 0..10 {
            throttle.record_failure(Some(&format!("2001:db8::{i:x}")), T0);
        }
        assert!(throttle.check(Some("2001:db8::ffff"), T0).is_err());
        assert!(throttle.check(Some("2001:db8:0:1::1"), T0).is_ok());
    }

    #[test]
    fn memory_stays_bounded_under_many_addresses() {
        let throttle = LoginThrottle::with_capacity(1_000);
        for i in 0..20_000u32 {
            let ip = std::net::Ipv4Addr::from(0x0a00_0000 + i).to_string();
            throttle.record_failure(Some(&ip), T0 + i64::from(i));
        }
        assert!(throttle.tracked() <= 1_000, "{}", throttle.tracked());
        // The most recent offender is still remembered.
        for _ in 0..9 {
            throttle.record_failure(Some("10.0.78.31"), T0 + 20_000);
        }
        assert!(throttle.check(Some("10.0.78.31"), T0 + 20_001).is_err());
    }

    #[test]
    fn in_process_callers_are_not_throttled() {
        let throttle = LoginThrottle::default();
        for _ in 0..100 {
            throttle.record_failure(None, T0);
        }
        assert_eq!(throttle.check(None, T0), Ok(()));
        assert_eq!(throttle.tracked(), 0);
    }
}
