package migrate

import (
	"slices"

	"entgo.io/ent/dialect/sql/schema"
	"entgo.io/ent/schema/field"
)

// The jobs table of the embedded queue (adapters/localqueue), which writes
// its own SQL on it. It is described here, by hand, rather than as an ent
// schema, so that ent generates no client for a table nothing reads
// through ent, while the migrations (ent/migrate/gen) and the drift check
// (test/storetest) still cover it: they use AllTables. It is what ent
// generated from the schema it replaces, so the migrations stay the same.
//
// A completed job is deleted; a dead one is kept a while for inspection.
// state is pending, running or dead; locked_until is the lease of a
// running job (past it, a crashed runner's job may be claimed again);
// claim identifies the current run, so that a runner that lost its lease
// cannot complete or reschedule the job another run holds.
var (
	// JobsColumns holds the columns for the "jobs" table.
	JobsColumns = []*schema.Column{
		{Name: "id", Type: field.TypeString, Size: 128},
		{Name: "type", Type: field.TypeString, Size: 100},
		{Name: "payload", Type: field.TypeBytes, Nullable: true},
		{Name: "trace", Type: field.TypeJSON, Nullable: true},
		{Name: "state", Type: field.TypeString, Size: 16},
		{Name: "attempts", Type: field.TypeInt, Default: 0},
		{Name: "max_attempts", Type: field.TypeInt},
		{Name: "run_at", Type: field.TypeTime},
		{Name: "locked_until", Type: field.TypeTime, Nullable: true},
		{Name: "claim", Type: field.TypeString, Size: 64, Default: ""},
		{Name: "last_error", Type: field.TypeString, Size: 2147483647, Default: ""},
		{Name: "created_at", Type: field.TypeTime},
		{Name: "updated_at", Type: field.TypeTime},
	}
	// JobsTable holds the schema information for the "jobs" table.
	JobsTable = &schema.Table{
		Name:       "jobs",
		Columns:    JobsColumns,
		PrimaryKey: []*schema.Column{JobsColumns[0]},
		Indexes: []*schema.Index{
			{
				Name:    "job_type_state_run_at",
				Unique:  false,
				Columns: []*schema.Column{JobsColumns[1], JobsColumns[4], JobsColumns[7]},
			},
			{
				Name:    "job_state_updated_at",
				Unique:  false,
				Columns: []*schema.Column{JobsColumns[4], JobsColumns[12]},
			},
		},
	}
)

// AllTables are the tables the migrations create: ent's schema (Tables)
// and the tables kept out of it.
var AllTables = append(slices.Clone(Tables), JobsTable)
