package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/wagate/wagate/ports"
)

func testUsers(t *testing.T, f *fixture) {
	st := f.s.Users
	sub := f.subscription()
	want := f.user(sub.ID, "ada@example.com")

	got, err := st.GetUser(f.ctx, want.ID)
	mustOK(t, "get user", err)
	diff(t, "user", want, got)
	wantUTC(t, "created at", got.CreatedAt)

	got, err = st.GetUserByEmail(f.ctx, "ada@example.com")
	mustOK(t, "get user by email", err)
	diff(t, "user by email", want, got)

	_, err = st.GetUser(f.ctx, ports.UserID(newID()))
	wantErr(t, "get missing user", err, ports.ENotFound, "")
	_, err = st.GetUserByEmail(f.ctx, "nobody@example.com")
	wantErr(t, "get user by unknown email", err, ports.ENotFound, "")

	other := f.subscription()
	dup := want
	dup.ID, dup.SubscriptionID = ports.UserID(newID()), other.ID
	err = st.CreateUser(f.ctx, dup)
	wantErr(t, "create user with a taken email", err, ports.EConflict, "email_taken")

	f.user(sub.ID, "bob@example.com")
	f.user(other.ID, "eve@example.com")
	for _, tc := range []struct {
		sub  ports.SubscriptionID
		want int
	}{{sub.ID, 2}, {other.ID, 1}, {ports.SubscriptionID(newID()), 0}} {
		n, err := st.CountUsers(f.ctx, tc.sub)
		mustOK(t, "count users", err)
		if n != tc.want {
			t.Errorf("count users of %s: got %d, want %d", tc.sub, n, tc.want)
		}
	}
}

func testUserUpdate(t *testing.T, f *fixture) {
	st := f.s.Users
	sub := f.subscription()
	u := f.user(sub.ID, "ada@example.com")
	f.user(sub.ID, "bob@example.com")
	later := base.Add(time.Minute)

	got, err := st.UpdateUser(f.ctx, u.ID, func(u *ports.User) error {
		u.PasswordHash = "new-hash"
		u.TokenVersion++
		u.Name = "Ada L."
		u.UpdatedAt = later
		return nil
	})
	mustOK(t, "update user", err)
	want := u
	want.PasswordHash, want.TokenVersion, want.Name, want.UpdatedAt = "new-hash", u.TokenVersion+1, "Ada L.", later
	diff(t, "updated user", want, got)
	stored, err := st.GetUser(f.ctx, u.ID)
	mustOK(t, "get user", err)
	diff(t, "stored user", want, stored)

	_, err = st.UpdateUser(f.ctx, u.ID, func(u *ports.User) error {
		u.Email = "bob@example.com"
		return nil
	})
	wantErr(t, "update to a taken email", err, ports.EConflict, "email_taken")

	boom := errors.New("boom")
	_, err = st.UpdateUser(f.ctx, u.ID, func(u *ports.User) error {
		u.TokenVersion = 99
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("update with failing fn: got %v, want the fn's error", err)
	}
	stored, err = st.GetUser(f.ctx, u.ID)
	mustOK(t, "get user", err)
	diff(t, "user after aborted updates", want, stored)

	_, err = st.UpdateUser(f.ctx, ports.UserID(newID()), func(*ports.User) error { return nil })
	wantErr(t, "update missing user", err, ports.ENotFound, "")
}
