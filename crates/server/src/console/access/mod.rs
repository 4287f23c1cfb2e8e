//! Console pages of access rights: the access review (filters, counts, bulk revocation), the
//! grant editor (subject, target, rights, validity in the site's time zone, weekly windows,
//! exceptions, uses, note), a grant in words with its delegation tree and revocation, "who can
//! open this lock at T, and why (not)" and "what can this person open".
//!
//! Times: people type and read wall-clock times of a site, with the zone named on the page;
//! the console converts them to UTC instants for the services with jiff (a wall time that does
//! not exist on a DST day is read with jiff's "compatible" rule: the later side of a gap, the
//! earlier of a repeat) and shows stored instants back in the site's zone.

mod explain;
mod grants;
mod time;
mod words;

use axum::Router;
use latchkey_domain::OrgId;
use latchkey_domain::access::{Impact, Removal};

use crate::console::directory::Catalog;
use crate::console::shell::ConsoleCaller;
use crate::web::WebState;

/// What a removal changes right now, in words: the person–door pairs that lose access and those
/// another grant keeps open. Shown on confirmation pages before a grant is revoked or a person
/// leaves a group.
pub(crate) struct ImpactView {
    /// The instant, on the wall clock of the organisation's first site, zone named.
    pub(crate) at: String,
    /// "Name (e-mail) — Door" that stop opening.
    pub(crate) lose: Vec<String>,
    /// Those that keep opening through another grant.
    pub(crate) keep: Vec<String>,
}

/// The preview of `removal` now, or `None` when the caller may not preview (the service says
/// so: members, and managers for group memberships).
pub(crate) async fn preview(
    state: &WebState,
    caller: &ConsoleCaller,
    org: OrgId,
    catalog: &Catalog,
    removal: Removal,
) -> Option<ImpactView> {
    let now = state.app.clock.now_ms();
    let impact: Impact = state
        .app
        .preview_removal(&caller.principal, org, removal, now)
        .await
        .ok()?;
    let zone = catalog
        .sites
        .first()
        .map_or_else(|| "UTC".to_owned(), |s| s.time_zone.clone());
    let pair = |p: &latchkey_domain::access::AccessPair| {
        let person = catalog.person(p.person).map_or_else(
            || p.person.to_string(),
            |x| format!("{} ({})", x.name, x.email),
        );
        let lock = catalog
            .device(p.lock)
            .map_or_else(|| p.lock.to_string(), |d| d.name.clone());
        format!("{person} — {lock}")
    };
    Some(ImpactView {
        at: time::local_text(now, &zone),
        lose: impact.lose.iter().map(pair).collect(),
        keep: impact.keep.iter().map(pair).collect(),
    })
}

/// This area's console routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
        .merge(grants::routes())
        .merge(explain::routes())
}
