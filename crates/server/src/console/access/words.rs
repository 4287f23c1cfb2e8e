//! Grants, reasons and denials said in words ("Staff · Tower (whole subtree) · unlock ·
//! Mon–Fri 09:00–18:00 Asia/Tokyo"), in the page language.

use latchkey_domain::access::decision::{GrantRefusal, SubjectPath, TargetPath};
use latchkey_domain::access::{Denial, Reason, Subject, Target, Weekdays};
use latchkey_store::repo::GrantRecord;

use super::time::local_text;
use crate::console::directory::Catalog;
use crate::console::shell::Chrome;

const DAY_KEYS: [&str; 7] = [
    "day.mon", "day.tue", "day.wed", "day.thu", "day.fri", "day.sat", "day.sun",
];

/// "Mon–Fri", "Mon, Wed, Sat–Sun": runs of consecutive days joined by a dash.
pub(super) fn days(c: &Chrome, days: Weekdays) -> String {
    let mut parts = Vec::new();
    let mut day = 0;
    while day < 7 {
        if !days.contains(day) {
            day += 1;
            continue;
        }
        let start = day;
        while day + 1 < 7 && days.contains(day + 1) {
            day += 1;
        }
        let name = |d: usize| {
            c.t(DAY_KEYS.get(d).copied().unwrap_or("day.mon"))
                .to_owned()
        };
        parts.push(if day == start {
            name(start)
        } else {
            format!("{}–{}", name(start), name(day))
        });
        day += 1;
    }
    parts.join(", ")
}

/// The grant's subject by name.
pub(super) fn subject(c: &Chrome, catalog: &Catalog, subject: Subject) -> String {
    match subject {
        Subject::Person(p) => catalog
            .person(p)
            .map_or_else(|| c.t("access.someone").to_owned(), |p| p.name.clone()),
        Subject::Group(g) => catalog
            .group(g)
            .map_or_else(|| c.t("access.a_group").to_owned(), |g| g.name.clone()),
    }
}

/// The grant's target by name: a lock, a space with its subtree, a device group.
pub(super) fn target(c: &Chrome, catalog: &Catalog, target: Target) -> String {
    match target {
        Target::Lock(l) => catalog
            .device(l)
            .map_or_else(|| c.t("access.a_lock").to_owned(), |d| d.name.clone()),
        Target::Space(s) => format!("{} {}", catalog.space_path(s), c.t("access.subtree")),
        Target::DeviceGroup(g) => catalog
            .device_groups
            .iter()
            .find(|d| d.id == g)
            .map_or_else(
                || c.t("access.a_device_group").to_owned(),
                |d| d.name.clone(),
            ),
    }
}

/// The zone a grant's wall-clock parts are read in: the site of its lock or space; device
/// groups may span sites (each lock reads its own), so their validity is shown in UTC.
pub(super) fn zone_of(catalog: &Catalog, target: Target) -> String {
    let site = match target {
        Target::Lock(l) => catalog.site_of_device(l),
        Target::Space(s) => catalog.site_of_space(s),
        Target::DeviceGroup(_) => None,
    };
    site.map_or_else(|| "UTC".to_owned(), |s| s.time_zone.clone())
}

/// The rights by name.
pub(super) fn rights(c: &Chrome, grant: &GrantRecord) -> String {
    grant
        .spec
        .rights
        .names()
        .into_iter()
        .map(|n| match n {
            "unlock" => c.t("access.right.unlock"),
            "share" => c.t("access.right.share"),
            _ => c.t("access.right.manage"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The weekly windows: "Mon–Fri 09:00–18:00; Sat 10:00–14:00 Asia/Tokyo".
pub(super) fn weekly(c: &Chrome, grant: &GrantRecord, zone: &str) -> String {
    let windows: Vec<String> = grant
        .schedule
        .weekly
        .iter()
        .map(|w| format!("{} {}–{}", days(c, w.days), w.start, w.end))
        .collect();
    if windows.is_empty() {
        c.t("access.no_weekly").to_owned()
    } else {
        format!("{} {zone}", windows.join("; "))
    }
}

/// The one-line summary: subject · target · rights · weekly windows.
pub(super) fn summary(c: &Chrome, catalog: &Catalog, grant: &GrantRecord) -> String {
    let zone = zone_of(catalog, grant.spec.target);
    format!(
        "{} · {} · {} · {}",
        subject(c, catalog, grant.spec.subject),
        target(c, catalog, grant.spec.target),
        rights(c, grant),
        weekly(c, grant, &zone)
    )
}

/// The validity: "from 2026-11-29 18:00 Asia/Tokyo until 2027-03-31 00:00 Asia/Tokyo".
pub(super) fn validity(c: &Chrome, grant: &GrantRecord, zone: &str) -> String {
    let from = local_text(grant.schedule.valid_from_ms, zone);
    match grant.schedule.valid_until_ms {
        Some(until) => format!(
            "{} {from} {} {}",
            c.t("access.from"),
            c.t("access.until"),
            local_text(until, zone)
        ),
        None => format!("{} {from} {}", c.t("access.from"), c.t("access.open_ended")),
    }
}

/// Why one grant lets the person in: "Staff · via group Staff · via space Tower".
pub(super) fn reason(c: &Chrome, catalog: &Catalog, r: &Reason) -> Vec<String> {
    let mut out = Vec::new();
    match r.subject {
        SubjectPath::Direct => out.push(c.t("access.via.direct").to_owned()),
        SubjectPath::Group(g) => out.push(format!(
            "{} {}",
            c.t("access.via.group"),
            catalog.group(g).map_or("?", |g| g.name.as_str())
        )),
    }
    match r.target {
        TargetPath::Lock => out.push(c.t("access.via.lock").to_owned()),
        TargetPath::Space(s) => out.push(format!(
            "{} {}",
            c.t("access.via.space"),
            catalog.space_path(s)
        )),
        TargetPath::DeviceGroup(g) => out.push(format!(
            "{} {}",
            c.t("access.via.device_group"),
            catalog
                .device_groups
                .iter()
                .find(|d| d.id == g)
                .map_or("?", |d| d.name.as_str())
        )),
    }
    if r.delegated_from.is_some() {
        out.push(c.t("access.via.shared").to_owned());
    }
    out
}

/// The catalog key of a denial.
pub(super) fn denial_key(d: Denial) -> &'static str {
    match d {
        Denial::UnknownPerson => "access.denial.unknown_person",
        Denial::UnknownLock => "access.denial.unknown_lock",
        Denial::AccountDisabled => "access.denial.account_disabled",
        Denial::GuestExpired => "access.denial.guest_expired",
        Denial::DeviceDisabled => "access.denial.device_disabled",
        Denial::NoGrant => "access.denial.no_grant",
        Denial::OutsideWindow => "access.denial.outside_window",
        Denial::NotYetValid => "access.denial.not_yet_valid",
        Denial::UsesExhausted => "access.denial.uses_exhausted",
        Denial::Expired => "access.denial.expired",
        Denial::Revoked => "access.denial.revoked",
        Denial::Scope => "access.denial.scope",
        Denial::NoUnlockRight => "access.denial.no_unlock_right",
    }
}

/// The catalog key of one grant's refusal.
pub(super) fn refusal_key(r: GrantRefusal) -> &'static str {
    denial_key(Denial::from(r))
}
