// Package webhooks is the webhooks core module of SPEC §9: endpoints that
// receive the events of SPEC §10, signed per Standard Webhooks
// (https://www.standardwebhooks.com), retried on a schedule and disabled when
// they keep failing.
//
// Its pure heart is free of I/O so that every rule is table-tested:
// secrets and their rotation, signing, the retry schedule, the
// classification of one delivery attempt, auto-disable, and event filters.
// The store, the routes, the event dispatcher that follows the event log
// (dispatch.go: deliveries and the realtime bus), the delivery worker (in
// creation order per endpoint, see lanes), and the periodic passes (the
// relay and the auto-disable sweep) build on it. An Observer, implemented
// by a metrics adapter, is told what deliveries do.
package webhooks
