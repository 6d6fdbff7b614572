//! Service-level defaults (时限): how long a ticket of each priority has from intake to
//! resolution, and the share of that time each earlier stage gets. A site overrides the
//! resolution times in gateway.toml (`[sla]`); the simulator scales them for its clock.

use protocol::Priority;

/// Default minutes from intake to the resolution deadline for urgent, important and
/// normal tickets (indexed by `Priority as usize`): 4 hours, 1 day, 3 days.
pub const DEFAULT_SLA_MINUTES: [u32; 3] = [4 * 60, 24 * 60, 72 * 60];

/// The longest SLA a ticket may ask for: a leap year, in minutes.
pub const MAX_SLA_MINUTES: u32 = 366 * 24 * 60;

/// The default SLA of a priority, in minutes.
pub fn default_minutes(p: Priority) -> u32 {
    DEFAULT_SLA_MINUTES[p as usize]
}

/// The accept (签收) deadline after a dispatch: this share of the ticket's whole SLA, so
/// a 4-hour urgent ticket must be accepted within 24 minutes and a 72-hour one within
/// 7.2 hours. (A site with fixed stage limits would put them in the policy instead.)
pub const ACCEPT_SHARE: f64 = 0.10;
/// The start-of-work (处置) deadline after acceptance, as a share of the SLA: a ticket
/// accepted and then left idle past it comes back up and is supervised.
pub const START_SHARE: f64 = 0.20;
