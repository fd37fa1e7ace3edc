// Package ent holds wagate's ent schemas (./schema), the code ent generates
// from them, and the versioned SQL migrations (./migrate/migrations).
package ent

//go:generate go tool ent generate --feature sql/versioned-migration,sql/lock,sql/upsert,sql/execquery ./schema
