// Package events is the event log's writing side (SPEC §10, "The event
// log"): modules append each event through Log in the transaction of the
// change it reports, so that no change commits without its event nor an
// event without its change, and wake the dispatcher after the commit. The
// dispatcher that follows the log (webhook deliveries, the realtime bus)
// lives in core/webhooks.
package events
