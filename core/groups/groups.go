// Package groups manages the WhatsApp groups of an instance's number
// (SPEC §16): create, list, read, change settings and picture, change
// participants, invite links, join and leave. Every call acts at once
// through the WhatsApp adapter, as the caller waits; group creation and
// participant changes are rate-limited per instance, since WhatsApp bans
// numbers that mass-add people.
package groups

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wagate/wagate/core/events"
	"github.com/wagate/wagate/ports"
)

// The defaults of Deps' limits.
var (
	// DefaultCreateLimit bounds group creations per instance.
	DefaultCreateLimit = ports.Limit{Count: 10, Period: time.Hour}
	// DefaultParticipantsLimit bounds participant changes (numbers, not
	// requests) per instance.
	DefaultParticipantsLimit = ports.Limit{Count: 200, Period: time.Hour}
)

// Limits on input.
const (
	maxSubject      = 100  // characters, as WhatsApp
	maxDescription  = 2048 // characters
	maxParticipants = 256  // numbers per request
	maxLink         = 200
	maxPicture      = 5 << 20
)

// The disappearing timers WhatsApp offers, in seconds (0: off).
var ephemeralTimers = []uint32{0, 86400, 604800, 7776000}

// Deps are the ports the service uses.
type Deps struct {
	Instances ports.InstanceStore
	Groups    ports.WAGroups       // nil: the routes answer not_supported
	Members   ports.WAGroupMembers // nil: likewise
	Limiter   ports.RateLimiter    // nil: no limits
	Clock     ports.Clock
	// CreateLimit and ParticipantsLimit override the defaults when set.
	CreateLimit, ParticipantsLimit ports.Limit
	Log                            *slog.Logger
	// Tx and Events record group changes as events (HandleEvent); nil:
	// changes are not recorded.
	Tx     ports.TxRunner
	Events *events.Log
	// Owner tells whether this node holds an instance's connection; nil:
	// it holds all.
	Owner Owner
}

// Owner tells whether this node holds an instance's connection.
type Owner interface {
	Owns(id ports.InstanceID) bool
}

// Service is the groups module.
type Service struct{ d Deps }

// New returns the service.
func New(d Deps) *Service {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Clock == nil {
		d.Clock = ports.ClockFunc(time.Now)
	}
	if d.CreateLimit.Count == 0 {
		d.CreateLimit = DefaultCreateLimit
	}
	if d.ParticipantsLimit.Count == 0 {
		d.ParticipantsLimit = DefaultParticipantsLimit
	}
	return &Service{d: d}
}

// CreateCmd is a new group.
type CreateCmd struct {
	Subject      string
	Participants []string // phone numbers
	Description  string
}

// Created is a new group and what WhatsApp answered for each number.
type Created struct {
	Group   ports.Group
	Results []ports.ParticipantResult
}

// ParticipantsCmd changes members: phone numbers per action.
type ParticipantsCmd struct {
	Add, Remove, Promote, Demote []string
}

// ready checks the caller may manage the instance's groups and that it is
// theirs (another tenant's instance is ENotFound), and returns the ports.
func (s *Service) ready(ctx context.Context, p ports.Principal, inst ports.InstanceID) (ports.WAGroups, ports.WAGroupMembers, error) {
	if err := p.CanActOn(inst); err != nil {
		return nil, nil, err
	}
	if err := p.RequireScope(ports.ScopeMessagesSend); err != nil {
		return nil, nil, err
	}
	if _, err := s.d.Instances.GetInstance(ctx, p.SubscriptionID, inst); err != nil {
		return nil, nil, fmt.Errorf("get instance: %w", err)
	}
	if s.d.Groups == nil || s.d.Members == nil {
		return nil, nil, ports.ReasonError(ports.EUnsupported, "not_supported", "the WhatsApp adapter cannot manage groups")
	}
	return s.d.Groups, s.d.Members, nil
}

