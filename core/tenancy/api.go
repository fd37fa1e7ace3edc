// Package tenancy holds the accounts side of wagate: registration, login,
// token refresh with rotation and reuse detection, logout, password changes,
// tiers and their limits, platform admin operations and the audit log.
package tenancy

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/wagate/wagate/ports"
)

// Config holds the rules that are configurable. New fills zero fields with
// the defaults of SPEC §3 and §11.
type Config struct {
	AccessTTL     time.Duration // 15 min
	RefreshTTL    time.Duration // 30 days
	Tiers         ports.TierTable
	LoginFailures ports.Limit // failed logins per account: 10 per 15 min
}

// withDefaults fills the zero fields; a zero LoginFailures would otherwise
// lock every account out.
func (c Config) withDefaults() Config {
	if c.AccessTTL <= 0 {
		c.AccessTTL = 15 * time.Minute
	}
	if c.RefreshTTL <= 0 {
		c.RefreshTTL = 30 * 24 * time.Hour
	}
	if len(c.Tiers) == 0 {
		c.Tiers = ports.DefaultTiers()
	}
	if c.LoginFailures.Count <= 0 || c.LoginFailures.Period <= 0 {
		c.LoginFailures = ports.Limit{Count: 10, Period: 15 * time.Minute}
	}
	return c
}

// Deps are the ports the service uses.
type Deps struct {
	Tx      ports.TxRunner
	Stores  ports.Stores // outside transactions
	Clock   ports.Clock
	IDs     ports.IDGen
	Hasher  ports.PasswordHasher
	Tokens  ports.TokenIssuer
	Limiter ports.RateLimiter
	Log     *slog.Logger
	// Principals caches authenticated callers; nil caches nothing.
	Principals *Principals
}

// Service is the tenancy module.
type Service struct {
	d     Deps
	cfg   Config
	dummy dummyHash
}

// New returns a Service.
func New(d Deps, cfg Config) *Service {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d, cfg: cfg.withDefaults()}
}

// Client is where a request came from, for the audit log and rate limits.
type Client struct {
	IP        string
	UserAgent string
}

// Tokens is a freshly issued token pair.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    time.Duration // of the access token
}

// Account is a user with their subscription.
type Account struct {
	User         ports.User
	Subscription ports.SubscriptionSummary
}

// RegisterCmd registers a new account.
type RegisterCmd struct {
	Email, Password, Name string
	Client                Client
}

// LoginCmd logs a user in.
type LoginCmd struct {
	Email, Password string
	Client          Client
}

// CreateUserCmd creates a user from the command line or bootstrap config.
type CreateUserCmd struct {
	Email, Password, Name string
	Admin                 bool
}

// Register validates the input, creates a basic-tier subscription with the
// user as owner and logs them in. EInvalid with fields; EConflict
// (email_taken) for a used email.
func (s *Service) Register(ctx context.Context, cmd RegisterCmd) (Account, Tokens, error) {
	var toks Tokens
	a := newAccount{email: cmd.Email, password: cmd.Password, name: cmd.Name, role: ports.RoleOwner}
	u, sub, err := s.createAccount(ctx, a, func(ctx context.Context, st ports.Stores, u ports.User) error {
		var err error
		if toks, err = s.issue(ctx, st, u, s.d.IDs.NewID()); err != nil {
			return err
		}
		return s.audit(ctx, st.Audit, byUser(u, cmd.Client, "auth.register"))
	})
	if err != nil {
		return Account{}, Tokens{}, err
	}
	sum := ports.SubscriptionSummary{Subscription: sub, InstanceLimit: s.cfg.Tiers[sub.Tier].Instances}
	return Account{User: u, Subscription: sum}, toks, nil
}

// Me returns the caller's account. EForbidden for API keys.
func (s *Service) Me(ctx context.Context, p ports.Principal) (Account, error) {
	if err := p.RequireUser(); err != nil {
		return Account{}, err
	}
	a, err := s.d.Stores.Access.GetUserAccount(ctx, p.SubscriptionID, p.UserID)
	if err != nil {
		return Account{}, fmt.Errorf("get account: %w", err)
	}
	return Account{User: withoutSecrets(a.User), Subscription: s.summaryOf(a.Subscription, a.Instances)}, nil
}

// ListAudit lists the caller's subscription's audit log, newest first.
func (s *Service) ListAudit(ctx context.Context, p ports.Principal, page ports.PageRequest) (ports.Page[ports.AuditEntry], error) {
	if err := p.RequireUser(); err != nil {
		return ports.Page[ports.AuditEntry]{}, err
	}
	out, err := s.d.Stores.Audit.ListAudit(ctx, p.SubscriptionID, page)
	if err != nil {
		return ports.Page[ports.AuditEntry]{}, fmt.Errorf("list audit: %w", err)
	}
	if err := s.nameActors(ctx, p.SubscriptionID, out.Items); err != nil {
		return ports.Page[ports.AuditEntry]{}, err
	}
	return out, nil
}

// nameActors sets the Actor of entries made by members: one read of the
// member list, which MaxMembers keeps within one page.
func (s *Service) nameActors(ctx context.Context, sub ports.SubscriptionID, entries []ports.AuditEntry) error {
	if !slices.ContainsFunc(entries, func(e ports.AuditEntry) bool { return e.ActorUserID != "" }) {
		return nil
	}
	members, err := s.d.Stores.Members.ListMembers(ctx, sub, ports.PageRequest{Limit: ports.MaxPageLimit})
	if err != nil {
		return fmt.Errorf("list members: %w", err)
	}
	byID := make(map[ports.UserID]*ports.AuditActor, len(members.Items))
	for _, u := range members.Items {
		byID[u.ID] = &ports.AuditActor{Email: u.Email, Name: u.Name, Role: u.MemberRole}
	}
	for i := range entries {
		entries[i].Actor = byID[entries[i].ActorUserID]
	}
	return nil
}

// CreateUser creates a user with a subscription of their own, for the
// command line and the bootstrap admin. EConflict (email_taken) if the email
// exists.
func (s *Service) CreateUser(ctx context.Context, cmd CreateUserCmd) (ports.User, error) {
	a := newAccount{email: cmd.Email, password: cmd.Password, name: cmd.Name, role: ports.RoleOwner}
	if cmd.Admin {
		a.role = ports.RoleAdmin
	}
	u, _, err := s.createAccount(ctx, a, func(ctx context.Context, st ports.Stores, u ports.User) error {
		e := byUser(u, Client{}, "user.created")
		e.Details = map[string]any{"role": string(u.Role)}
		return s.audit(ctx, st.Audit, e)
	})
	return u, err
}
