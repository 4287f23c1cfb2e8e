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

use crate::web::WebState;

/// This area's console routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
        .merge(grants::routes())
        .merge(explain::routes())
}