// readable is ready for reads: the contacts:read scope is enough.
func (s *Service) readable(ctx context.Context, p ports.Principal, inst ports.InstanceID) (ports.WAGroups, error) {
	if err := p.CanActOn(inst); err != nil {
		return nil, err
	}
	if err := p.RequireScope(ports.ScopeContactsRead); err != nil {
		return nil, err
	}
	if _, err := s.d.Instances.GetInstance(ctx, p.SubscriptionID, inst); err != nil {
		return nil, fmt.Errorf("get instance: %w", err)
	}
	if s.d.Groups == nil {
		return nil, ports.ReasonError(ports.EUnsupported, "not_supported", "the WhatsApp adapter cannot manage groups")
	}
	return s.d.Groups, nil
}

// Create creates a group with the instance's number as superadmin.
func (s *Service) Create(ctx context.Context, p ports.Principal, inst ports.InstanceID, cmd CreateCmd) (Created, error) {
	jids, fe := phoneJIDs("participants", cmd.Participants, 1)
	if err := ports.FieldErrors(checkSubject(cmd.Subject), checkDescription(&cmd.Description), fe); err != nil {
		return Created{}, err
	}
	g, _, err := s.ready(ctx, p, inst)
	if err != nil {
		return Created{}, err
	}
	if err := s.take(ctx, "group-create:"+string(inst), s.d.CreateLimit, "too many groups created by this instance"); err != nil {
		return Created{}, err
	}
	if err := s.takeN(ctx, "group-participants:"+string(inst), len(jids)); err != nil {
		return Created{}, err
	}
	group, results, err := g.CreateGroup(ctx, inst, strings.TrimSpace(cmd.Subject), jids, cmd.Description)
	if err != nil {
		return Created{}, fmt.Errorf("create group: %w", err)
	}
	return Created{Group: group, Results: results}, nil
}

// List lists the groups the number is in.
func (s *Service) List(ctx context.Context, p ports.Principal, inst ports.InstanceID) ([]ports.Group, error) {
	g, err := s.readable(ctx, p, inst)
	if err != nil {
		return nil, err
	}
	out, err := g.Groups(ctx, inst)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	return out, nil
}

// Get returns one group.
func (s *Service) Get(ctx context.Context, p ports.Principal, inst ports.InstanceID, group string) (ports.Group, error) {
	if err := ports.FieldErrors(CheckGroupJID(group)); err != nil {
		return ports.Group{}, err
	}
	g, err := s.readable(ctx, p, inst)
	if err != nil {
		return ports.Group{}, err
	}
	out, err := g.GroupInfo(ctx, inst, group)
	if err != nil {
		return ports.Group{}, fmt.Errorf("get group: %w", err)
	}
	return out, nil
}

// Update changes the settings c sets and returns the group after.
func (s *Service) Update(ctx context.Context, p ports.Principal, inst ports.InstanceID, group string, c ports.GroupChanges) (ports.Group, error) {
	var subjectErr, timerErr, emptyErr *ports.FieldError
	if c.Subject != nil {
		subjectErr = checkSubject(*c.Subject)
		trimmed := strings.TrimSpace(*c.Subject)
		c.Subject = &trimmed
	}
	if c.EphemeralSeconds != nil && !slices.Contains(ephemeralTimers, *c.EphemeralSeconds) {
		timerErr = &ports.FieldError{Field: "ephemeralSeconds", Message: "must be 0, 86400, 604800 or 7776000"}
	}
	if c == (ports.GroupChanges{}) {
		emptyErr = &ports.FieldError{Field: "subject", Message: "give at least one of subject, description, announce, locked, ephemeralSeconds"}
	}
	if err := ports.FieldErrors(CheckGroupJID(group), subjectErr, checkDescription(c.Description), timerErr, emptyErr); err != nil {
		return ports.Group{}, err
	}
	g, _, err := s.ready(ctx, p, inst)
	if err != nil {
		return ports.Group{}, err
	}
	if err := g.UpdateGroup(ctx, inst, group, c); err != nil {
		return ports.Group{}, fmt.Errorf("update group: %w", err)
	}
	out, err := g.GroupInfo(ctx, inst, group)
	if err != nil {
		return ports.Group{}, fmt.Errorf("get group: %w", err)
	}
	return out, nil
}

