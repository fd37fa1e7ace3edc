package ports

import (
	"context"
	"time"
)

// TemplateID names a message template.
type TemplateID string

// Template is a message body with {{variable}} placeholders, owned by a
// subscription (SPEC §8). Variables are the distinct placeholder names of
// Body in the order they first appear, parsed when the body was saved.
type Template struct {
	ID             TemplateID
	SubscriptionID SubscriptionID
	Name           string
	Body           string
	Variables      []string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// TemplateStore keeps templates. Names are unique per subscription.
type TemplateStore interface {
	// CreateTemplate stores t; EConflict (reason name_taken) if the name
	// exists, EConflict if the id does.
	CreateTemplate(ctx context.Context, sub SubscriptionID, t Template) error
	// GetTemplate returns ENotFound if missing or another tenant's.
	GetTemplate(ctx context.Context, sub SubscriptionID, id TemplateID) (Template, error)
	// ListTemplates pages through a subscription's templates, oldest first.
	ListTemplates(ctx context.Context, sub SubscriptionID, page PageRequest) (Page[Template], error)
	// UpdateTemplate loads the template under a lock, applies fn and saves
	// it. ENotFound if missing; EConflict (name_taken) on a duplicate name;
	// fn's error aborts the update and is returned.
	UpdateTemplate(ctx context.Context, sub SubscriptionID, id TemplateID, fn func(*Template) error) (Template, error)
	// DeleteTemplate removes the template; ENotFound if missing.
	DeleteTemplate(ctx context.Context, sub SubscriptionID, id TemplateID) error
}
