package entstore

import (
	"context"
	"time"

	"github.com/wagate/wagate/ent"
	"github.com/wagate/wagate/ent/message"
	"github.com/wagate/wagate/ent/predicate"
	"github.com/wagate/wagate/ports"
)

type messageStore struct{ s *conn }

var (
	_ ports.MessageStore  = (*messageStore)(nil)
	_ ports.MessageOutbox = (*messageOutbox)(nil)
)

// CreateMessage inserts m; on SQLite, outside a transaction, together
// with the inserts that come meanwhile (insertbatch.go).
func (st *messageStore) CreateMessage(ctx context.Context, sub ports.SubscriptionID, m ports.Message) error {
	if st.s.inserts != nil && !st.s.tx {
		return st.s.inserts.insert(ctx, sub, m)
	}
	return insertOne(ctx, st.s, insertRow{sub: sub, m: m})
}

// messageCreate is the INSERT of m, alone or in a batch.
func messageCreate(c *ent.Client, sub ports.SubscriptionID, m ports.Message) *ent.MessageCreate {
	return createActions(c.Message.Create(), m).
		SetID(string(m.ID)).
		SetSubscriptionID(string(sub)).
		SetInstanceID(string(m.InstanceID)).
		SetDirection(string(m.Direction)).
		SetChat(m.Chat).
		SetTo(m.To).
		SetFrom(m.From).
		SetChatLid(m.ChatLID).
		SetFromLid(m.FromLID).
		SetType(string(m.Type)).
		SetText(m.Text).
		SetCaption(m.Caption).
		SetNillableLatitude(latitude(m.Location)).
		SetNillableLongitude(longitude(m.Location)).
		SetLocationName(locationName(m.Location)).
		SetLocationAddress(locationAddress(m.Location)).
		SetRawType(m.RawType).
		SetContacts(encodeContacts(m.Contacts)).
		SetPoll(encodePoll(m.Poll)).
		SetStatus(string(m.Status)).
		SetErrorCode(m.ErrorCode).
		SetErrorMessage(m.ErrorMessage).
		SetWaMessageID(m.WAMessageID).
		SetReplyTo(m.ReplyTo).
		SetAttempts(m.Attempts).
		SetCreatedAt(dbTime(m.CreatedAt)).
		SetUpdatedAt(dbTime(m.UpdatedAt)).
		SetNillableSentAt(dbTimePtr(m.SentAt)).
		SetNillableDeliveredAt(dbTimePtr(m.DeliveredAt)).
		SetNillableReadAt(dbTimePtr(m.ReadAt)).
		SetNillableBulkID(bulkID(m)).
		SetNillableBulkSeq(bulkSeq(m))
}

func (st *messageStore) GetMessage(ctx context.Context, sub ports.SubscriptionID, id ports.MessageID) (ports.Message, error) {
	e, err := st.s.client.Message.Query().Where(ownMessage(sub, id)...).Only(ctx)
	if err != nil {
		return ports.Message{}, dbError("get message", "message", err)
	}
	return toMessage(e), nil
}

func (st *messageStore) ListMessages(ctx context.Context, sub ports.SubscriptionID, f ports.MessageFilter, page ports.PageRequest) (ports.Page[ports.Message], error) {
	before, err := decodeCursor(page.After)
	if err != nil {
		return ports.Page[ports.Message]{}, err
	}
	where := []predicate.Message{message.SubscriptionID(string(sub)), message.InstanceID(string(f.InstanceID))}
	if f.Direction != "" {
		where = append(where, message.Direction(string(f.Direction)))
	}
	if f.Status != "" {
		where = append(where, message.Status(string(f.Status)))
	}
	if f.Chat != "" {
		forms := []string{f.Chat}
		if f.ChatAlt != "" && f.ChatAlt != f.Chat {
			forms = append(forms, f.ChatAlt)
		}
		where = append(where, message.Or(message.ChatIn(forms...), message.ChatLidIn(forms...)))
	}
	if !f.Since.IsZero() {
		where = append(where, message.CreatedAtGTE(dbTime(f.Since)))
	}
	if before != "" {
		// Newest first: the next page holds the older, smaller ids.
		where = append(where, message.IDLT(before))
	}
	limit := pageLimit(page)
	rows, err := st.s.client.Message.Query().Where(where...).
		Order(ent.Desc(message.FieldID)).Limit(limit + 1).All(ctx)
	if err != nil {
		return ports.Page[ports.Message]{}, dbError("list messages", "message", err)
	}
	return makePage(rows, limit, toMessage, func(e *ent.Message) string { return e.ID }), nil
}

func (st *messageStore) FindMessageByWAID(ctx context.Context, sub ports.SubscriptionID, inst ports.InstanceID, waID string) (ports.Message, error) {
	if waID == "" {
		return ports.Message{}, ports.Errorf(ports.ENotFound, "message not found")
	}
	e, err := st.s.client.Message.Query().
		Where(message.SubscriptionID(string(sub)), message.InstanceID(string(inst)), message.WaMessageID(waID)).
		Order(ent.Desc(message.FieldID)).First(ctx)
	if err != nil {
		return ports.Message{}, dbError("find message", "message", err)
	}
	return toMessage(e), nil
}

