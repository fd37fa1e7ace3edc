package entstore

import (
	"context"

	"github.com/wagate/wagate/ent"
	"github.com/wagate/wagate/ent/predicate"
	"github.com/wagate/wagate/ent/template"
	"github.com/wagate/wagate/ports"
)

type templateStore struct{ s *conn }

var _ ports.TemplateStore = (*templateStore)(nil)

func (st *templateStore) CreateTemplate(ctx context.Context, sub ports.SubscriptionID, t ports.Template) error {
	err := st.s.client.Template.Create().
		SetID(string(t.ID)).
		SetSubscriptionID(string(sub)).
		SetName(t.Name).
		SetBody(t.Body).
		SetVariables(nonNil(t.Variables)).
		SetCreatedAt(dbTime(t.CreatedAt)).
		SetUpdatedAt(dbTime(t.UpdatedAt)).
		Exec(ctx)
	if uniqueOn(err, "name") {
		return errTemplateNameTaken()
	}
	return dbError("create template", "template", err)
}

func (st *templateStore) GetTemplate(ctx context.Context, sub ports.SubscriptionID, id ports.TemplateID) (ports.Template, error) {
	e, err := st.s.client.Template.Query().Where(ownTemplate(sub, id)...).Only(ctx)
	if err != nil {
		return ports.Template{}, dbError("get template", "template", err)
	}
	return toTemplate(e), nil
}

func (st *templateStore) ListTemplates(ctx context.Context, sub ports.SubscriptionID, page ports.PageRequest) (ports.Page[ports.Template], error) {
	after, err := decodeCursor(page.After)
	if err != nil {
		return ports.Page[ports.Template]{}, err
	}
	limit := pageLimit(page)
	q := st.s.client.Template.Query().
		Where(template.SubscriptionID(string(sub))).
		Order(ent.Asc(template.FieldID)).
		Limit(limit + 1)
	if after != "" {
		q = q.Where(template.IDGT(after))
	}
	rows, err := q.All(ctx)
	if err != nil {
		return ports.Page[ports.Template]{}, dbError("list templates", "template", err)
	}
	return makePage(rows, limit, toTemplate, func(e *ent.Template) string { return e.ID }), nil
}

func (st *templateStore) UpdateTemplate(ctx context.Context, sub ports.SubscriptionID, id ports.TemplateID, fn func(*ports.Template) error) (ports.Template, error) {
	var out ports.Template
	err := st.s.inTx(ctx, func(tx *conn) error {
		q := tx.client.Template.Query().Where(ownTemplate(sub, id)...)
		if tx.postgres() {
			q = q.ForUpdate()
		}
		e, err := q.Only(ctx)
		if err != nil {
			return dbError("update template", "template", err)
		}
		t := toTemplate(e)
		if err := fn(&t); err != nil {
			return err
		}
		e, err = e.Update().
			SetName(t.Name).
			SetBody(t.Body).
			SetVariables(nonNil(t.Variables)).
			SetUpdatedAt(dbTime(t.UpdatedAt)).
			Save(ctx)
		if uniqueOn(err, "name") {
			return errTemplateNameTaken()
		}
		if err != nil {
			return dbError("update template", "template", err)
		}
		out = toTemplate(e)
		return nil
	})
	return out, err
}

func (st *templateStore) DeleteTemplate(ctx context.Context, sub ports.SubscriptionID, id ports.TemplateID) error {
	n, err := st.s.client.Template.Delete().Where(ownTemplate(sub, id)...).Exec(ctx)
	if err != nil {
		return dbError("delete template", "template", err)
	}
	if n == 0 {
		return ports.Errorf(ports.ENotFound, "template not found")
	}
	return nil
}

// ownTemplate selects a template only within its subscription.
func ownTemplate(sub ports.SubscriptionID, id ports.TemplateID) []predicate.Template {
	return []predicate.Template{template.ID(string(id)), template.SubscriptionID(string(sub))}
}

func toTemplate(e *ent.Template) ports.Template {
	return ports.Template{
		ID:             ports.TemplateID(e.ID),
		SubscriptionID: ports.SubscriptionID(e.SubscriptionID),
		Name:           e.Name,
		Body:           e.Body,
		Variables:      nonNil(e.Variables),
		CreatedAt:      e.CreatedAt.UTC(),
		UpdatedAt:      e.UpdatedAt.UTC(),
	}
}

func errTemplateNameTaken() error {
	return ports.ReasonError(ports.EConflict, "name_taken", "a template with this name already exists")
}
