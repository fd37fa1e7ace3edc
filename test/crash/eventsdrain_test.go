package crash

import (
	"database/sql"
	"fmt"
	"testing"
	"time"
)

// logQuiet is how long the log must stay unchanged before the test reads
// it: longer than the phones' read receipts take.
const logQuiet = 3 * logReceipts * 2

// drain waits until the server is done after the last restart: every
// send settled, the log quiet and fully dispatched, every subscribed
// event delivered, the WebSocket caught up. It returns the log and the
// inbound and outbound messages, read while the log did not move.
func (r *logRun) drain(t *testing.T, db *sql.DB) (log []logEvent, in, out []map[string]any) {
	t.Helper()
	var last int64
	quietSince := time.Now()
	waitFor(t, phaseWait, "the server done after the last restart", func() (bool, string) {
		appended, dispatched, err := logBacklog(t.Context(), db)
		if err != nil {
			return false, err.Error()
		}
		if appended != last {
			last, quietSince = appended, time.Now()
		}
		if appended != dispatched || time.Since(quietSince) < logQuiet {
			return false, fmt.Sprintf("%d events appended, %d dispatched", appended, dispatched)
		}
		if msg := r.pending(t, db); msg != "" {
			return false, msg
		}
		log, in, out, err = r.snapshot(t, db, appended)
		return err == nil, fmt.Sprint(err)
	})
	return log, in, out
}

// pending says what the server or its observers still have to do, or "".
func (r *logRun) pending(t *testing.T, db *sql.DB) string {
	out, err := r.c.pages("/api/v1/instances/" + r.inst + "/messages?direction=outbound")
	if err != nil {
		return err.Error()
	}
	unsettled := 0
	for _, m := range out {
		if s := str(m, "status"); s == "queued" || s == "sending" {
			unsettled++
		}
	}
	if unsettled > 0 || len(out) != logSends {
		return fmt.Sprintf("%d sends stored, %d queued or sending", len(out), unsettled)
	}
	// Every inbound message a peer sent is stored in the end: one the
	// server read but had not acked when it was killed comes again at the
	// next login, as from WhatsApp's servers.
	in, err := r.c.pages("/api/v1/instances/" + r.inst + "/messages?direction=inbound")
	if err != nil {
		return err.Error()
	}
	if len(in) < logInbound {
		return fmt.Sprintf("%d of %d inbound messages stored", len(in), logInbound)
	}
	log, err := readLog(t.Context(), db)
	if err != nil {
		return err.Error()
	}
	for name, ids := range r.subscribed(log) {
		if n := len(r.rec.missing(name, ids)); n > 0 {
			return fmt.Sprintf("endpoint %s: %d of %d events not delivered yet", name, n, len(ids))
		}
	}
	if r.ws.seen() < len(log) {
		return fmt.Sprintf("the WebSocket got %d events of %d", r.ws.seen(), len(log))
	}
	return ""
}

// snapshot reads the log and the messages, and checks that the log did
// not move meanwhile (a late receipt), so that they agree.
func (r *logRun) snapshot(t *testing.T, db *sql.DB, appended int64) (log []logEvent, in, out []map[string]any, err error) {
	if in, err = r.c.pages("/api/v1/instances/" + r.inst + "/messages?direction=inbound"); err != nil {
		return nil, nil, nil, err
	}
	if out, err = r.c.pages("/api/v1/instances/" + r.inst + "/messages?direction=outbound"); err != nil {
		return nil, nil, nil, err
	}
	if log, err = readLog(t.Context(), db); err != nil {
		return nil, nil, nil, err
	}
	if now, _, err := logBacklog(t.Context(), db); err != nil || now != appended || int64(len(log)) != appended {
		return nil, nil, nil, fmt.Errorf("the log moved while it was read (%d events, appended %d then %d; %v)", len(log), appended, now, err)
	}
	return log, in, out, nil
}

// subscribed returns, for each endpoint, the events of its types that
// were appended after it existed (all of the log: the endpoints were made
// before the first event).
func (r *logRun) subscribed(log []logEvent) map[string][]string {
	want := map[string][]string{}
	for _, e := range log {
		want[hookAll] = append(want[hookAll], e.ID)
		if e.Type == "message.received" {
			want[hookReceived] = append(want[hookReceived], e.ID)
		}
	}
	return want
}

func eventIDs(log []logEvent) map[string]bool {
	ids := make(map[string]bool, len(log))
	for _, e := range log {
		ids[e.ID] = true
	}
	return ids
}

// checkAccepted asserts that the server stores exactly the sends it
// accepted, kills or not.
func checkAccepted(t *testing.T, accepted []string, out []map[string]any) {
	t.Helper()
	stored := map[string]bool{}
	for _, m := range out {
		stored[str(m, "id")] = true
	}
	for _, id := range accepted {
		if !stored[id] {
			t.Errorf("send %s was accepted (202) but is not stored", id)
		}
	}
	if len(out) != len(accepted) {
		t.Errorf("got %d outbound messages stored, want the %d accepted", len(out), len(accepted))
	}
}