func (st *messageStore) UpdateMessage(ctx context.Context, sub ports.SubscriptionID, id ports.MessageID, fn func(*ports.Message) error) (ports.Message, error) {
	var out ports.Message
	err := st.s.inTx(ctx, func(tx *conn) error {
		q := tx.client.Message.Query().Where(ownMessage(sub, id)...)
		if tx.postgres() {
			q = q.ForUpdate()
		}
		e, err := q.Only(ctx)
		if err != nil {
			return dbError("update message", "message", err)
		}
		m := toMessage(e)
		if err := fn(&m); err != nil {
			return err
		}
		u := e.Update().
			SetChat(m.Chat).
			SetTo(m.To).
			SetFrom(m.From).
			SetType(string(m.Type)).
			SetText(m.Text).
			SetCaption(m.Caption).
			SetNillableLatitude(latitude(m.Location)).
			SetNillableLongitude(longitude(m.Location)).
			SetLocationName(locationName(m.Location)).
			SetLocationAddress(locationAddress(m.Location)).
			SetRawType(m.RawType).
			SetContacts(encodeContacts(m.Contacts)).
			SetPoll(encodePoll(m.Poll)).
			SetStatus(string(m.Status)).
			SetErrorCode(m.ErrorCode).
			SetErrorMessage(m.ErrorMessage).
			SetWaMessageID(m.WAMessageID).
			SetReplyTo(m.ReplyTo).
			SetAttempts(m.Attempts).
			SetUpdatedAt(dbTime(m.UpdatedAt))
		setOptionalTime(m.SentAt, u.SetSentAt, u.ClearSentAt)
		setOptionalTime(m.DeliveredAt, u.SetDeliveredAt, u.ClearDeliveredAt)
		setOptionalTime(m.ReadAt, u.SetReadAt, u.ClearReadAt)
		updateActions(u, m)
		if m.Location == nil {
			u.ClearLatitude().ClearLongitude()
		}
		e, err = u.Save(ctx)
		if err != nil {
			return dbError("update message", "message", err)
		}
		out = toMessage(e)
		return nil
	})
	return out, err
}

// claimMessage claims a queued message, or one whose claim went stale,
// and fixes its WhatsApp id unless an earlier claim did: a reclaim keeps
// the first id, so that the recipient drops a second copy.
const claimMessage = `UPDATE messages SET status = ?, attempts = attempts + 1, updated_at = ?,
wa_message_id = CASE WHEN wa_message_id = '' THEN ? ELSE wa_message_id END
WHERE id = ? AND subscription_id = ? AND (status = ? OR (status = ? AND updated_at < ?))`

