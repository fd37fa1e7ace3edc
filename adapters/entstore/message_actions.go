package entstore

import (
	"github.com/wagate/wagate/ent"
	"github.com/wagate/wagate/ent/schema"
	"github.com/wagate/wagate/ports"
)

// The columns of what happened to a message after it was sent or received
// (reactions, edit, deletion, mentions, forward), kept apart from the
// send columns in messages.go.

// createActions sets the action columns of an INSERT.
func createActions(c *ent.MessageCreate, m ports.Message) *ent.MessageCreate {
	return c.SetReactions(fromReactions(m.Reactions)).
		SetNillableEditedAt(dbTimePtr(m.EditedAt)).
		SetNillableDeletedAt(dbTimePtr(m.DeletedAt)).
		SetDeletedBy(m.DeletedBy).
		SetMentions(m.Mentions).
		SetIsForwarded(m.IsForwarded).
		SetLinkPreview(!m.NoLinkPreview)
}

// updateActions sets the action columns of an UPDATE.
func updateActions(u *ent.MessageUpdateOne, m ports.Message) {
	u.SetReactions(fromReactions(m.Reactions)).SetDeletedBy(m.DeletedBy).
		SetMentions(m.Mentions).SetIsForwarded(m.IsForwarded).SetLinkPreview(!m.NoLinkPreview)
	setOptionalTime(m.EditedAt, u.SetEditedAt, u.ClearEditedAt)
	setOptionalTime(m.DeletedAt, u.SetDeletedAt, u.ClearDeletedAt)
}

// withActions copies the action columns of e into m.
func withActions(m ports.Message, e *ent.Message) ports.Message {
	if len(e.Reactions) > 0 {
		m.Reactions = make([]ports.Reaction, len(e.Reactions))
		for i, r := range e.Reactions {
			m.Reactions[i] = ports.Reaction{From: r.From, Emoji: r.Emoji, At: r.At.UTC()}
		}
	}
	if len(e.Mentions) > 0 {
		m.Mentions = append([]string(nil), e.Mentions...)
	}
	m.EditedAt, m.DeletedAt, m.DeletedBy, m.IsForwarded = utcPtr(e.EditedAt), utcPtr(e.DeletedAt), e.DeletedBy, e.IsForwarded
	m.NoLinkPreview = !e.LinkPreview
	return m
}

func fromReactions(rs []ports.Reaction) []schema.MessageReaction {
	if len(rs) == 0 {
		return nil
	}
	out := make([]schema.MessageReaction, len(rs))
	for i, r := range rs {
		out[i] = schema.MessageReaction{From: r.From, Emoji: r.Emoji, At: dbTime(r.At)}
	}
	return out
}
