package messaging_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/messaging"
	"github.com/wagate/wagate/ports"
)

// lidMap is a WALIDResolver over a fixed map; fail makes lookups fail.
type lidMap struct {
	pn   map[string]string
	fail bool
}

func (l lidMap) PhoneForLID(_ context.Context, lid string) (string, error) {
	if l.fail {
		return "", errors.New("store down")
	}
	return l.pn[lid], nil
}

func (l lidMap) LIDForPhone(_ context.Context, phone string) (string, error) {
	if l.fail {
		return "", errors.New("store down")
	}
	for lid, pn := range l.pn {
		if pn == phone {
			return lid, nil
		}
	}
	return "", nil
}

// withLIDs replaces e's service by one that resolves LIDs with r.
func (e *env) withLIDs(r ports.WALIDResolver) {
	e.svc = messaging.New(messaging.Deps{
		Tx: e.store, Stores: e.store.Stores(), Outbox: e.store.Outbox(),
		Clock: e.clock, IDs: e.ids, Queue: e.queue, WhatsApp: e.wa, LIDs: r, Events: coretest.NewEventLog(e.clock, nil),
	}, messaging.Config{MaxAge: time.Hour, RelayAfter: 30 * time.Second})
}

// A send to a LID is reported by phone number when the LID is known, by
// the LID otherwise (or when the lookup fails), with chatLid beside it;
// WhatsApp gets the LID in every case, as asked.
func TestSendToLID(t *testing.T) {
	const lid, pn = "100000000000042@lid", "15550004242@s.whatsapp.net"
	for _, tc := range []struct {
		name     string
		resolver ports.WALIDResolver
		wantTo   string
	}{
		{"known", lidMap{pn: map[string]string{lid: pn}}, pn},
		{"unknown", lidMap{}, lid},
		{"lookup fails", lidMap{fail: true}, lid},
		{"no resolver", nil, lid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, ports.StatusConnected)
			e.withLIDs(tc.resolver)
			var sentTo string
			e.wa.SendFunc = func(out ports.WAOutbound) (ports.WASent, error) {
				sentTo = out.To
				return ports.WASent{WAMessageID: "3EB0LID"}, nil
			}
			m := e.send(t, lid)
			if m.To != tc.wantTo || m.Chat != tc.wantTo || m.ChatLID != lid {
				t.Errorf("got to %s, chat %s, chatLid %s; want to and chat %s, chatLid %s", m.To, m.Chat, m.ChatLID, tc.wantTo, lid)
			}
			if err := e.run(t, m.ID); err != nil {
				t.Fatalf("send job: %v", err)
			}
			if sentTo != lid {
				t.Errorf("WhatsApp got a send to %q, want the LID %s", sentTo, lid)
			}
			if got := e.get(t, m.ID); got.Status != ports.MsgSent || got.To != tc.wantTo || got.ChatLID != lid {
				t.Errorf("stored %s to %s (chatLid %s), want sent to %s (chatLid %s)", got.Status, got.To, got.ChatLID, tc.wantTo, lid)
			}
		})
	}
}