// ClaimForSend is one conditional UPDATE (claimMessage): the database, not
// a read before the write, decides which of two concurrent claims wins
// (on PostgreSQL the loser waits for the winner's row lock and then finds
// the claim fresh; SQLite has one writer).
func (st *messageStore) ClaimForSend(ctx context.Context, sub ports.SubscriptionID, id ports.MessageID, at, staleBefore time.Time, waID string) (ports.Message, error) {
	if waID == "" {
		return ports.Message{}, ports.Errorf(ports.EInvalid, "claim message: no WhatsApp id")
	}
	var out ports.Message
	err := st.s.inTx(ctx, func(tx *conn) error {
		c := tx.client
		res, err := c.ExecContext(ctx, rebind(tx.dialect, claimMessage),
			string(ports.MsgSending), dbTime(at), waID, string(id), string(sub),
			string(ports.MsgQueued), string(ports.MsgSending), dbTime(staleBefore))
		if err != nil {
			return dbError("claim message", "message", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return dbError("claim message", "message", err)
		}
		e, err := c.Message.Query().Where(ownMessage(sub, id)...).Only(ctx)
		if err != nil {
			return dbError("claim message", "message", err)
		}
		if n == 0 {
			return ports.Errorf(ports.EConflict, "the message is %s, not queued or stale", e.Status)
		}
		out = toMessage(e)
		return nil
	})
	return out, err
}

// NextToSend walks the (instance_id, status, id) index.
func (st *messageStore) NextToSend(ctx context.Context, sub ports.SubscriptionID, inst ports.InstanceID, after ports.MessageID) (ports.Message, error) {
	e, err := st.toSend(sub, inst, after).First(ctx)
	if err != nil {
		return ports.Message{}, dbError("next message to send", "message", err)
	}
	return toMessage(e), nil
}

// FollowingToSend walks the same index as NextToSend.
func (st *messageStore) FollowingToSend(ctx context.Context, sub ports.SubscriptionID, inst ports.InstanceID, after ports.MessageID, limit int) ([]ports.Message, error) {
	if limit <= 0 {
		return []ports.Message{}, nil
	}
	rows, err := st.toSend(sub, inst, after).Limit(limit).All(ctx)
	if err != nil {
		return nil, dbError("messages to send", "message", err)
	}
	out := make([]ports.Message, len(rows))
	for i, e := range rows {
		out[i] = toMessage(e)
	}
	return out, nil
}

// toSend queries the instance's messages to send after after, oldest
// first.
func (st *messageStore) toSend(sub ports.SubscriptionID, inst ports.InstanceID, after ports.MessageID) *ent.MessageQuery {
	where := []predicate.Message{
		message.InstanceID(string(inst)),
		message.StatusIn(string(ports.MsgQueued), string(ports.MsgSending)),
		message.SubscriptionID(string(sub)),
		message.Direction(string(ports.DirectionOutbound)),
		message.BulkIDIsNil(),
	}
	if after != "" {
		where = append(where, message.IDGT(string(after)))
	}
	return st.s.client.Message.Query().Where(where...).Order(ent.Asc(message.FieldID))
}

// messageOutbox answers the relay's query, which crosses subscriptions on
// purpose.
type messageOutbox struct{ s *conn }

// Outbox returns the system-level view of the send backlog.
func (s *Store) Outbox() ports.MessageOutbox { return &messageOutbox{s.pool} }

func (o *messageOutbox) ListStuck(ctx context.Context, olderThan time.Time, limit int) ([]ports.Message, error) {
	if limit <= 0 {
		return []ports.Message{}, nil
	}
	rows, err := o.s.client.Message.Query().
		Where(
			message.Direction(string(ports.DirectionOutbound)),
			message.StatusIn(string(ports.MsgQueued), string(ports.MsgSending)),
			message.UpdatedAtLT(dbTime(olderThan)),
			message.BulkIDIsNil(),
		).
		Order(ent.Asc(message.FieldUpdatedAt), ent.Asc(message.FieldID)).
		Limit(limit).All(ctx)
	if err != nil {
		return nil, dbError("list stuck messages", "message", err)
	}
	out := make([]ports.Message, len(rows))
	for i, r := range rows {
		out[i] = toMessage(r)
	}
	return out, nil
}

// ownMessage selects a message only within its subscription, so that
// another tenant's id reads as missing.
func ownMessage(sub ports.SubscriptionID, id ports.MessageID) []predicate.Message {
	return []predicate.Message{message.ID(string(id)), message.SubscriptionID(string(sub))}
}

// setOptionalTime sets or clears a nullable time column.
func setOptionalTime[U any](t *time.Time, set func(time.Time) U, clear func() U) {
	if t != nil {
		set(dbTime(*t))
	} else {
		clear()
	}
}

func toMessage(e *ent.Message) ports.Message {
	return withActions(ports.Message{
		ID:             ports.MessageID(e.ID),
		SubscriptionID: ports.SubscriptionID(e.SubscriptionID),
		InstanceID:     ports.InstanceID(e.InstanceID),
		Direction:      ports.Direction(e.Direction),
		Chat:           e.Chat,
		To:             e.To,
		From:           e.From,
		ChatLID:        e.ChatLid,
		FromLID:        e.FromLid,
		Type:           ports.MessageType(e.Type),
		Text:           e.Text,
		Caption:        e.Caption,
		Location:       toLocation(e),
		Contacts:       decodeContacts(e.Contacts),
		Poll:           decodePoll(e.Poll),
		RawType:        e.RawType,
		Status:         ports.MessageStatus(e.Status),
		ErrorCode:      e.ErrorCode,
		ErrorMessage:   e.ErrorMessage,
		WAMessageID:    e.WaMessageID,
		ReplyTo:        e.ReplyTo,
		Attempts:       e.Attempts,
		CreatedAt:      e.CreatedAt.UTC(),
		UpdatedAt:      e.UpdatedAt.UTC(),
		SentAt:         utcPtr(e.SentAt),
		DeliveredAt:    utcPtr(e.DeliveredAt),
		ReadAt:         utcPtr(e.ReadAt),
		BulkID:         ports.BulkID(deref(e.BulkID)),
		BulkSeq:        deref(e.BulkSeq),
	}, e)
}

// bulkID and bulkSeq are the bulk columns of m: NULL unless m belongs to a
// bulk send.
func bulkID(m ports.Message) *string {
	if m.BulkID == "" {
		return nil
	}
	id := string(m.BulkID)
	return &id
}

func bulkSeq(m ports.Message) *int {
	if m.BulkID == "" {
		return nil
	}
	return &m.BulkSeq
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// The location columns of a message; nil when it has no location.

func latitude(l *ports.WALocation) *float64 {
	if l == nil {
		return nil
	}
	return &l.Latitude
}

func longitude(l *ports.WALocation) *float64 {
	if l == nil {
		return nil
	}
	return &l.Longitude
}

func locationName(l *ports.WALocation) string {
	if l == nil {
		return ""
	}
	return l.Name
}

func locationAddress(l *ports.WALocation) string {
	if l == nil {
		return ""
	}
	return l.Address
}

func toLocation(e *ent.Message) *ports.WALocation {
	if e.Latitude == nil || e.Longitude == nil {
		return nil
	}
	return &ports.WALocation{Latitude: *e.Latitude, Longitude: *e.Longitude, Name: e.LocationName, Address: e.LocationAddress}
}
