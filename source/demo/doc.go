// Package demo is a simulated internal service desk: the exporter's default
// source, so that every metric family has data without any real ticketing
// system.
//
// # Model
//
// The desk is a pure function of (seed, desks, tickets_per_day, time).
// Nothing depends on when the exporter first started, so a restart, a second
// process or a golden test with a pinned clock all see the same tickets.
//
//   - Arrivals. Time is cut into one-hour slots counted from the Unix epoch.
//     Each slot draws its number of new tickets from a Poisson distribution
//     with its own RNG, seeded by (seed, slot). The mean follows a daily and a
//     weekly rhythm in UTC (busy mornings and afternoons, quiet nights and
//     weekends), scaled so that a week averages tickets_per_day per day.
//     The slot RNG also places each ticket within the hour and picks its
//     desk (IT is busier than HR and FAC).
//   - Lifecycles. Each ticket's whole life is generated up front, at
//     creation, from an RNG seeded by (seed, ticket id): automation
//     acknowledgement, internal notes, the first public reply (lognormal per
//     priority), waiting-for-customer rounds, resolution, the occasional
//     reopen, closing, a satisfaction rating and sometimes a changed rating.
//     A few tickets are neglected for weeks, and a few are resolved without
//     any public reply. Every lifecycle ends within maxLifetime of creation.
//   - Facts at T. What a poll at T delivers is the lifecycle truncated to
//     events at or before T: status, transitions, comments, resolutions and
//     rating so far, Updated = the last such event, and the SLAs as Jira
//     would report them at T (completed cycles, and the ongoing cycle with
//     its elapsed, remaining, breach time and pause computed at T).
//   - Internal customers and teams. Every reporter belongs to one customer
//     group for good (Engineering, Sales, Operations, Finance, HR,
//     Contractors, Suppliers), drawn from a hash of the seed and the
//     reporter. Groups differ in volume, in how long they wait for a first
//     reply (Finance about three times as long as Engineering), in how often
//     and how well they rate (contractors rate around 2.5, Engineering
//     around 4.4), and in which desks they use (suppliers mostly facilities).
//     A ticket is routed by its request type to a serving team (Service Desk
//     L1, Identity & Access, Workplace, Payroll, HR Operations, Facilities),
//     whose pace also sets the reply time; some incidents and onboardings
//     are escalated to Identity & Access when picked up, which changes the
//     team in the middle of the ticket's life. A ticket is assigned from
//     the moment it is picked up.
//
// SLAs run on a 24×7 calendar: "Time to first response" stops at the first
// public agent comment or at resolution; "Time to resolution" runs from
// creation (or a reopen) to resolution and pauses while the ticket waits
// for the customer.
//
// # Polling
//
// The cursor records the simulated instant delivered up to, together with a
// fingerprint of the configuration. The first poll (or one whose cursor is
// missing, foreign, or older than the retention window) delivers every
// ticket created within the last 45 days plus every ticket still open.
// Later polls deliver only the tickets whose facts changed after the cursor,
// including an ongoing SLA cycle turning breached. Every poll ends with a
// batch whose InScope lists the tickets created within the window or still
// open, so old closed tickets leave the gauges. Generated lifecycles are
// memoised per slot and dropped once they can no longer matter, so a poll
// costs little and memory stays bounded.
package demo
