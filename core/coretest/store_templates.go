package coretest

import (
	"context"
	"slices"
	"strings"

	"github.com/wagate/wagate/ports"
)

var _ ports.TemplateStore = view{}

// storedTemplate copies t as the real stores keep it.
func storedTemplate(t ports.Template) ports.Template {
	t.Variables = slices.Clone(t.Variables)
	if t.Variables == nil {
		t.Variables = []string{}
	}
	t.CreatedAt, t.UpdatedAt = keptTime(t.CreatedAt), keptTime(t.UpdatedAt)
	return t
}

// templateNameTaken reports whether another template of sub than id has the name.
func (d *state) templateNameTaken(sub ports.SubscriptionID, id ports.TemplateID, name string) bool {
	for _, t := range d.templates {
		if t.SubscriptionID == sub && t.ID != id && t.Name == name {
			return true
		}
	}
	return false
}

func errTemplateNameTaken() error {
	return ports.ReasonError(ports.EConflict, "name_taken", "a template with this name already exists")
}

// CreateTemplate stores t; EConflict (name_taken) on a duplicate name.
func (v view) CreateTemplate(_ context.Context, sub ports.SubscriptionID, t ports.Template) error {
	d, done, err := v.enter("CreateTemplate")
	if err != nil {
		return err
	}
	defer done()
	if _, ok := d.templates[t.ID]; ok {
		return ports.Errorf(ports.EConflict, "template already exists")
	}
	if d.templateNameTaken(sub, t.ID, t.Name) {
		return errTemplateNameTaken()
	}
	t.SubscriptionID = sub
	d.templates[t.ID] = storedTemplate(t)
	return nil
}

// GetTemplate returns ENotFound if missing or another tenant's.
func (v view) GetTemplate(_ context.Context, sub ports.SubscriptionID, id ports.TemplateID) (ports.Template, error) {
	d, done, err := v.enter("GetTemplate")
	if err != nil {
		return ports.Template{}, err
	}
	defer done()
	t, ok := d.templates[id]
	if !ok || t.SubscriptionID != sub {
		return ports.Template{}, notFound("template")
	}
	return storedTemplate(t), nil
}

// ListTemplates pages through a subscription's templates in id order.
func (v view) ListTemplates(_ context.Context, sub ports.SubscriptionID, page ports.PageRequest) (ports.Page[ports.Template], error) {
	d, done, err := v.enter("ListTemplates")
	if err != nil {
		return ports.Page[ports.Template]{}, err
	}
	defer done()
	var all []ports.Template
	for _, t := range d.templates {
		if t.SubscriptionID == sub {
			all = append(all, storedTemplate(t))
		}
	}
	slices.SortFunc(all, func(a, b ports.Template) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return pageOf(all, func(t ports.Template) string { return string(t.ID) }, page)
}

// UpdateTemplate applies fn to a copy and stores it unless fn fails or
// the new name is taken.
func (v view) UpdateTemplate(_ context.Context, sub ports.SubscriptionID, id ports.TemplateID, fn func(*ports.Template) error) (ports.Template, error) {
	d, done, err := v.enter("UpdateTemplate")
	if err != nil {
		return ports.Template{}, err
	}
	defer done()
	t, ok := d.templates[id]
	if !ok || t.SubscriptionID != sub {
		return ports.Template{}, notFound("template")
	}
	t = storedTemplate(t)
	if err := fn(&t); err != nil {
		return ports.Template{}, err
	}
	t.ID, t.SubscriptionID = id, sub
	if d.templateNameTaken(sub, id, t.Name) {
		return ports.Template{}, errTemplateNameTaken()
	}
	d.templates[id] = storedTemplate(t)
	return storedTemplate(t), nil
}

// DeleteTemplate removes the template; ENotFound if missing.
func (v view) DeleteTemplate(_ context.Context, sub ports.SubscriptionID, id ports.TemplateID) error {
	d, done, err := v.enter("DeleteTemplate")
	if err != nil {
		return err
	}
	defer done()
	t, ok := d.templates[id]
	if !ok || t.SubscriptionID != sub {
		return notFound("template")
	}
	delete(d.templates, id)
	return nil
}
