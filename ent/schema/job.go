package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Job is a job of the embedded queue (adapters/localqueue). A completed job
// is deleted; a dead one is kept a while for inspection.
type Job struct{ ent.Schema }

// Fields of Job.
func (Job) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").MaxRuneLen(128).NotEmpty().Immutable(),
		field.String("type").MaxRuneLen(100).NotEmpty().Immutable(),
		field.Bytes("payload").Optional().Immutable(),
		field.JSON("trace", map[string]string{}).Optional().Immutable(),
		// state is pending, running or dead.
		field.String("state").MaxRuneLen(16).NotEmpty(),
		field.Int("attempts").Default(0),
		field.Int("max_attempts"),
		field.Time("run_at"),
		// locked_until is the lease of a running job: past it, a crashed
		// runner's job may be claimed again.
		field.Time("locked_until").Optional().Nillable(),
		// claim identifies the current run, so that a runner that lost its
		// lease cannot complete or reschedule the job another run holds.
		field.String("claim").MaxRuneLen(64).Default(""),
		field.Text("last_error").Default(""),
		field.Time("created_at").Immutable(),
		field.Time("updated_at"),
	}
}

// Indexes of Job.
func (Job) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("type", "state", "run_at"),
		index.Fields("state", "updated_at"),
	}
}
