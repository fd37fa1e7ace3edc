// Package schema holds the ent schemas of wagate's tables. Ids are opaque
// strings made by the application (time-ordered UUIDv7), so both SQLite and
// PostgreSQL store them alike.
package schema
