//! # The access decision core
//!
//! Pure and deterministic: no IO, no clock (every question takes the instant), no randomness.
//! The server loads an organisation into an [`AccessModel`] (through [`AccessModelBuilder`],
//! which validates every reference) and asks it:
//!
//! - [`AccessModel::decide`] — may person P open lock L at instant T, with the grants that allow
//!   it or the reason it is denied (and the near-miss grants);
//! - [`AccessModel::who_can_open`] / [`AccessModel::what_can_open`] — with reasons;
//! - [`AccessModel::access_windows`] — the exact UTC intervals in which `decide` allows, which
//!   offline credentials carry;
//! - [`AccessModel::what_changes_if`] — the pairs that lose or keep access if a grant or a group
//!   membership is removed;
//! - [`AccessModel::check_derived`], [`AccessModel::descendants`], [`AccessModel::ancestors`] —
//!   delegation.
//!
//! ## Vocabulary
//!
//! A [`GrantSpec`] gives a [`Subject`] (a person, or a group: its members at the instant decided)
//! [`Rights`] (unlock, share, manage) on a [`Target`] (one lock, a space with its whole subtree, or a
//! device group) during a [`Schedule`]. Only grants with `unlock` open a lock.
//!
//! ## Time: the wall-clock definition
//!
//! Weekly windows, closed and open dates are read in the local time of the site **of the lock
//! being opened** (a device group may span sites; each lock uses its own site's clock). An
//! instant is inside a weekly window iff the site-local wall clock at that instant, on a local
//! date whose weekday is allowed and which is not closed, reads within `[start, end)`.
//! Consequences:
//!
//! - on a spring-forward day a window inside the gap (e.g. 02:15–02:45 in Europe/Berlin on the
//!   last Sunday of March) opens for no instant, and a window crossing the gap is shorter in real
//!   time;
//! - on a fall-back day the repeated hour is inside the window both times, so one window can
//!   produce two disjoint UTC intervals (a window 02:15–02:45 in Berlin on the last Sunday of
//!   October is open 00:15–00:45Z and 01:15–01:45Z);
//! - overnight windows (end ≤ start, e.g. 22:00–06:00) belong to the date they start on: closing
//!   that date closes the whole window, closing the next date does not;
//! - validity bounds and bookings are UTC instants and need no interpretation.
//!
//! ## Decision precedence
//!
//! Unknown person or lock, then account disabled, guest expired, device disabled (these hold
//! whatever the grants say); then "no grant" if no grant reaches the pair; otherwise, if no grant
//! allows, the refusal of the most useful near miss in this order: outside window, not yet valid,
//! uses exhausted, expired, revoked, scope (a delegation that no longer holds), no unlock right.
//! Ties break by grant id. All near misses are returned, in that order.
//!
//! ## Delegation
//!
//! See [`delegation`]: a derived grant is evaluated as the intersection with its whole ancestor
//! chain, so "never wider than the parent" holds by construction, and
//! [`AccessModel::check_derived`] refuses visibly wider requests up front.

mod calendar;
mod csr;
pub mod decision;
pub mod delegation;
mod fast_hash;
pub mod grant;
pub mod impact;
pub mod interval;
pub mod model;
pub mod queries;
pub mod rights;
pub mod schedule;

#[cfg(test)]
mod tests;

pub use decision::{Decision, Denial, GrantRefusal, NearMiss, Reason, SubjectPath, TargetPath};
pub use delegation::DelegationError;
pub use grant::{Delegation, GrantSpec, Subject, Target};
pub use impact::{AccessPair, Impact, Removal};
pub use interval::Interval;
pub use model::{
    AccessModel, AccessModelBuilder, LockSpec, MAX_DELEGATION_DEPTH, ModelCounts, ModelError,
    PersonSpec, SiteSpec, SpaceSpec,
};
pub use queries::{
    DelegationNode, LockAccess, MAX_ACCESS_WINDOW_RANGE_MS, PersonAccess, QueryError,
};
pub use rights::Rights;
pub use schedule::{
    DayWindow, MAX_BOOKINGS, MAX_EXCEPTION_DATES, MAX_WEEKLY_WINDOWS, MAX_WINDOWS_PER_OPEN_DATE,
    OpenDate, Schedule, ScheduleError, ScheduleSpec, WallTime, Weekdays, WeeklyWindow,
};

use crate::ids::{AccountId, DeviceId};

/// May `person` open `lock` at `at_ms`? Same as [`AccessModel::decide`].
pub fn decide(model: &AccessModel, person: AccountId, lock: DeviceId, at_ms: i64) -> Decision {
    model.decide(person, lock, at_ms)
}

/// Who may open `lock` at `at_ms`, and why. Same as [`AccessModel::who_can_open`].
pub fn who_can_open(
    model: &AccessModel,
    lock: DeviceId,
    at_ms: i64,
) -> Result<Vec<PersonAccess>, QueryError> {
    model.who_can_open(lock, at_ms)
}

/// What `person` may open at `at_ms`, and why. Same as [`AccessModel::what_can_open`].
pub fn what_can_open(
    model: &AccessModel,
    person: AccountId,
    at_ms: i64,
) -> Result<Vec<LockAccess>, QueryError> {
    model.what_can_open(person, at_ms)
}

/// The exact UTC intervals in `[from_ms, to_ms)` in which `decide` allows. Same as
/// [`AccessModel::access_windows`].
pub fn access_windows(
    model: &AccessModel,
    person: AccountId,
    lock: DeviceId,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<Interval>, QueryError> {
    model.access_windows(person, lock, from_ms, to_ms)
}
