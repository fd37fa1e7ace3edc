package eventjson_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wagate/wagate/adapters/eventjson"
	"github.com/wagate/wagate/ports"
)

func TestRoundTrip(t *testing.T) {
	at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	e := ports.Event{ID: "evt_1", Type: ports.EventMessageStatus, InstanceID: "i1", At: at,
		Data: json.RawMessage(`{"messageId":"m1","status":"sent"}`)}
	b, err := eventjson.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"evt_1","type":"message.status","instanceId":"i1","timestamp":"2025-03-04T05:06:07Z","data":{"messageId":"m1","status":"sent"}}`
	if string(b) != want {
		t.Fatalf("got %s, want %s", b, want)
	}
	got, err := eventjson.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(e, got); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s", diff)
	}
}

func TestEmptyData(t *testing.T) {
	b, err := eventjson.Encode(ports.Event{ID: "evt_1", Type: ports.EventWebhookTest, InstanceID: "i1"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := eventjson.Decode(b)
	if err != nil || string(got.Data) != "{}" {
		t.Fatalf("got %s, %v; want data {}", got.Data, err)
	}
	if _, err := eventjson.Decode([]byte(`{"id":"x"}`)); err == nil {
		t.Fatal("decode without a type: got nil, want an error")
	}
}
