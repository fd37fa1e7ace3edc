package whatsapp

// Erasure of a person from whatsmeow's device store (SPEC §18): the rows
// that name them on the given devices, and the LID mapping of their
// number. whatsmeow has no API to forget a peer, so this deletes from its
// tables directly; they live in wagate's database.

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"go.mau.fi/whatsmeow/types"

	"github.com/wagate/wagate/ports"
)

var _ ports.WAPeerEraser = (*Manager)(nil)

// LIDForPhone (lid.go) answers ports.WAPeerEraser too.

// peerColumns are whatsmeow's per-device tables and the columns naming
// the peer: a JID (user@server, user:device@server) or a Signal address
// (user:device, user_agent:device).
var peerColumns = []struct{ table, column string }{
	{"whatsmeow_contacts", "their_jid"},
	{"whatsmeow_sessions", "their_id"},
	{"whatsmeow_identity_keys", "their_id"},
	{"whatsmeow_sender_keys", "sender_id"},
	{"whatsmeow_message_secrets", "chat_jid"},
	{"whatsmeow_message_secrets", "sender_jid"},
	{"whatsmeow_privacy_tokens", "their_jid"},
	{"whatsmeow_chat_settings", "chat_jid"},
}

// ErasePeer deletes the rows of devices that name any of jids, and the LID
// map's entry of them (shared by every device: a mapping is a fact
// WhatsApp tells again when it matters).
func (m *Manager) ErasePeer(ctx context.Context, devices []string, jids []string) (int, error) {
	users := make([]string, 0, len(jids))
	for _, j := range jids {
		jid, err := types.ParseJID(j)
		if err != nil || jid.User == "" {
			return 0, ports.Errorf(ports.EInvalid, "%q is not a JID", j)
		}
		users = append(users, jid.User)
	}
	if len(users) == 0 {
		return 0, nil
	}
	total := 0
	// The devices' caches forget what is deleted here.
	defer m.cacheGen.Add(1)
	if len(devices) > 0 {
		for _, pc := range peerColumns {
			match, args := userMatch(pc.column, users)
			q := "DELETE FROM " + pc.table + " WHERE our_jid IN (" + m.placeholders(len(args)+1, len(devices)) + ") AND (" + match + ")"
			for _, d := range devices {
				args = append(args, d)
			}
			n, err := m.exec(ctx, q, args...)
			if err != nil {
				return total, fmt.Errorf("erase from %s: %w", pc.table, err)
			}
			total += n
		}
	}
	in := m.placeholders(1, len(users))
	args := make([]any, 0, 2*len(users))
	for _, u := range users {
		args = append(args, u)
	}
	lidArgs := append(append([]any{}, args...), args...)
	n, err := m.exec(ctx, "DELETE FROM whatsmeow_lid_map WHERE pn IN ("+in+") OR lid IN ("+m.placeholders(len(users)+1, len(users))+")", lidArgs...)
	if err != nil {
		return total, fmt.Errorf("erase from whatsmeow_lid_map: %w", err)
	}
	return total + n, nil
}

// userMatch is a condition on column naming one of users, in each of the
// forms whatsmeow writes, and its arguments; placeholders are $1….
func userMatch(column string, users []string) (string, []any) {
	var conds []string
	var args []any
	for _, u := range users {
		for _, form := range []string{u, u + "@%", u + ":%", u + ".%", u + "!_%"} {
			args = append(args, form)
			conds = append(conds, column+" LIKE $"+strconv.Itoa(len(args))+" ESCAPE '!'")
		}
	}
	return strings.Join(conds, " OR "), args
}

// placeholders lists n placeholders numbered from first: $1, $2, … (the
// SQLite driver takes them too).
func (m *Manager) placeholders(first, n int) string {
	p := make([]string, n)
	for i := range p {
		p[i] = "$" + strconv.Itoa(first+i)
	}
	return strings.Join(p, ", ")
}

func (m *Manager) exec(ctx context.Context, q string, args ...any) (int, error) {
	res, err := m.opt.DB.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
