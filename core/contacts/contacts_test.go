package contacts_test

import (
	"context"
	"strings"
	"testing"

	"github.com/wagate/wagate/core/contacts"
	"github.com/wagate/wagate/ports"
)

// instances serves GetInstance from a map; other methods are unused.
type instances struct {
	ports.InstanceStore
	byID map[ports.InstanceID]ports.Instance
}

func (s instances) GetInstance(_ context.Context, sub ports.SubscriptionID, id ports.InstanceID) (ports.Instance, error) {
	i, ok := s.byID[id]
	if !ok || i.SubscriptionID != sub {
		return ports.Instance{}, ports.Errorf(ports.ENotFound, "instance not found")
	}
	return i, nil
}

// book is an address book and a profile writer that records calls.
type book struct {
	ports.WAContacts
	contacts []ports.WAContact
	abouts   []string
}

func (b *book) Contacts(context.Context, ports.InstanceID) ([]ports.WAContact, error) {
	return append([]ports.WAContact(nil), b.contacts...), nil
}

func (b *book) SetAbout(_ context.Context, _ ports.InstanceID, text string) error {
	b.abouts = append(b.abouts, text)
	return nil
}

func (b *book) SetPushName(context.Context, ports.InstanceID, string) error {
	return ports.ReasonError(ports.EUnsupported, "not_supported", "no app-state keys")
}

func (b *book) SetPicture(context.Context, ports.InstanceID, []byte) error { return nil }

func setup() (*contacts.Service, *book, ports.Principal) {
	b := &book{contacts: []ports.WAContact{{PhoneNumber: "4915100000003"}, {PhoneNumber: "4915100000001"}, {PhoneNumber: "4915100000002"}}}
	st := instances{byID: map[ports.InstanceID]ports.Instance{
		"i1": {ID: "i1", SubscriptionID: "s1", Status: ports.StatusConnected},
		"i2": {ID: "i2", SubscriptionID: "s2", Status: ports.StatusConnected},
	}}
	svc := contacts.New(contacts.Deps{Instances: st, Contacts: b, Profile: b})
	return svc, b, ports.Principal{Kind: ports.PrincipalUser, SubscriptionID: "s1"}
}

func TestListContactsPages(t *testing.T) {
	svc, _, p := setup()
	var got []string
	after := ""
	for range 4 {
		page, err := svc.ListContacts(context.Background(), p, "i1", ports.PageRequest{Limit: 2, After: after})
		if err != nil {
			t.Fatalf("list contacts after %q: %v", after, err)
		}
		for _, c := range page.Items {
			got = append(got, c.PhoneNumber)
		}
		if after = page.Next; after == "" {
			break
		}
	}
	if want := "4915100000001,4915100000002,4915100000003"; strings.Join(got, ",") != want {
		t.Errorf("contacts over pages of 2: got %v, want %s", got, want)
	}
	if _, err := svc.ListContacts(context.Background(), p, "i1", ports.PageRequest{After: "!!"}); !ports.IsCode(err, ports.EInvalid) {
		t.Errorf("a bad cursor: got %v, want invalid", err)
	}
	if _, err := svc.ListContacts(context.Background(), p, "i2", ports.PageRequest{}); !ports.IsCode(err, ports.ENotFound) {
		t.Errorf("another tenant's instance: got %v, want not found", err)
	}
}

func TestUpdateProfile(t *testing.T) {
	svc, b, p := setup()
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		name string
		cmd  contacts.ProfileCmd
		code ports.ErrorCode
	}{
		{"nothing", contacts.ProfileCmd{}, ports.EInvalid},
		{"blank name", contacts.ProfileCmd{PushName: str("  ")}, ports.EInvalid},
		{"long name", contacts.ProfileCmd{PushName: str(strings.Repeat("n", 26))}, ports.EInvalid},
		{"long about", contacts.ProfileCmd{About: str(strings.Repeat("a", 140))}, ports.EInvalid},
		{"about", contacts.ProfileCmd{About: str("Open 9–17")}, ""},
		{"name unsupported", contacts.ProfileCmd{PushName: str("Shop")}, ports.EUnsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := svc.UpdateProfile(context.Background(), p, "i1", tc.cmd)
			if tc.code == "" && err != nil || tc.code != "" && !ports.IsCode(err, tc.code) {
				t.Errorf("got %v, want %q", err, tc.code)
			}
		})
	}
	if len(b.abouts) != 1 || b.abouts[0] != "Open 9–17" {
		t.Errorf("abouts set: got %v, want only the valid one", b.abouts)
	}
	if err := svc.SetPicture(context.Background(), p, "i1", []byte("GIF89a")); !ports.IsCode(err, ports.EInvalid) {
		t.Errorf("a GIF as picture: got %v, want invalid", err)
	}
	key := ports.Principal{Kind: ports.PrincipalAPIKey, SubscriptionID: "s1", InstanceID: "i1", Scopes: []ports.Scope{ports.ScopeContactsRead}}
	if err := svc.UpdateProfile(context.Background(), key, "i1", contacts.ProfileCmd{About: str("x")}); !ports.IsCode(err, ports.EForbidden) {
		t.Errorf("a key without messages:send: got %v, want forbidden", err)
	}
}
