package entstore

import (
	"context"
	"strings"

	"entgo.io/ent/dialect/sql"

	"github.com/wagate/wagate/ent/message"
	"github.com/wagate/wagate/ports"
)

// chatStore lists chats from the messages table.
type chatStore struct{ s *conn }

var _ ports.ChatStore = (*chatStore)(nil)

// Chats returns the chat list of SPEC §16, read from stored messages.
func (s *Store) Chats() ports.ChatStore { return &chatStore{s.pool} }

// ListChats is one GROUP BY chat over the instance's messages, served by
// the (instance_id, chat, id) index: a chat's newest message is its
// largest id (ids are time-ordered), which is also the page order and the
// cursor, so that a page is a range of MAX(id). A second query reads the
// creation times of those newest messages by primary key.
func (st *chatStore) ListChats(ctx context.Context, sub ports.SubscriptionID, inst ports.InstanceID, page ports.PageRequest) (ports.Page[ports.Chat], error) {
	after, err := decodeCursor(page.After)
	if err != nil {
		return ports.Page[ports.Chat]{}, err
	}
	limit := pageLimit(page)
	b := sql.Dialect(st.s.dialect)
	t := sql.Table(message.Table)
	last := sql.Max(t.C(message.FieldID))
	sel := b.Select(t.C(message.FieldChat), sql.As(last, "last_id")).
		AppendSelectExpr(sql.ExprFunc(func(bb *sql.Builder) {
			bb.WriteString("SUM(CASE WHEN ").Ident(message.FieldDirection).WriteString(" = ").Arg(string(ports.DirectionInbound)).
				WriteString(" AND ").Ident(message.FieldReadAt).WriteString(" IS NULL THEN 1 ELSE 0 END)")
		})).
		From(t).
		Where(sql.And(
			sql.EQ(t.C(message.FieldSubscriptionID), string(sub)),
			sql.EQ(t.C(message.FieldInstanceID), string(inst)),
			sql.NEQ(t.C(message.FieldChat), ""),
		)).
		GroupBy(t.C(message.FieldChat))
	if after != "" {
		sel.Having(sql.LT(last, after))
	}
	query, args := sel.OrderExpr(sql.ExprFunc(func(bb *sql.Builder) { bb.Ident("last_id").WriteString(" DESC") })).Limit(limit + 1).Query()
	rows, err := st.s.client.QueryContext(ctx, query, args...)
	if err != nil {
		return ports.Page[ports.Chat]{}, dbError("list chats", "chat", err)
	}
	type row struct {
		chat, lastID string
		unread       int64
	}
	var found []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.chat, &r.lastID, &r.unread); err != nil {
			rows.Close()
			return ports.Page[ports.Chat]{}, dbError("list chats", "chat", err)
		}
		found = append(found, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return ports.Page[ports.Chat]{}, dbError("list chats", "chat", err)
	}
	out := makePage(found, limit, func(r row) ports.Chat {
		return ports.Chat{Chat: r.chat, IsGroup: strings.HasSuffix(r.chat, "@g.us"), UnreadCount: int(r.unread)}
	}, func(r row) string { return r.lastID })
	if len(out.Items) == 0 {
		return out, nil
	}
	ids := make([]string, len(out.Items))
	for i := range out.Items {
		ids[i] = found[i].lastID
	}
	newest, err := st.s.client.Message.Query().
		Where(message.SubscriptionID(string(sub)), message.IDIn(ids...)).
		Select(message.FieldID, message.FieldCreatedAt).
		All(ctx)
	if err != nil {
		return ports.Page[ports.Chat]{}, dbError("list chats", "chat", err)
	}
	at := make(map[string]int, len(ids))
	for i, id := range ids {
		at[id] = i
	}
	for _, m := range newest {
		out.Items[at[m.ID]].LastMessageAt = m.CreatedAt.UTC()
	}
	return out, nil
}
