package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wagate/wagate/ports"
)

// RunMedia runs the conformance tests of ports.MediaStore. open is called
// once per test and must return an empty, migrated backend of its own,
// closed when t ends.
func RunMedia(t *testing.T, open func(t *testing.T) Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"PutGet", testMediaPutGet},
		{"Refusals", testMediaRefusals},
		{"SameTransaction", testMediaInTx},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := open(t)
			tc.fn(t, &fixture{t: t, ctx: t.Context(), b: b, s: b.Stores()})
		})
	}
}

// mediaOf returns a file of n bytes for message id.
func mediaOf(id ports.MessageID, n int) ports.MessageMedia {
	data := bytes.Repeat([]byte{0x00, 0xff, 0x7f, 'x'}, n/4+1)[:n]
	sum := sha256.Sum256(data)
	return ports.MessageMedia{
		MessageID: id, MimeType: "application/pdf", FileName: "report ✓.pdf", PTT: true,
		Size: int64(n), SHA256: sum[:], Data: data, CreatedAt: base,
	}
}

// testMediaPutGet: a file comes back byte for byte, binary and all, large
// enough to matter (1 MiB); another tenant does not see it.
func testMediaPutGet(t *testing.T, f *fixture) {
	sub, other := f.subscription(), f.subscription()
	m := f.message(f.instance(sub.ID, "one"), base, func(m *ports.Message) { m.Type = ports.MessageDocument })
	md := mediaOf(m.ID, 1<<20)
	mustOK(t, "put media", f.s.Media.PutMedia(f.ctx, sub.ID, md))
	got, err := f.s.Media.GetMedia(f.ctx, sub.ID, m.ID)
	mustOK(t, "get media", err)
	want := md
	want.SubscriptionID, want.CreatedAt = sub.ID, base.UTC().Truncate(time.Microsecond)
	if !bytes.Equal(got.Data, want.Data) {
		t.Fatalf("get media: got %d bytes, want the %d stored", len(got.Data), len(want.Data))
	}
	got.Data, want.Data = nil, nil
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("get media (-want +got):\n%s", d)
	}
	_, err = f.s.Media.GetMedia(f.ctx, other.ID, m.ID)
	wantCode(t, "get another tenant's media", err, ports.ENotFound)
}

// testMediaRefusals: one file per message, only for the tenant's existing
// messages; a message without a file has none to get.
func testMediaRefusals(t *testing.T, f *fixture) {
	sub, other := f.subscription(), f.subscription()
	m := f.message(f.instance(sub.ID, "one"), base, nil)
	_, err := f.s.Media.GetMedia(f.ctx, sub.ID, m.ID)
	wantCode(t, "get media of a text message", err, ports.ENotFound)
	wantCode(t, "put media of a missing message", f.s.Media.PutMedia(f.ctx, sub.ID, mediaOf(ports.MessageID(newID()), 10)), ports.ENotFound)
	wantCode(t, "put media of another tenant's message", f.s.Media.PutMedia(f.ctx, other.ID, mediaOf(m.ID, 10)), ports.ENotFound)
	mustOK(t, "put media", f.s.Media.PutMedia(f.ctx, sub.ID, mediaOf(m.ID, 10)))
	wantCode(t, "put media twice", f.s.Media.PutMedia(f.ctx, sub.ID, mediaOf(m.ID, 20)), ports.EConflict)
	if got, err := f.s.Media.GetMedia(f.ctx, sub.ID, m.ID); err != nil || got.Size != 10 {
		t.Errorf("after a refused second put: got size %d (%v), want the first file's 10", got.Size, err)
	}
}

// testMediaInTx: the file and its message are written in one transaction,
// and a rollback takes both.
func testMediaInTx(t *testing.T, f *fixture) {
	sub := f.subscription()
	inst := f.instance(sub.ID, "one")
	id := ports.MessageID(newID())
	boom := errors.New("boom")
	err := f.b.InTx(f.ctx, func(ctx context.Context, st ports.Stores) error {
		m := ports.Message{
			ID: id, InstanceID: inst.ID, Direction: ports.DirectionOutbound, To: "4915112345678@s.whatsapp.net",
			Type: ports.MessageImage, Status: ports.MsgQueued, CreatedAt: base, UpdatedAt: base,
		}
		if err := st.Messages.CreateMessage(ctx, sub.ID, m); err != nil {
			return err
		}
		if err := st.Media.PutMedia(ctx, sub.ID, mediaOf(id, 100)); err != nil {
			return err
		}
		if _, err := st.Media.GetMedia(ctx, sub.ID, id); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("transaction: got %v, want boom", err)
	}
	_, err = f.s.Media.GetMedia(f.ctx, sub.ID, id)
	wantCode(t, "get media after rollback", err, ports.ENotFound)
	_, err = f.s.Messages.GetMessage(f.ctx, sub.ID, id)
	wantCode(t, "get message after rollback", err, ports.ENotFound)
}
