package crash

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/wagate/wagate/adapters/entstore"
)

// logEvent is one row of the events table, as the database has it.
type logEvent struct {
	ID       string
	Position int64
	Type     string
	Data     struct {
		ID        string `json:"id"`        // message.received: the message
		MessageID string `json:"messageId"` // message.status
		Status    string `json:"status"`
	}
}

// openLog opens the deployment's database beside the server, to read
// the event log as it is stored (the test has one subscription, so the
// whole table is its log).
func openLog(t *testing.T, d *deployment) *sql.DB {
	t.Helper()
	st, err := entstore.Open(t.Context(), entstore.Options{
		URL: d.env["WAGATE_DATABASE_URL"], DataDir: d.env["WAGATE_DATA_DIR"], MaxConns: 2,
	})
	if err != nil {
		t.Fatalf("open the server's database: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st.DB()
}

// readLog returns every event in position order.
func readLog(ctx context.Context, db *sql.DB) ([]logEvent, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, position, type, data FROM events ORDER BY position`)
	if err != nil {
		return nil, fmt.Errorf("read the event log: %w", err)
	}
	defer rows.Close()
	var out []logEvent
	for rows.Next() {
		var e logEvent
		var data []byte
		if err := rows.Scan(&e.ID, &e.Position, &e.Type, &data); err != nil {
			return nil, fmt.Errorf("read the event log: %w", err)
		}
		if err := json.Unmarshal(data, &e.Data); err != nil {
			return nil, fmt.Errorf("event %s: data %.200s: %w", e.ID, data, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// logBacklog returns the last position appended and the last one
// dispatched (fanned out to webhooks and the realtime bus).
func logBacklog(ctx context.Context, db *sql.DB) (appended, dispatched int64, err error) {
	err = db.QueryRowContext(ctx, `SELECT COALESCE(SUM(appended), 0), COALESCE(SUM(dispatched), 0) FROM event_cursors`).
		Scan(&appended, &dispatched)
	return appended, dispatched, err
}

// deliveredCount returns how many deliveries the server recorded as
// answered 2xx.
func deliveredCount(ctx context.Context, db *sql.DB) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'delivered'`).Scan(&n)
	return n, err
}

// statusRank orders an outbound message's statuses; failed is a final
// move from any of them.
var statusRank = map[string]int{"queued": 1, "sending": 2, "sent": 3, "delivered": 4, "read": 5, "failed": 6}

// checkReceived asserts (a): each inbound message row has exactly one
// message.received event, and each such event names a stored inbound
// message.
func checkReceived(t *testing.T, inbound []map[string]any, log []logEvent) {
	t.Helper()
	events := map[string]int{}
	for _, e := range log {
		if e.Type == "message.received" {
			events[e.Data.ID]++
		}
	}
	rows := map[string]bool{}
	bad := 0
	for _, m := range inbound {
		id := str(m, "id")
		rows[id] = true
		if n := events[id]; n != 1 {
			if bad++; bad <= 10 {
				t.Errorf("inbound message %s: got %d message.received events, want 1", id, n)
			}
		}
	}
	for id := range events {
		if !rows[id] {
			t.Errorf("a message.received event names message %s, which is not stored", id)
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d inbound messages have not exactly one message.received event", bad, len(inbound))
	}
}

// checkAllReceived asserts the first half of (a): each of the logInbound
// messages the peers sent is stored once, not only those the database
// happens to hold.
func checkAllReceived(t *testing.T, inbound []map[string]any) {
	t.Helper()
	stored := map[string]int{}
	for _, m := range inbound {
		stored[str(m, "text")]++
	}
	bad := 0
	for i := range logInbound {
		text := fmt.Sprintf("crash-event-%04d", i)
		if n := stored[text]; n != 1 {
			if bad++; bad <= 10 {
				t.Errorf("inbound message %q: got %d stored, want 1", text, n)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d inbound messages sent are not stored exactly once", bad, logInbound)
	}
}

// checkStatuses asserts (b): each outbound message's message.status
// events, in log order, are its moves: none repeated, each one a step
// the server makes (forward, or back to queued for a retry), the last
// one its stored status, and one for every time the row records.
func checkStatuses(t *testing.T, outbound []map[string]any, log []logEvent) int {
	t.Helper()
	moves := map[string][]string{}
	for _, e := range log {
		if e.Type == "message.status" {
			moves[e.Data.MessageID] = append(moves[e.Data.MessageID], e.Data.Status)
		}
	}
	rows := map[string]bool{}
	bad, retried := 0, 0
	for _, m := range outbound {
		id := str(m, "id")
		rows[id] = true
		if err := statusProblem(m, moves[id]); err != nil {
			if bad++; bad <= 10 {
				t.Errorf("outbound message %s: %v", id, err)
			}
		}
		for _, s := range moves[id] {
			if s == "queued" {
				retried++
			}
		}
	}
	for id := range moves {
		if !rows[id] {
			t.Errorf("message.status events name message %s, which is not stored", id)
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d outbound messages have message.status events that do not match their moves", bad, len(outbound))
	}
	return retried
}

// statusProblem says what is wrong with the moves of message m, or nil.
func statusProblem(m map[string]any, moves []string) error {
	final := str(m, "status")
	if len(moves) == 0 {
		if final == "queued" {
			return nil // never claimed (the queue's accept is no move)
		}
		return fmt.Errorf("status %s with no message.status event", final)
	}
	prev := "queued"
	for i, s := range moves {
		back := prev == "sending" && s == "queued" // a send that did not go out, to be retried
		if s == prev || (!back && statusRank[s] <= statusRank[prev]) || statusRank[s] == 0 {
			return fmt.Errorf("moves %v: step %d (%s after %s) is a repeat or not a move", moves, i, s, prev)
		}
		prev = s
	}
	if prev != final {
		return fmt.Errorf("moves %v end with %s, but the message is %s", moves, prev, final)
	}
	reached := map[string]bool{}
	for _, s := range moves {
		reached[s] = true
	}
	// A receipt may overtake the send's record: delivered then stands for
	// sent too, and read for delivered (the row's times say so as well).
	switch {
	case m["readAt"] != nil && !reached["read"]:
		return fmt.Errorf("moves %v: readAt is set but no read event", moves)
	case m["deliveredAt"] != nil && !reached["delivered"] && !reached["read"]:
		return fmt.Errorf("moves %v: deliveredAt is set but no delivered event", moves)
	case m["sentAt"] != nil && !reached["sent"] && !reached["delivered"] && !reached["read"]:
		return fmt.Errorf("moves %v: sentAt is set but no sent event", moves)
	}
	return nil
}