// SetPicture sets the group's picture (a JPEG) or, with nil, removes it.
func (s *Service) SetPicture(ctx context.Context, p ports.Principal, inst ports.InstanceID, group string, jpeg []byte) error {
	var picErr *ports.FieldError
	if jpeg != nil && (len(jpeg) < 4 || jpeg[0] != 0xff || jpeg[1] != 0xd8 || jpeg[2] != 0xff) {
		picErr = &ports.FieldError{Field: "media", Message: "must be a JPEG image"}
	}
	if len(jpeg) > maxPicture {
		picErr = &ports.FieldError{Field: "media", Message: "must be at most 5 MiB"}
	}
	if err := ports.FieldErrors(CheckGroupJID(group), picErr); err != nil {
		return err
	}
	g, _, err := s.ready(ctx, p, inst)
	if err != nil {
		return err
	}
	if err := g.SetGroupPicture(ctx, inst, group, jpeg); err != nil {
		return fmt.Errorf("set group picture: %w", err)
	}
	return nil
}

// Leave makes the number leave the group.
func (s *Service) Leave(ctx context.Context, p ports.Principal, inst ports.InstanceID, group string) error {
	if err := ports.FieldErrors(CheckGroupJID(group)); err != nil {
		return err
	}
	g, _, err := s.ready(ctx, p, inst)
	if err != nil {
		return err
	}
	if err := g.LeaveGroup(ctx, inst, group); err != nil {
		return fmt.Errorf("leave group: %w", err)
	}
	return nil
}

// Participants applies the changes in the order add, remove, promote,
// demote and returns one result per number.
func (s *Service) Participants(ctx context.Context, p ports.Principal, inst ports.InstanceID, group string, cmd ParticipantsCmd) ([]ports.ParticipantResult, error) {
	steps := []struct {
		action ports.ParticipantAction
		phones []string
	}{{ports.ParticipantAdd, cmd.Add}, {ports.ParticipantRemove, cmd.Remove}, {ports.ParticipantPromote, cmd.Promote}, {ports.ParticipantDemote, cmd.Demote}}
	errs := []*ports.FieldError{CheckGroupJID(group)}
	jids := make([][]string, len(steps))
	total := 0
	for i, st := range steps {
		var fe *ports.FieldError
		jids[i], fe = phoneJIDs(string(st.action), st.phones, 0)
		errs = append(errs, fe)
		total += len(jids[i])
	}
	if total == 0 {
		errs = append(errs, &ports.FieldError{Field: "add", Message: "give at least one number in add, remove, promote or demote"})
	} else if total > maxParticipants {
		errs = append(errs, &ports.FieldError{Field: "add", Message: fmt.Sprintf("at most %d numbers per request", maxParticipants)})
	}
	if err := ports.FieldErrors(errs...); err != nil {
		return nil, err
	}
	_, m, err := s.ready(ctx, p, inst)
	if err != nil {
		return nil, err
	}
	if err := s.takeN(ctx, "group-participants:"+string(inst), total); err != nil {
		return nil, err
	}
	var out []ports.ParticipantResult
	for i, st := range steps {
		if len(jids[i]) == 0 {
			continue
		}
		res, err := m.UpdateParticipants(ctx, inst, group, st.action, jids[i])
		if err != nil {
			return nil, fmt.Errorf("%s participants: %w", st.action, err)
		}
		out = append(out, res...)
	}
	return out, nil
}

// InviteLink returns the group's invite link; reset revokes the old one.
func (s *Service) InviteLink(ctx context.Context, p ports.Principal, inst ports.InstanceID, group string, reset bool) (string, error) {
	if err := ports.FieldErrors(CheckGroupJID(group)); err != nil {
		return "", err
	}
	_, m, err := s.ready(ctx, p, inst)
	if err != nil {
		return "", err
	}
	link, err := m.InviteLink(ctx, inst, group, reset)
	if err != nil {
		return "", fmt.Errorf("invite link: %w", err)
	}
	return link, nil
}

