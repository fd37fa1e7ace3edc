package entstore

import (
	"context"
	"time"

	"github.com/wagate/wagate/ports"
)

// claimKnown is claimMessage for a row still as read: its status,
// updated_at, attempts and WhatsApp id pin what the claim makes of it.
const claimKnown = `UPDATE messages SET status = ?, attempts = ?, updated_at = ?, wa_message_id = ?
WHERE id = ? AND subscription_id = ? AND status = ? AND updated_at = ? AND attempts = ? AND wa_message_id = ?
AND (status = ? OR (status = ? AND updated_at < ?))`

// ClaimKnown is one conditional UPDATE where ClaimForSend updates and
// then reads the row: a draining run claims every message it sends, as
// it read it a moment before.
func (st *messageStore) ClaimKnown(ctx context.Context, known ports.Message, at, staleBefore time.Time, waID string) (ports.Message, bool, error) {
	if waID == "" {
		return ports.Message{}, false, ports.Errorf(ports.EInvalid, "claim message: no WhatsApp id")
	}
	m := known
	m.Status, m.Attempts, m.UpdatedAt = ports.MsgSending, known.Attempts+1, dbTime(at)
	if m.WAMessageID == "" {
		m.WAMessageID = waID
	}
	ok, err := st.updateOne(ctx, "claim message", claimKnown,
		string(m.Status), m.Attempts, m.UpdatedAt, m.WAMessageID,
		string(known.ID), string(known.SubscriptionID), string(known.Status), dbTime(known.UpdatedAt), known.Attempts, known.WAMessageID,
		string(ports.MsgQueued), string(ports.MsgSending), dbTime(staleBefore))
	if err != nil || !ok {
		return ports.Message{}, false, err
	}
	return m, true, nil
}

// setSendOutcome writes the outcome columns of a message still as its
// claim left it: the status and updated_at it had stand for every write
// since, all of which move updated_at.
const setSendOutcome = `UPDATE messages SET status = ?, attempts = ?, error_code = ?, error_message = ?,
wa_message_id = ?, sent_at = ?, updated_at = ?
WHERE id = ? AND subscription_id = ? AND status = ? AND updated_at = ?`

// SetSendOutcome is one conditional UPDATE where UpdateMessage reads the
// row, writes every column and reads it again: a draining run records
// each send's outcome, and those three statements were most of its
// writing. The result is known with the columns written, as a read
// returns them (times in UTC to the microsecond).
func (st *messageStore) SetSendOutcome(ctx context.Context, known, out ports.Message) (ports.Message, bool, error) {
	out.SentAt, out.UpdatedAt = dbTimePtr(out.SentAt), dbTime(out.UpdatedAt)
	ok, err := st.updateOne(ctx, "record send outcome", setSendOutcome,
		string(out.Status), out.Attempts, out.ErrorCode, out.ErrorMessage, out.WAMessageID, out.SentAt, out.UpdatedAt,
		string(known.ID), string(known.SubscriptionID), string(known.Status), dbTime(known.UpdatedAt))
	if err != nil || !ok {
		return ports.Message{}, false, err
	}
	return known.WithSendOutcome(out), true, nil
}

// updateOne runs a conditional UPDATE of one message row and reports
// whether it changed the row.
func (st *messageStore) updateOne(ctx context.Context, what, query string, args ...any) (bool, error) {
	res, err := st.s.client.ExecContext(ctx, rebind(st.s.dialect, query), args...)
	if err != nil {
		return false, dbError(what, "message", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, dbError(what, "message", err)
	}
	return n == 1, nil
}
