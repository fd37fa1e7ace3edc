package app

import (
	"crypto/sha256"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/wagate/wagate/adapters/argon2id"
	"github.com/wagate/wagate/adapters/exportfs"
	"github.com/wagate/wagate/core/exports"
	"github.com/wagate/wagate/core/governance"
	"github.com/wagate/wagate/ports"
)

// buildExports wires the data exports (SPEC §18): rows in the database,
// files in the export directory, written by a job on the queue.
func (s *system) buildExports(cfg Config, clock ports.Clock, ids ports.IDGen, log *slog.Logger) error {
	dir := cfg.ExportDir
	if dir == "" {
		dir = filepath.Join(cfg.DataDir, "exports")
	}
	files, err := exportfs.New(dir)
	if err != nil {
		return fmt.Errorf("exports: %w", err)
	}
	s.exports = exports.New(exports.Deps{
		Exports: s.store.Exports(), Source: s.store.ExportSource(), Files: files,
		Queue: s.queue, Audit: s.store.Stores().Audit, Clock: clock, IDs: ids,
		Log: log.With("component", "exports"),
	})
	s.exports.Register(s.runner)
	return nil
}

// buildGovernance wires the data-governance module (SPEC §18) once the
// accounts, sessions and WhatsApp adapter are built.
func (s *system) buildGovernance(cfg Config, clock ports.Clock, ids ports.IDGen, log *slog.Logger) {
	// The audit log's HMAC of erased numbers is keyed from the JWT secret,
	// the one secret every node shares.
	key := sha256.Sum256(append([]byte("wagate erasure audit key\x00"), s.jwtSecret...))
	d := governance.Deps{
		Tx: s.store, Stores: s.store.Stores(), Clock: clock, IDs: ids, Hasher: argon2id.Default(),
		Eraser: s.store.Eraser(), Retention: s.store.Retention(), Wipe: s.store.Wiper(),
		Instances: s.sessions, Revoke: s.principals.Revoke,
		AuditKey: key[:], Log: log.With("component", "governance"),
	}
	if s.exports != nil {
		d.Exports = s.exports
	}
	if s.whatsapp != nil {
		d.Peers = s.whatsapp
	}
	s.governance = governance.New(d, cfg.Retention)
}
