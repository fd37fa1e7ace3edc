package wasim

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types"

	_ "modernc.org/sqlite" // the "sqlite" driver for the contacts' Signal stores
)

// contactStore holds the Signal state of every scripted contact in a
// whatsmeow sqlstore, so contacts reuse whatsmeow's own store.Device as
// their libsignal store. It lives in a temporary SQLite file created on
// first use and deleted by close.
type contactStore struct {
	once sync.Once
	dir  string
	db   *sqlstore.Container
	err  error
}

func (cs *contactStore) open() (*sqlstore.Container, error) {
	cs.once.Do(func() {
		cs.dir, cs.err = os.MkdirTemp("", "wasim-")
		if cs.err != nil {
			return
		}
		dsn := "file:" + filepath.Join(cs.dir, "contacts.db") +
			"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)"
		cs.db, cs.err = sqlstore.New(context.Background(), "sqlite", dsn, nil)
	})
	if cs.err != nil {
		return nil, fmt.Errorf("open contact store: %w", cs.err)
	}
	return cs.db, nil
}

// newDevice creates the Signal identity of the primary phone of phone.
func (cs *contactStore) newDevice(ctx context.Context, phone string) (*store.Device, error) {
	db, err := cs.open()
	if err != nil {
		return nil, err
	}
	dev := db.NewDevice()
	jid := types.NewJID(phone, types.DefaultUserServer)
	dev.ID = &jid
	// PutDevice stores these columns as NOT NULL; a phone has no ADV identity.
	dev.Account = &waAdv.ADVSignedDeviceIdentity{
		Details: []byte{}, AccountSignature: make([]byte, 64), AccountSignatureKey: make([]byte, 32), DeviceSignature: make([]byte, 64),
	}
	dev.PushName = "Sim " + phone
	if err := dev.Save(ctx); err != nil {
		return nil, fmt.Errorf("save contact %s: %w", phone, err)
	}
	return dev, nil
}

func (cs *contactStore) close() error {
	if cs == nil || cs.dir == "" {
		return nil
	}
	var err error
	if cs.db != nil {
		err = cs.db.Close()
	}
	if rerr := os.RemoveAll(cs.dir); err == nil {
		err = rerr
	}
	return err
}
