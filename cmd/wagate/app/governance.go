package app

import (
	"crypto/sha256"
	"log/slog"

	"github.com/wagate/wagate/adapters/argon2id"
	"github.com/wagate/wagate/core/governance"
	"github.com/wagate/wagate/ports"
)

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
	if s.whatsapp != nil {
		d.Peers = s.whatsapp
	}
	s.governance = governance.New(d, cfg.Retention)
}
