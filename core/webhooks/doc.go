// Package webhooks is the webhooks core module of SPEC §9: endpoints that
// receive the events of SPEC §10, signed per Standard Webhooks
// (https://www.standardwebhooks.com), retried on a schedule and disabled when
// they keep failing.
//
// This part is the pure heart of the module, free of I/O so that every rule
// is table-tested: secrets and their rotation, signing, the retry schedule,
// the classification of one delivery attempt, auto-disable, and event
// filters. The store, the routes, the fan-out and the delivery worker build
// on it.
package webhooks
