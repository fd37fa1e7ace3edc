package httpgin

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/adapters/eventjson"
	"github.com/wagate/wagate/ports"
)

func TestEncodeBulkStatusEvent(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	sum := ports.BulkSummary{
		Bulk: ports.Bulk{ID: "b1", InstanceID: "i1", Status: ports.BulkRunning, Total: 5,
			PacingMin: time.Second, PacingMax: 3 * time.Second, CreatedAt: at, StartedAt: &at},
		Counts: ports.BulkCounts{Queued: 2, Sent: 1, Delivered: 1, Failed: 1},
	}
	data, err := EncodeEventData(sum)
	if err != nil {
		t.Fatalf("encode bulk.status: %v", err)
	}
	raw, err := eventjson.Encode(ports.Event{ID: "evt_1", Type: ports.EventBulkStatus, InstanceID: "i1", At: at, Data: data})
	if err != nil {
		t.Fatalf("encode bulk.status: %v", err)
	}
	var got struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"id": "b1", "instanceId": "i1", "status": "running", "templateId": nil, "total": 5.0,
		"queued": 2.0, "sent": 1.0, "delivered": 1.0, "read": 0.0, "failed": 1.0,
		"pacing":      map[string]any{"minDelayMs": 1000.0, "maxDelayMs": 3000.0},
		"scheduledAt": nil, "createdAt": "2026-01-02T02:04:05Z", "startedAt": "2026-01-02T02:04:05Z", "completedAt": nil,
	}
	if got.Type != "bulk.status" || len(got.Data) != len(want) {
		t.Fatalf("got %s, want bulk.status with the %d fields of the bulk", raw, len(want))
	}
	for k, v := range want {
		if g, _ := json.Marshal(got.Data[k]); string(g) != mustJSON(t, v) {
			t.Errorf("data.%s: got %s, want %s", k, g, mustJSON(t, v))
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCreateBulkRequestConversion(t *testing.T) {
	ms := func(n int64) *int64 { return &n }
	bad := "2026-01-02 03:04"
	good := "2026-01-02T03:04:05+01:00"
	tests := []struct {
		name   string
		req    createBulkReq
		fields string
	}{
		{"no pacing", createBulkReq{Text: "hi"}, ""},
		{"pacing", createBulkReq{Pacing: &bulkPacingReq{MinDelayMs: ms(0), MaxDelayMs: ms(0)}}, ""},
		{"pacing without max", createBulkReq{Pacing: &bulkPacingReq{MinDelayMs: ms(1)}}, "pacing.maxDelayMs"},
		{"empty pacing", createBulkReq{Pacing: &bulkPacingReq{}}, "pacing.minDelayMs,pacing.maxDelayMs"},
		{"scheduledAt", createBulkReq{ScheduledAt: &good}, ""},
		{"scheduledAt not RFC 3339", createBulkReq{ScheduledAt: &bad}, "scheduledAt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd, err := tc.req.command()
			var fields []string
			if e := ports.AsError(err); e != nil {
				for _, f := range e.Fields {
					fields = append(fields, f.Field)
				}
			}
			if got := strings.Join(fields, ","); got != tc.fields {
				t.Fatalf("got %v (fields %q), want fields %q", err, got, tc.fields)
			}
			if tc.req.ScheduledAt != nil && tc.fields == "" && !cmd.ScheduledAt.Equal(time.Date(2026, 1, 2, 2, 4, 5, 0, time.UTC)) {
				t.Errorf("got scheduledAt %v, want 02:04:05Z", cmd.ScheduledAt)
			}
		})
	}
	// A huge pause stays huge instead of overflowing into a valid one.
	cmd, _ := createBulkReq{Pacing: &bulkPacingReq{MinDelayMs: ms(1 << 62), MaxDelayMs: ms(-1 << 62)}}.command()
	if cmd.Pacing.Min <= time.Minute || cmd.Pacing.Max >= 0 {
		t.Errorf("got pacing %v-%v, want a huge min and a negative max", cmd.Pacing.Min, cmd.Pacing.Max)
	}
}
