package templates

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/wagate/wagate/ports"
)

// Deps are the ports the service uses.
type Deps struct {
	Tx     ports.TxRunner
	Stores ports.Stores
	Clock  ports.Clock
	IDs    ports.IDGen
}

// Service is the templates module.
type Service struct{ d Deps }

// New returns a Service.
func New(d Deps) *Service { return &Service{d: d} }

// CreateCmd creates a template.
type CreateCmd struct {
	Name string
	Body string
}

// PatchCmd changes the fields that are not nil.
type PatchCmd struct {
	Name *string
	Body *string
}

// Create stores a template of the caller's subscription. EForbidden for
// API keys; EInvalid for a bad name or body; EConflict (name_taken) when
// the subscription has a template of that name. Audited.
func (s *Service) Create(ctx context.Context, p ports.Principal, cmd CreateCmd) (ports.Template, error) {
	if err := p.RequireUser(); err != nil {
		return ports.Template{}, err
	}
	name, vars, err := validate(&cmd.Name, &cmd.Body)
	if err != nil {
		return ports.Template{}, err
	}
	now := s.d.Clock.Now()
	t := ports.Template{
		ID: ports.TemplateID(s.d.IDs.NewID()), SubscriptionID: p.SubscriptionID,
		Name: name, Body: cmd.Body, Variables: vars, CreatedAt: now, UpdatedAt: now,
	}
	err = s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		if err := st.Templates.CreateTemplate(ctx, p.SubscriptionID, t); err != nil {
			return fmt.Errorf("create template: %w", err)
		}
		return s.audit(ctx, st.Audit, entry(p, "template.created", t))
	})
	if err != nil {
		return ports.Template{}, err
	}
	return t, nil
}

// Get returns one template of the caller's subscription.
func (s *Service) Get(ctx context.Context, p ports.Principal, id ports.TemplateID) (ports.Template, error) {
	if err := p.RequireScope(ports.ScopeMessagesSend); err != nil {
		return ports.Template{}, err
	}
	t, err := s.d.Stores.Templates.GetTemplate(ctx, p.SubscriptionID, id)
	if err != nil {
		return ports.Template{}, fmt.Errorf("get template: %w", err)
	}
	return t, nil
}

// List pages through the caller's templates, oldest first.
func (s *Service) List(ctx context.Context, p ports.Principal, page ports.PageRequest) (ports.Page[ports.Template], error) {
	if err := p.RequireScope(ports.ScopeMessagesSend); err != nil {
		return ports.Page[ports.Template]{}, err
	}
	out, err := s.d.Stores.Templates.ListTemplates(ctx, p.SubscriptionID, page)
	if err != nil {
		return ports.Page[ports.Template]{}, fmt.Errorf("list templates: %w", err)
	}
	return out, nil
}

// Update changes a template's name or body; a new body's variables are
// parsed again. EForbidden for API keys. Audited.
func (s *Service) Update(ctx context.Context, p ports.Principal, id ports.TemplateID, cmd PatchCmd) (ports.Template, error) {
	if err := p.RequireUser(); err != nil {
		return ports.Template{}, err
	}
	name, vars, err := validate(cmd.Name, cmd.Body)
	if err != nil {
		return ports.Template{}, err
	}
	var out ports.Template
	err = s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		t, err := st.Templates.UpdateTemplate(ctx, p.SubscriptionID, id, func(t *ports.Template) error {
			if cmd.Name != nil {
				t.Name = name
			}
			if cmd.Body != nil {
				t.Body, t.Variables = *cmd.Body, vars
			}
			t.UpdatedAt = s.d.Clock.Now()
			return nil
		})
		if err != nil {
			return fmt.Errorf("update template: %w", err)
		}
		out = t
		return s.audit(ctx, st.Audit, entry(p, "template.updated", t))
	})
	if err != nil {
		return ports.Template{}, err
	}
	return out, nil
}

// Delete removes a template. EForbidden for API keys. Audited.
func (s *Service) Delete(ctx context.Context, p ports.Principal, id ports.TemplateID) error {
	if err := p.RequireUser(); err != nil {
		return err
	}
	return s.d.Tx.InTx(ctx, func(ctx context.Context, st ports.Stores) error {
		t, err := st.Templates.GetTemplate(ctx, p.SubscriptionID, id)
		if err != nil {
			return fmt.Errorf("get template: %w", err)
		}
		if err := st.Templates.DeleteTemplate(ctx, p.SubscriptionID, id); err != nil {
			return fmt.Errorf("delete template: %w", err)
		}
		return s.audit(ctx, st.Audit, entry(p, "template.deleted", t))
	})
}

// Render fills one of the caller's templates with vars; see the package
// function Render for the errors.
func (s *Service) Render(ctx context.Context, p ports.Principal, id ports.TemplateID, vars map[string]string) (string, error) {
	t, err := s.Get(ctx, p, id)
	if err != nil {
		return "", err
	}
	return Render(t, vars)
}

// validate checks the fields a create or patch sets (nil: not set) and
// returns the trimmed name and the body's variables.
func validate(name, body *string) (string, []string, error) {
	var fields []ports.FieldError
	var trimmed string
	if name != nil {
		trimmed = strings.TrimSpace(*name)
		if n := utf8.RuneCountInString(trimmed); n == 0 || n > MaxNameChars {
			fields = append(fields, ports.FieldError{Field: "name", Message: fmt.Sprintf("must be 1 to %d characters", MaxNameChars)})
		} else if fe := ports.CheckName("name", trimmed, MaxNameChars); fe != nil {
			fields = append(fields, *fe)
		}
	}
	var vars []string
	if body != nil {
		v, err := Variables(*body)
		if err != nil {
			fields = append(fields, ports.AsError(err).Fields...)
		}
		vars = v
	}
	if len(fields) > 0 {
		return "", nil, ports.InvalidFields(fields...)
	}
	return trimmed, vars, nil
}

// entry starts an audit entry about template t by the caller.
func entry(p ports.Principal, action string, t ports.Template) ports.AuditEntry {
	e := p.AuditEntry(action, "template", string(t.ID))
	e.Details = map[string]any{"name": t.Name}
	return e
}

// audit stamps the entry with an id and the time and stores it.
func (s *Service) audit(ctx context.Context, st ports.AuditStore, e ports.AuditEntry) error {
	return ports.AppendAudit(ctx, st, s.d.IDs, s.d.Clock, e)
}