// Join joins the group of an invite link and returns it.
func (s *Service) Join(ctx context.Context, p ports.Principal, inst ports.InstanceID, link string) (ports.Group, error) {
	code, fe := inviteCode(link)
	if err := ports.FieldErrors(fe); err != nil {
		return ports.Group{}, err
	}
	g, m, err := s.ready(ctx, p, inst)
	if err != nil {
		return ports.Group{}, err
	}
	jid, err := m.JoinGroup(ctx, inst, code)
	if err != nil {
		return ports.Group{}, fmt.Errorf("join group: %w", err)
	}
	out, err := g.GroupInfo(ctx, inst, jid)
	if err != nil {
		return ports.Group{}, fmt.Errorf("get group: %w", err)
	}
	return out, nil
}

// take counts one use of key against limit.
func (s *Service) take(ctx context.Context, key string, limit ports.Limit, what string) error {
	if s.d.Limiter == nil {
		return nil
	}
	res, err := s.d.Limiter.Take(ctx, key, limit)
	if err != nil {
		return fmt.Errorf("rate limit %s: %w", key, err)
	}
	if !res.Reached {
		return nil
	}
	wait := max(res.Reset.Sub(s.d.Clock.Now()), time.Second)
	e := ports.ReasonError(ports.ERateLimited, "rate_limited", what+"; try again later")
	e.RetryAfter = (wait + time.Second - 1).Truncate(time.Second)
	return e
}

// takeN counts n participant changes.
func (s *Service) takeN(ctx context.Context, key string, n int) error {
	for range n {
		if err := s.take(ctx, key, s.d.ParticipantsLimit, "too many participant changes by this instance"); err != nil {
			return err
		}
	}
	return nil
}

// CheckGroupJID is the field error of a malformed group JID.
func CheckGroupJID(group string) *ports.FieldError {
	user, server, ok := strings.Cut(group, "@")
	a, b, dash := strings.Cut(user, "-")
	if !ok || server != "g.us" || !isDigits(a) || len(group) > 64 || (dash && !isDigits(b)) {
		return &ports.FieldError{Field: "group", Message: "must be a group JID (digits@g.us)"}
	}
	return nil
}

func checkSubject(subject string) *ports.FieldError {
	n := utf8.RuneCountInString(strings.TrimSpace(subject))
	if n == 0 || n > maxSubject || !utf8.ValidString(subject) {
		return &ports.FieldError{Field: "subject", Message: fmt.Sprintf("must be 1–%d characters", maxSubject)}
	}
	return nil
}

func checkDescription(d *string) *ports.FieldError {
	if d != nil && (utf8.RuneCountInString(*d) > maxDescription || !utf8.ValidString(*d)) {
		return &ports.FieldError{Field: "description", Message: fmt.Sprintf("must be at most %d characters", maxDescription)}
	}
	return nil
}

// phoneJIDs turns phone numbers into user JIDs (deduplicated).
func phoneJIDs(field string, phones []string, min int) ([]string, *ports.FieldError) {
	if len(phones) < min || len(phones) > maxParticipants {
		return nil, &ports.FieldError{Field: field, Message: fmt.Sprintf("must list %d–%d phone numbers", max(min, 1), maxParticipants)}
	}
	out := make([]string, 0, len(phones))
	for i, p := range phones {
		d := strings.TrimPrefix(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(p)), "+")
		if !isDigits(d) || len(d) < 7 || len(d) > 15 || d[0] == '0' {
			return nil, &ports.FieldError{Field: fmt.Sprintf("%s[%d]", field, i), Message: "must be a phone number in international form (7–15 digits)"}
		}
		jid := d + "@s.whatsapp.net"
		if !slices.Contains(out, jid) {
			out = append(out, jid)
		}
	}
	return out, nil
}

// inviteCode takes the code out of an invite link (or a bare code).
func inviteCode(link string) (string, *ports.FieldError) {
	link = strings.TrimSpace(link)
	code := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(link, "https://"), "http://"), "chat.whatsapp.com/")
	bad := &ports.FieldError{Field: "link", Message: "must be a WhatsApp invite link (https://chat.whatsapp.com/…)"}
	if len(link) > maxLink || code == "" || len(code) > 64 {
		return "", bad
	}
	for _, r := range code {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return "", bad
		}
	}
	return code, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
