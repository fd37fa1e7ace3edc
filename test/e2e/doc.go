// Package e2e holds wagate's end-to-end HTTP suite: each test group starts
// the real server in-process (test/testserver) on SQLite and on PostgreSQL,
// and on Redis where rate limits matter, and checks the HTTP contract of
// SPEC.md §2–5 and §11–13 from the outside: status codes, problem+json
// error codes, response shapes and headers.
package e2e
