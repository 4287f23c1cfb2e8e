//! Request ids: every request gets one (a well-formed `X-Request-Id` from a trusted proxy, or a
//! new UUIDv7), it is echoed in the response, carried by problem documents and audit events, and
//! put on every log line written while the request is handled (see `crate::logging`).
//!
//! The id lives inline in a small `Copy` value rather than a `String`: it is made for every
//! request, including the health probes that run thousands of times a second.

use std::cell::Cell;
use std::fmt;

use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// The request-id header, accepted from a trusted proxy when well-formed and always returned.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest client-supplied id kept.
const MAX_LEN: usize = 64;

tokio::task_local! {
    /// The current request's id, set for the whole time a request is handled so that errors built
    /// and lines logged while handling it can carry it.
    pub(crate) static REQUEST_ID: RequestId;
}

/// A request id: ASCII letters, digits, `-`, `_` and `.` only, 1 to 64 bytes, so it can go into
/// log lines, JSON and headers without escaping.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestId {
    bytes: [u8; MAX_LEN],
    len: u8,
}

impl RequestId {
    /// Keeps a client-supplied id only if it is short and plain, so it cannot inject into logs.
    pub fn parse(text: &[u8]) -> Option<Self> {
        let plain = !text.is_empty()
            && text.len() <= MAX_LEN
            && text
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
        if !plain {
            return None;
        }
        let mut bytes = [0; MAX_LEN];
        bytes.get_mut(..text.len())?.copy_from_slice(text);
        Some(Self {
            bytes,
            len: u8::try_from(text.len()).ok()?,
        })
    }

    /// A new id: a UUIDv7, so ids sort by time (to the millisecond); the 74 other bits come from
    /// [`random_bits`], which makes ids unique but not unguessable. Nothing relies on that: an
    /// id only correlates a response with log lines and audit events.
    pub fn generate() -> Self {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let random = random_bits().to_le_bytes();
        let mut tail = [0; 10];
        tail.copy_from_slice(random.get(..10).unwrap_or(&[0; 10]));
        let uuid = uuid::Builder::from_unix_timestamp_millis(millis, &tail).into_uuid();
        let mut bytes = [0; MAX_LEN];
        let len = uuid.hyphenated().encode_lower(&mut bytes).len();
        Self {
            bytes,
            // A hyphenated UUID is 36 bytes.
            len: u8::try_from(len).unwrap_or(0),
        }
    }

    /// The id of a request: its `X-Request-Id` if acceptable (returned as the header value to
    /// echo, which costs no copy), otherwise a new one.
    pub(crate) fn for_request(headers: &HeaderMap) -> (Self, Option<HeaderValue>) {
        if let Some(value) = headers.get(&X_REQUEST_ID)
            && let Some(id) = Self::parse(value.as_bytes())
        {
            return (id, Some(value.clone()));
        }
        (Self::generate(), None)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        let bytes = self.bytes.get(..usize::from(self.len)).unwrap_or_default();
        // Only ASCII is ever stored, so this never falls back.
        std::str::from_utf8(bytes).unwrap_or_default()
    }

    /// The id as a response header value.
    pub(crate) fn header_value(&self) -> Option<HeaderValue> {
        // From the bytes: the text is ASCII by construction, so no UTF-8 pass is needed first.
        HeaderValue::from_bytes(self.bytes.get(..usize::from(self.len))?).ok()
    }
}

/// 128 bits from a per-thread SplitMix64 stream seeded from the OS generator. `uuid::Uuid::now_v7`
/// would take a process-wide mutex for its counter and draw from a ChaCha generator on every
/// request; this is a few multiplications.
fn random_bits() -> u128 {
    thread_local! {
        static STATE: Cell<u64> = Cell::new(rand::random());
    }
    STATE.with(|state| {
        let high = splitmix64(state);
        let low = splitmix64(state);
        u128::from(high) << 64 | u128::from(low)
    })
}

fn splitmix64(state: &Cell<u64>) -> u64 {
    let next = state.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
    state.set(next);
    let mut z = next;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// The current request's id as a `String`, if a request is being handled.
pub(crate) fn current() -> Option<String> {
    REQUEST_ID.try_with(|id| id.as_str().to_owned()).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn plain_ids_are_kept_and_others_refused() {
        assert_eq!(
            RequestId::parse(b"lb-1234_a.b").unwrap().as_str(),
            "lb-1234_a.b"
        );
        assert_eq!(
            RequestId::parse(&[b'a'; 64]).unwrap().as_str(),
            "a".repeat(64)
        );
        for bad in [
            &b""[..],
            &[b'a'; 65][..],
            b"evil\tINFO forged line",
            b"a b",
            b"a\"b",
            b"a\nb",
            "é".as_bytes(),
        ] {
            assert!(RequestId::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn generated_ids_are_uuids_and_distinct() {
        let a = RequestId::generate();
        let b = RequestId::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 36);
        let parsed = uuid::Uuid::parse_str(a.as_str()).unwrap();
        assert_eq!(parsed.get_version_num(), 7);
        let (secs, _) = parsed.get_timestamp().unwrap().to_unix();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(now.abs_diff(secs) < 5, "{secs} vs {now}");
        let many: std::collections::HashSet<_> =
            (0..10_000).map(|_| RequestId::generate()).collect();
        assert_eq!(many.len(), 10_000);
        assert!(RequestId::parse(a.as_str().as_bytes()).is_some());
    }

    #[test]
    fn the_header_is_echoed_without_copying_when_kept() {
        let mut headers = HeaderMap::new();
        headers.insert(&X_REQUEST_ID, HeaderValue::from_static("proxy-7"));
        let (id, echo) = RequestId::for_request(&headers);
        assert_eq!(id.as_str(), "proxy-7");
        assert_eq!(echo.unwrap(), "proxy-7");
        headers.insert(&X_REQUEST_ID, HeaderValue::from_static("bad id"));
        let (id, echo) = RequestId::for_request(&headers);
        assert_ne!(id.as_str(), "bad id");
        assert!(echo.is_none());
    }
}
