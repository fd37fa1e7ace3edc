package entstore

// Erasure of a person (SPEC §18): messages by their JIDs, and the payloads
// (webhook deliveries, events, kept idempotent responses) that hold their
// numbers. Each batch is its own short transaction, so that an erasure of
// a busy number never holds a long lock.

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"entgo.io/ent/dialect"

	"github.com/wagate/wagate/ent/message"
	"github.com/wagate/wagate/ent/messagemedia"
	"github.com/wagate/wagate/ent/predicate"
	"github.com/wagate/wagate/ports"
)

// eraseBatch bounds the rows one erasure transaction deletes.
const eraseBatch = 500

// Eraser returns the store that erases people.
func (s *Store) Eraser() ports.PersonEraser { return &eraser{s.pool} }

type eraser struct{ s *conn }

var _ ports.PersonEraser = (*eraser)(nil)

func (e *eraser) ErasePerson(ctx context.Context, sub ports.SubscriptionID, p ports.Person) (ports.ErasureCounts, error) {
	var n ports.ErasureCounts
	if len(p.JIDs) > 0 {
		if err := e.eraseMessages(ctx, sub, p.JIDs, &n); err != nil {
			return n, err
		}
	}
	if len(p.Numbers) == 0 {
		return n, nil
	}
	match, err := numbersPattern(p.Numbers)
	if err != nil {
		return n, err
	}
	for _, t := range payloadTables {
		got, err := e.erasePayloads(ctx, sub, t, p.Numbers, match)
		if err != nil {
			return n, err
		}
		switch t.name {
		case "webhook_deliveries":
			n.Deliveries += got
		case "events":
			n.Events += got
		case "idempotency_keys":
			n.IdempotencyKeys += got
		}
	}
	return n, nil
}

// messageOf matches the messages to or from any of jids, in a chat with
// them or written by them in a group.
func messageOf(sub ports.SubscriptionID, jids []string) predicate.Message {
	return message.And(
		message.SubscriptionID(string(sub)),
		message.Or(
			message.ChatIn(jids...), message.ToIn(jids...), message.FromIn(jids...),
			message.ChatLidIn(jids...), message.FromLidIn(jids...),
		),
	)
}

func (e *eraser) eraseMessages(ctx context.Context, sub ports.SubscriptionID, jids []string, n *ports.ErasureCounts) error {
	for {
		done := false
		err := e.s.inTx(ctx, func(tx *conn) error {
			rows, err := tx.client.Message.Query().
				Where(messageOf(sub, jids)).
				Limit(eraseBatch).
				Select(message.FieldID, message.FieldBulkID).
				All(ctx)
			if err != nil {
				return dbError("find messages to erase", "message", err)
			}
			if len(rows) == 0 {
				done = true
				return nil
			}
			ids := make([]string, len(rows))
			for i, m := range rows {
				ids[i] = m.ID
				if m.BulkID != nil {
					n.BulkRecipients++
				}
			}
			media, err := tx.client.MessageMedia.Delete().
				Where(messagemedia.SubscriptionID(string(sub)), messagemedia.IDIn(ids...)).Exec(ctx)
			if err != nil {
				return dbError("erase media", "media", err)
			}
			msgs, err := tx.client.Message.Delete().
				Where(message.SubscriptionID(string(sub)), message.IDIn(ids...)).Exec(ctx)
			if err != nil {
				return dbError("erase messages", "message", err)
			}
			n.Media += media
			n.Messages += msgs
			done = len(rows) < eraseBatch
			return nil
		})
		if err != nil || done {
			return err
		}
	}
}

// payloadTable is a table whose byte columns may hold a person's number.
type payloadTable struct {
	name    string
	columns []string // byte or text columns searched
	text    []bool   // which of columns are text, not bytes
}

var payloadTables = []payloadTable{
	{"webhook_deliveries", []string{"payload", "last_response"}, []bool{false, true}},
	{"events", []string{"data"}, []bool{false}},
	{"idempotency_keys", []string{"body"}, []bool{false}},
}

// numbersPattern matches any of numbers as a whole number: not part of a
// longer run of digits.
func numbersPattern(numbers []string) (*regexp.Regexp, error) {
	q := make([]string, len(numbers))
	for i, s := range numbers {
		q[i] = regexp.QuoteMeta(s)
	}
	re, err := regexp.Compile(`(^|[^0-9])(` + strings.Join(q, "|") + `)([^0-9]|$)`)
	if err != nil {
		return nil, fmt.Errorf("erase: %w", err)
	}
	return re, nil
}

// erasePayloads walks t's rows of sub whose columns contain one of
// numbers (the database narrows by substring, match decides), deleting
// those that hold one as a whole number, a batch per transaction.
func (e *eraser) erasePayloads(ctx context.Context, sub ports.SubscriptionID, t payloadTable, numbers []string, match *regexp.Regexp) (int, error) {
	contains := []string{}
	args := []any{string(sub), ""}
	for i, col := range t.columns {
		for _, num := range numbers {
			switch {
			case e.s.dialect != dialect.Postgres:
				contains = append(contains, "instr(CAST("+col+" AS text), ?) > 0")
			case t.text[i]:
				contains = append(contains, "strpos("+col+", ?) > 0")
			default:
				contains = append(contains, "position(convert_to(?, 'UTF8') IN "+col+") > 0")
			}
			args = append(args, num)
		}
	}
	cols := strings.Join(t.columns, ", ")
	find := rebind(e.s.dialect, "SELECT id, "+cols+" FROM "+t.name+
		" WHERE subscription_id = ? AND id > ? AND ("+strings.Join(contains, " OR ")+") ORDER BY id LIMIT "+fmt.Sprint(eraseBatch))
	total := 0
	for {
		var ids []string
		last, scanned := "", 0
		rows, err := e.s.client.QueryContext(ctx, find, args...)
		if err != nil {
			return total, dbError("find "+t.name+" to erase", t.name, err)
		}
		for rows.Next() {
			var id string
			vals := make([]any, len(t.columns))
			raw := make([][]byte, len(t.columns))
			for i := range vals {
				vals[i] = &raw[i]
			}
			if err := rows.Scan(append([]any{&id}, vals...)...); err != nil {
				rows.Close()
				return total, dbError("find "+t.name+" to erase", t.name, err)
			}
			scanned++
			last = id
			for _, v := range raw {
				if match.Match(v) {
					ids = append(ids, id)
					break
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return total, dbError("find "+t.name+" to erase", t.name, err)
		}
		if len(ids) > 0 {
			in := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
			del := rebind(e.s.dialect, "DELETE FROM "+t.name+" WHERE subscription_id = ? AND id IN ("+in+")")
			dargs := []any{string(sub)}
			for _, id := range ids {
				dargs = append(dargs, id)
			}
			res, err := e.s.client.ExecContext(ctx, del, dargs...)
			if err != nil {
				return total, dbError("erase "+t.name, t.name, err)
			}
			n, _ := res.RowsAffected()
			total += int(n)
		}
		if scanned < eraseBatch {
			return total, nil
		}
		args[1] = last
	}
}
