package wasim

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.mau.fi/whatsmeow/appstate"
	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/proto/waServerSync"
	"go.mau.fi/whatsmeow/store"
	waLog "go.mau.fi/whatsmeow/util/log"
	"google.golang.org/protobuf/proto"
)

// App state (the w:sync:app:state IQ): an account's settings, contacts and
// chat marks live on the server as patches the account's devices encrypt
// with keys the phone shares with them; the server only keeps the patches
// in order and hands out those after a version. whatsmeow learns its own
// push name this way, and cannot announce its presence without one.

// appStateBook holds each account's collections of patches, by phone.
type appStateBook struct {
	mu      sync.Mutex
	byPhone map[string]map[string][][]byte // phone → collection → patches, version i+1 at i
}

// append stores a patch as the collection's next version and returns it.
func (b *appStateBook) append(phone, collection string, patch []byte) (uint64, error) {
	var p waServerSync.SyncdPatch
	if err := proto.Unmarshal(patch, &p); err != nil {
		return 0, fmt.Errorf("app state patch: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.byPhone == nil {
		b.byPhone = map[string]map[string][][]byte{}
	}
	if b.byPhone[phone] == nil {
		b.byPhone[phone] = map[string][][]byte{}
	}
	version := uint64(len(b.byPhone[phone][collection]) + 1)
	p.Version = &waServerSync.SyncdVersion{Version: proto.Uint64(version)}
	stored, err := proto.Marshal(&p)
	if err != nil {
		return 0, err
	}
	b.byPhone[phone][collection] = append(b.byPhone[phone][collection], stored)
	return version, nil
}

// since returns the collection's patches after version, and its latest.
func (b *appStateBook) since(phone, collection string, version uint64) ([][]byte, uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	all := b.byPhone[phone][collection]
	if version > uint64(len(all)) {
		version = uint64(len(all))
	}
	return append([][]byte(nil), all[version:]...), uint64(len(all))
}

// handleAppState answers a device's app-state sync: every collection
// asked for gets the patches after the version the device has, after
// storing the patch it sends along, if any.
func (c *conn) handleAppState(n *waBinary.Node) {
	if c.dev == nil {
		c.iqError(n, 401, "not-authorized")
		return
	}
	phone := c.dev.jid.User
	sync, _ := n.GetOptionalChildByTag("sync")
	var out []waBinary.Node
	for _, col := range sync.GetChildrenByTag("collection") {
		ag := col.AttrGetter()
		name := ag.String("name")
		have, _ := strconv.ParseUint(ag.OptionalString("version"), 10, 64)
		for _, p := range col.GetChildrenByTag("patch") {
			raw, _ := p.Content.([]byte)
			if _, err := c.s.appState.append(phone, name, raw); err != nil {
				c.iqError(n, 400, "bad-request")
				return
			}
		}
		patches, latest := c.s.appState.since(phone, name, have)
		kids := make([]waBinary.Node, 0, len(patches))
		for _, p := range patches {
			kids = append(kids, waBinary.Node{Tag: "patch", Content: p})
		}
		out = append(out, waBinary.Node{Tag: "collection", Attrs: waBinary.Attrs{
			"name": name, "version": strconv.FormatUint(latest, 10),
		}, Content: []waBinary.Node{{Tag: "patches", Content: kids}}})
	}
	c.result(n, waBinary.Node{Tag: "sync", Content: out})
}

// SharePushName makes the phone do what it does when a device links: share
// an app-state key with its linked devices and keep its push name in the
// critical_block collection, which they then sync. It works once per
// phone, before anything else is in that collection. Until it is called
// the linked devices hold no app-state keys (setting the push name from a
// linked device then fails, as it does with WhatsApp).
func (s *Server) SharePushName(ctx context.Context, phone, name string) error {
	phone = digits(phone)
	c := s.Contact(phone)
	dev, err := c.signalDevice()
	if err != nil {
		return err
	}
	const collection = string(appstate.WAPatchCriticalBlock)
	if _, latest := s.appState.since(phone, collection, 0); latest > 0 {
		return errors.New("share push name: the phone's critical_block collection is not empty")
	}
	keyID, key := make([]byte, 6), make([]byte, 32)
	_, _ = rand.Read(keyID)
	_, _ = rand.Read(key)
	now := time.Now()
	fingerprint := &waE2E.AppStateSyncKeyFingerprint{RawID: proto.Uint32(1), CurrentIndex: proto.Uint32(0), DeviceIndexes: []uint32{0}}
	rawFP, err := proto.Marshal(fingerprint)
	if err != nil {
		return err
	}
	c.mu.Lock()
	err = dev.AppStateKeys.PutAppStateSyncKey(ctx, keyID, store.AppStateSyncKey{Data: key, Fingerprint: rawFP, Timestamp: now.UnixMilli()})
	var patch []byte
	if err == nil {
		patch, err = appstate.NewProcessor(dev, waLog.Noop).EncodePatch(ctx, keyID, appstate.HashState{}, appstate.BuildSettingPushName(name))
	}
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("share push name: %w", err)
	}
	if _, err := s.appState.append(phone, collection, patch); err != nil {
		return err
	}
	_, err = c.Send(ctx, phone, &waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{
		Type: waE2E.ProtocolMessage_APP_STATE_SYNC_KEY_SHARE.Enum(),
		AppStateSyncKeyShare: &waE2E.AppStateSyncKeyShare{Keys: []*waE2E.AppStateSyncKey{{
			KeyID: &waE2E.AppStateSyncKeyId{KeyID: keyID},
			KeyData: &waE2E.AppStateSyncKeyData{
				KeyData: key, Fingerprint: fingerprint, Timestamp: proto.Int64(now.UnixMilli()),
			},
		}}},
	}})
	if err != nil {
		return fmt.Errorf("share push name: send the key: %w", err)
	}
	return nil
}
