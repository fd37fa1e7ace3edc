// Package events is the event log (SPEC §10, "The event log"). Its
// writing side: modules append each event through Log in the transaction
// of the change it reports, so that no change commits without its event
// nor an event without its change, and wake the dispatcher after the
// commit. Its reading side: Feed lets a client that was away catch up
// (GET /events?after=) and Tail joins that replay to the live stream
// without a gap or a repeat at the seam. The dispatcher that follows the
// log (webhook deliveries, the realtime bus) lives in core/webhooks.
package events
