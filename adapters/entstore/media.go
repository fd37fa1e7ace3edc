package entstore

import (
	"context"

	"github.com/wagate/wagate/ent"
	"github.com/wagate/wagate/ent/message"
	"github.com/wagate/wagate/ent/messagemedia"
	"github.com/wagate/wagate/ports"
)

type mediaStore struct{ s *conn }

var _ ports.MediaStore = (*mediaStore)(nil)

func (st *mediaStore) PutMedia(ctx context.Context, sub ports.SubscriptionID, md ports.MessageMedia) error {
	c := st.s.client
	// No foreign key ties the file to its message (the message table
	// predates it); the check keeps a file from outliving the rule that it
	// belongs to one of the tenant's messages.
	ok, err := c.Message.Query().Where(message.ID(string(md.MessageID)), message.SubscriptionID(string(sub))).Exist(ctx)
	if err != nil {
		return dbError("put media", "message", err)
	}
	if !ok {
		return ports.Errorf(ports.ENotFound, "message not found")
	}
	err = c.MessageMedia.Create().
		SetID(string(md.MessageID)).
		SetSubscriptionID(string(sub)).
		SetMimeType(md.MimeType).
		SetFileName(md.FileName).
		SetPtt(md.PTT).
		SetGif(md.GIF).
		SetSize(md.Size).
		SetSha256(md.SHA256).
		SetData(md.Data).
		SetCreatedAt(dbTime(md.CreatedAt)).
		Exec(ctx)
	return dbError("put media", "media", err)
}

func (st *mediaStore) GetMedia(ctx context.Context, sub ports.SubscriptionID, id ports.MessageID) (ports.MessageMedia, error) {
	e, err := st.s.client.MessageMedia.Query().
		Where(messagemedia.ID(string(id)), messagemedia.SubscriptionID(string(sub))).Only(ctx)
	if err != nil {
		return ports.MessageMedia{}, dbError("get media", "media", err)
	}
	return toMedia(e), nil
}

func toMedia(e *ent.MessageMedia) ports.MessageMedia {
	return ports.MessageMedia{
		MessageID: ports.MessageID(e.ID), SubscriptionID: ports.SubscriptionID(e.SubscriptionID),
		MimeType: e.MimeType, FileName: e.FileName, PTT: e.Ptt, GIF: e.Gif, Size: e.Size,
		SHA256: e.Sha256, Data: e.Data, CreatedAt: e.CreatedAt.UTC(),
	}
}
