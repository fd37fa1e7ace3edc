// Package coretest holds hand-written in-memory fakes of the ports for the
// core modules' tests: a store that implements every store port and the
// transaction runner, a steppable clock, sequential ids, a fast password
// hasher, a token issuer, a fixed-window rate limiter, and a WhatsApp, a
// queue and an event bus that record what they are given. It is for tests
// only; the fakes keep the error contracts of the real adapters so that core
// rules can be tested without a database.
package coretest
