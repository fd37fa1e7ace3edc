package coretest

import (
	"context"
	"slices"
	"time"

	"github.com/wagate/wagate/ports"
)

var _ ports.MediaStore = view{}

// cloneMedia copies the byte slices, so that no caller shares them with the
// stored value.
func cloneMedia(md ports.MessageMedia) ports.MessageMedia {
	md.SHA256, md.Data = slices.Clone(md.SHA256), slices.Clone(md.Data)
	return md
}

// PutMedia stores the file of a message of the tenant; ENotFound if there
// is no such message, EConflict if it has a file already.
func (v view) PutMedia(_ context.Context, sub ports.SubscriptionID, md ports.MessageMedia) error {
	d, done, err := v.enter("PutMedia")
	if err != nil {
		return err
	}
	defer done()
	if m, ok := d.messages[md.MessageID]; !ok || m.SubscriptionID != sub {
		return notFound("message")
	}
	if _, ok := d.media[md.MessageID]; ok {
		return ports.Errorf(ports.EConflict, "media already exists")
	}
	md.SubscriptionID = sub
	md.CreatedAt = md.CreatedAt.UTC().Truncate(time.Microsecond)
	d.media[md.MessageID] = cloneMedia(md)
	return nil
}

// GetMedia returns ENotFound if the message has no file or is another
// tenant's.
func (v view) GetMedia(_ context.Context, sub ports.SubscriptionID, id ports.MessageID) (ports.MessageMedia, error) {
	d, done, err := v.enter("GetMedia")
	if err != nil {
		return ports.MessageMedia{}, err
	}
	defer done()
	md, ok := d.media[id]
	if !ok || md.SubscriptionID != sub {
		return ports.MessageMedia{}, notFound("media")
	}
	return cloneMedia(md), nil
}
