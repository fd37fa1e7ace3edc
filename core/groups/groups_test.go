package groups_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/core/groups"
	"github.com/wagate/wagate/ports"
)

// fakeWA records the calls that reach WhatsApp.
type fakeWA struct{ calls []string }

func (f *fakeWA) CreateGroup(_ context.Context, _ ports.InstanceID, subject string, ps []string, _ string) (ports.Group, []ports.ParticipantResult, error) {
	f.calls = append(f.calls, "create "+subject+" "+strings.Join(ps, ","))
	return ports.Group{JID: "1@g.us", Subject: subject}, nil, nil
}
func (f *fakeWA) Groups(context.Context, ports.InstanceID) ([]ports.Group, error) { return nil, nil }
func (f *fakeWA) GroupInfo(_ context.Context, _ ports.InstanceID, g string) (ports.Group, error) {
	return ports.Group{JID: g}, nil
}
func (f *fakeWA) UpdateGroup(context.Context, ports.InstanceID, string, ports.GroupChanges) error {
	f.calls = append(f.calls, "update")
	return nil
}
func (f *fakeWA) SetGroupPicture(context.Context, ports.InstanceID, string, []byte) error { return nil }
func (f *fakeWA) LeaveGroup(context.Context, ports.InstanceID, string) error              { return nil }
func (f *fakeWA) UpdateParticipants(_ context.Context, _ ports.InstanceID, _ string, a ports.ParticipantAction, ps []string) ([]ports.ParticipantResult, error) {
	f.calls = append(f.calls, string(a)+" "+strings.Join(ps, ","))
	out := make([]ports.ParticipantResult, len(ps))
	for i, p := range ps {
		out[i] = ports.ParticipantResult{PhoneNumber: strings.TrimSuffix(p, "@s.whatsapp.net"), Action: a, Status: ports.ParticipantOK}
	}
	return out, nil
}
func (f *fakeWA) InviteLink(context.Context, ports.InstanceID, string, bool) (string, error) {
	return "https://chat.whatsapp.com/x", nil
}
func (f *fakeWA) JoinGroup(context.Context, ports.InstanceID, string) (string, error) {
	return "1@g.us", nil
}

func setup(t *testing.T) (*groups.Service, *fakeWA, ports.Principal, ports.InstanceID) {
	t.Helper()
	st := coretest.NewStore()
	clock := coretest.NewClock()
	sub, inst := ports.SubscriptionID("sub-1"), ports.InstanceID("inst-1")
	if err := st.Stores().Subscriptions.CreateSubscription(t.Context(), ports.Subscription{ID: sub, Tier: ports.TierBasic}); err != nil {
		t.Fatalf("create subscription: %v", err)
	}
	if err := st.Stores().Instances.CreateInstance(t.Context(), sub, ports.Instance{ID: inst, SubscriptionID: sub, Name: "one", Status: ports.StatusConnected}); err != nil {
		t.Fatalf("create instance: %v", err)
	}
	wa := &fakeWA{}
	svc := groups.New(groups.Deps{Instances: st.Stores().Instances, Groups: wa, Members: wa, Limiter: coretest.NewLimiter(clock), Clock: clock,
		CreateLimit: ports.Limit{Count: 2, Period: time.Hour}, ParticipantsLimit: ports.Limit{Count: 5, Period: time.Hour}})
	return svc, wa, ports.Principal{Kind: ports.PrincipalUser, SubscriptionID: sub, Role: ports.RoleAdmin}, inst
}

func TestInputIsCheckedBeforeWhatsApp(t *testing.T) {
	svc, wa, p, inst := setup(t)
	ctx := t.Context()
	cases := []struct {
		name  string
		call  func() error
		field string
	}{
		{"empty subject", func() error {
			_, err := svc.Create(ctx, p, inst, groups.CreateCmd{Subject: " ", Participants: []string{"+15550001111"}})
			return err
		}, "subject"},
		{"bad number", func() error {
			_, err := svc.Create(ctx, p, inst, groups.CreateCmd{Subject: "x", Participants: []string{"+1555", "abc"}})
			return err
		}, "participants[0]"},
		{"bad group", func() error { _, err := svc.Get(ctx, p, inst, "123@s.whatsapp.net"); return err }, "group"},
		{"bad timer", func() error {
			five := uint32(5)
			_, err := svc.Update(ctx, p, inst, "1@g.us", ports.GroupChanges{EphemeralSeconds: &five})
			return err
		}, "ephemeralSeconds"},
		{"nothing to change", func() error { _, err := svc.Update(ctx, p, inst, "1@g.us", ports.GroupChanges{}); return err }, "subject"},
		{"no participants", func() error {
			_, err := svc.Participants(ctx, p, inst, "1@g.us", groups.ParticipantsCmd{})
			return err
		}, "add"},
		{"bad link", func() error { _, err := svc.Join(ctx, p, inst, "https://evil.example/<x>"); return err }, "link"},
		{"not a jpeg", func() error { return svc.SetPicture(ctx, p, inst, "1@g.us", []byte("hello")) }, "media"},
	}
	for _, c := range cases {
		err := c.call()
		pe := ports.AsError(err)
		if pe == nil || pe.Code != ports.EInvalid || !hasField(pe, c.field) {
			t.Errorf("%s: got %v, want invalid with a field error on %s", c.name, err, c.field)
		}
	}
	if len(wa.calls) != 0 {
		t.Errorf("got WhatsApp calls %v, want none", wa.calls)
	}
}

func hasField(e *ports.Error, field string) bool {
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

func TestOtherTenantsInstanceIsNotFound(t *testing.T) {
	svc, wa, p, inst := setup(t)
	p.SubscriptionID = "sub-2"
	if _, err := svc.List(t.Context(), p, inst); !ports.IsCode(err, ports.ENotFound) {
		t.Fatalf("got %v, want not found", err)
	}
	if len(wa.calls) != 0 {
		t.Errorf("got WhatsApp calls %v, want none", wa.calls)
	}
}

func TestCreationAndParticipantChangesAreLimited(t *testing.T) {
	svc, _, p, inst := setup(t)
	ctx := t.Context()
	for i := range 2 {
		if _, err := svc.Create(ctx, p, inst, groups.CreateCmd{Subject: "g", Participants: []string{"+15550001111"}}); err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	if _, err := svc.Create(ctx, p, inst, groups.CreateCmd{Subject: "g", Participants: []string{"+15550001111"}}); !ports.IsCode(err, ports.ERateLimited) {
		t.Fatalf("third create: got %v, want rate limited", err)
	}
	// Two numbers were added by the creations; three more fit, a fourth not.
	res, err := svc.Participants(ctx, p, inst, "1@g.us", groups.ParticipantsCmd{Add: []string{"+15550002222", "+15550003333", "+15550003333"}, Promote: []string{"+15550002222"}})
	if err != nil || len(res) != 3 {
		t.Fatalf("participants: got %v, %v, want 3 results (a repeated number counts once)", res, err)
	}
	if _, err := svc.Participants(ctx, p, inst, "1@g.us", groups.ParticipantsCmd{Add: []string{"+15550004444"}}); !ports.IsCode(err, ports.ERateLimited) {
		t.Fatalf("over the limit: got %v, want rate limited", err)
	}
}
