package entstore

// What a data export (SPEC §18) reads: each section is one table read
// through an explicit list of columns, a keyset page at a time. Listing
// the columns (rather than dropping the secret ones) is what keeps
// secrets out: a column added later, a hash or a key, is not exported
// until someone adds it here on purpose.

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wagate/wagate/ports"
)

// ExportSource returns the reader of a subscription's data for exports.
func (s *Store) ExportSource() ports.ExportSource { return &exportSource{s.pool} }

type exportSource struct{ s *conn }

var _ ports.ExportSource = (*exportSource)(nil)

// colKind says how a column is read and written out.
type colKind int

const (
	kString    colKind = iota
	kInt               // integers
	kFloat             // nullable floats
	kBool              // booleans
	kTime              // nullable timestamps
	kDate              // a day, written YYYY-MM-DD
	kJSON              // a JSON column, kept as the document
	kPayload           // bytes holding JSON (a webhook payload); else a string
	kHex               // bytes written in hex (a checksum)
	kRedactURL         // a URL that may carry a password: the user info goes
)

type column struct {
	name string // in the table
	as   string // in the export; "" is name in camelCase
	kind colKind
}

type exportTable struct {
	table  string
	intKey bool // the key is an integer (daily_stats) rather than an id string
	// by are the columns before id in the table's (subscription_id, …,
	// id) index, which the pages follow: a page is then a range of that
	// index, and a deep page costs what the first one does.
	by   []string
	cols []column
}

func c(name string, kind colKind) column { return column{name: name, kind: kind} }

// exportTables are the sections. Left out on purpose: users.password_hash
// and token_version, api_keys.hash, webhook_endpoints.secret and
// previous_secret, message_media.data (the files go into the ZIP on
// their own), and whole tables of credentials (refresh tokens,
// invitations' hashes, whatsmeow's device store).
var exportTables = map[ports.ExportSection]exportTable{
	ports.ExportMembers: {table: "users", cols: []column{
		c("id", kString), c("email", kString), c("name", kString),
		{name: "member_role", as: "role", kind: kString}, c("created_at", kTime), c("updated_at", kTime),
	}},
	ports.ExportInstances: {table: "instances", cols: []column{
		c("id", kString), c("name", kString), c("status", kString), c("status_reason", kString),
		c("phone_number", kString), c("jid", kString), c("push_name", kString), c("metadata", kJSON),
		c("proxy_url", kRedactURL), c("settings", kJSON),
		c("created_at", kTime), c("updated_at", kTime), c("last_connected_at", kTime),
	}},
	ports.ExportAPIKeys: {table: "api_keys", cols: []column{
		c("id", kString), c("instance_id", kString), c("name", kString), c("prefix", kString),
		c("scopes", kJSON), c("created_at", kTime), c("expires_at", kTime), c("last_used_at", kTime),
	}},
	ports.ExportMessages: {table: "messages", by: []string{"instance_id"}, cols: []column{
		c("id", kString), c("instance_id", kString), c("direction", kString), c("chat", kString),
		c("to", kString), c("from", kString), c("chat_lid", kString), c("from_lid", kString),
		c("type", kString), c("text", kString), c("caption", kString),
		c("latitude", kFloat), c("longitude", kFloat), c("location_name", kString), c("location_address", kString),
		c("raw_type", kString), c("contacts", kString), c("poll", kString),
		c("status", kString), c("error_code", kString), c("error_message", kString),
		c("wa_message_id", kString), c("reply_to", kString), c("attempts", kInt),
		c("created_at", kTime), c("updated_at", kTime), c("sent_at", kTime), c("delivered_at", kTime), c("read_at", kTime),
		c("bulk_id", kString), c("bulk_seq", kInt), c("reactions", kJSON),
		c("edited_at", kTime), c("deleted_at", kTime), c("deleted_by", kString), c("mentions", kJSON),
		c("is_forwarded", kBool), c("link_preview", kBool),
	}},
	ports.ExportMedia: {table: "message_media", cols: []column{
		{name: "id", as: "messageId", kind: kString}, c("mime_type", kString), c("file_name", kString),
		c("ptt", kBool), c("gif", kBool), c("size", kInt), c("sha256", kHex), c("created_at", kTime),
	}},
	ports.ExportTemplates: {table: "templates", cols: []column{
		c("id", kString), c("name", kString), c("body", kString), c("variables", kJSON),
		c("created_at", kTime), c("updated_at", kTime),
	}},
	ports.ExportBulks: {table: "bulks", cols: []column{
		c("id", kString), c("instance_id", kString), c("status", kString), c("template_id", kString),
		c("text", kString), c("total", kInt), c("pacing_min_ms", kInt), c("pacing_max_ms", kInt),
		c("scheduled_at", kTime), c("created_at", kTime), c("updated_at", kTime),
		c("started_at", kTime), c("completed_at", kTime),
	}},
	ports.ExportWebhooks: {table: "webhook_endpoints", by: []string{"instance_id"}, cols: []column{
		c("id", kString), c("instance_id", kString), c("url", kRedactURL), c("events", kJSON),
		c("description", kString), c("enabled", kBool), c("rotated_at", kTime),
		c("created_at", kTime), c("updated_at", kTime), c("last_success_at", kTime),
		c("first_failure_at", kTime), c("disabled_reason", kString),
	}},
	ports.ExportDeliveries: {table: "webhook_deliveries", by: []string{"endpoint_id"}, cols: []column{
		c("id", kString), c("instance_id", kString), {name: "endpoint_id", as: "webhookId", kind: kString},
		c("event_id", kString), c("event_type", kString), c("payload", kPayload), c("status", kString),
		c("attempts", kInt), c("last_status_code", kInt), c("last_error", kString), c("last_response", kString),
		c("latency_ms", kInt), c("next_attempt_at", kTime), c("created_at", kTime), c("updated_at", kTime),
	}},
	ports.ExportAudit: {table: "audit_logs", cols: []column{
		c("id", kString), c("at", kTime), c("action", kString), c("actor_user_id", kString),
		c("actor_api_key_id", kString), c("target_type", kString), c("target_id", kString),
		c("ip", kString), c("user_agent", kString), c("details", kJSON),
	}},
	ports.ExportStats: {table: "daily_stats", intKey: true, cols: []column{
		c("id", kInt), c("instance_id", kString), {name: "day", as: "date", kind: kDate},
		c("sent", kInt), c("failed", kInt), c("delivered", kInt), c("read", kInt),
		c("received", kInt), c("api_calls", kInt),
	}},
}

func (x *exportSource) ExportPage(ctx context.Context, sub ports.SubscriptionID, s ports.ExportSection, after string, limit int) ([]ports.ExportRow, error) {
	t, ok := exportTables[s]
	if !ok {
		return nil, ports.Errorf(ports.EInvalid, "unknown export section %q", s)
	}
	names := make([]string, len(t.cols))
	for i, col := range t.cols {
		names[i] = `"` + col.name + `"`
	}
	key, err := t.cursorArgs(after)
	if err != nil {
		return nil, err
	}
	keyCols := append(slices.Clone(t.by), "id")
	for _, k := range t.by {
		names = append(names, `"`+k+`"`) // read back for the cursor
	}
	q := fmt.Sprintf(`SELECT %s FROM %q WHERE subscription_id = ? AND (%s) > (%s) ORDER BY %s LIMIT %d`,
		strings.Join(names, ", "), t.table, strings.Join(keyCols, ", "),
		strings.TrimSuffix(strings.Repeat("?, ", len(keyCols)), ", "), strings.Join(keyCols, ", "), limit)
	rows, err := x.s.client.QueryContext(ctx, rebind(x.s.dialect, q), append([]any{string(sub)}, key...)...)
	if err != nil {
		return nil, dbError("export "+string(s), string(s), err)
	}
	defer rows.Close()
	var out []ports.ExportRow
	for rows.Next() {
		dest := make([]any, len(t.cols), len(t.cols)+len(t.by))
		for i, col := range t.cols {
			dest[i] = scanTarget(col.kind)
		}
		by := make([]string, len(t.by))
		for i := range by {
			dest = append(dest, &by[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, dbError("export "+string(s), string(s), err)
		}
		row := ports.ExportRow{Fields: make([]ports.ExportField, len(t.cols))}
		for i, col := range t.cols {
			name := col.as
			if name == "" {
				name = camel(col.name)
			}
			row.Fields[i] = ports.ExportField{Name: name, Value: exportValue(col.kind, dest[i])}
		}
		row.Key = strings.Join(append(by, keyString(dest[0])), "\n")
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("export "+string(s), string(s), err)
	}
	return out, nil
}

// cursorArgs are the values of the key columns (t.by, then id) that a
// page follows after. Every column's values are above "" (and ids above
// 0), so the first page needs no query of its own.
func (t exportTable) cursorArgs(after string) ([]any, error) {
	parts := make([]string, len(t.by)+1)
	if after != "" {
		parts = strings.Split(after, "\n")
		if len(parts) != len(t.by)+1 {
			return nil, ports.Errorf(ports.EInvalid, "bad export cursor")
		}
	}
	args := make([]any, len(parts))
	for i, p := range parts {
		args[i] = p
	}
	if t.intKey {
		n := int64(0)
		if last := parts[len(parts)-1]; last != "" {
			v, err := strconv.ParseInt(last, 10, 64)
			if err != nil {
				return nil, ports.Errorf(ports.EInvalid, "bad export cursor")
			}
			n = v
		}
		args[len(args)-1] = n
	}
	return args, nil
}

// scanTarget returns where a column of kind k is scanned to.
func scanTarget(k colKind) any {
	switch k {
	case kInt:
		return new(sql.NullInt64)
	case kFloat:
		return new(sql.NullFloat64)
	case kBool:
		return new(sql.NullBool)
	case kTime, kDate:
		return new(sql.NullTime)
	case kPayload, kHex:
		return new([]byte)
	default:
		return new(sql.NullString)
	}
}

// exportValue turns a scanned column into the value of ports.ExportField.
func exportValue(k colKind, v any) any {
	switch v := v.(type) {
	case *sql.NullInt64:
		if !v.Valid {
			return nil
		}
		return v.Int64
	case *sql.NullFloat64:
		if !v.Valid {
			return nil
		}
		return v.Float64
	case *sql.NullBool:
		if !v.Valid {
			return nil
		}
		return v.Bool
	case *sql.NullTime:
		if !v.Valid {
			return nil
		}
		if k == kDate {
			return v.Time.UTC().Format(time.DateOnly)
		}
		return v.Time.UTC()
	case *[]byte:
		switch {
		case *v == nil:
			return nil
		case k == kHex:
			return hex.EncodeToString(*v)
		case json.Valid(*v):
			return json.RawMessage(*v)
		}
		return string(*v)
	case *sql.NullString:
		if !v.Valid {
			return nil
		}
		switch k {
		case kJSON:
			if json.Valid([]byte(v.String)) {
				return json.RawMessage(v.String)
			}
		case kRedactURL:
			return withoutUserInfo(v.String)
		}
		return v.String
	}
	return nil
}

// keyString is the keyset cursor of a row from its first column, the key.
func keyString(v any) string {
	switch v := v.(type) {
	case *sql.NullInt64:
		return strconv.FormatInt(v.Int64, 10)
	case *sql.NullString:
		return v.String
	}
	return ""
}

// withoutUserInfo drops the user and password of a URL (a proxy's or a
// webhook's): they are credentials.
func withoutUserInfo(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "" // not a URL we can take apart: it could hold a secret
	}
	u.User = nil
	return u.String()
}

// camel turns a column name into the export's camelCase field name.
func camel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

// mediaChunk is how much of a file one read takes: a file of any size
// goes to the ZIP through this much memory.
const mediaChunkSize = 1 << 20

func (x *exportSource) CopyMedia(ctx context.Context, sub ports.SubscriptionID, id ports.MessageID, w io.Writer) (int64, error) {
	// substr on a BLOB counts bytes in SQLite; substring on bytea in
	// PostgreSQL. Both from 1.
	q := `SELECT substr(data, ?, ?) FROM message_media WHERE id = ? AND subscription_id = ?`
	if x.s.postgres() {
		q = `SELECT substring(data from ?::int for ?::int) FROM message_media WHERE id = ? AND subscription_id = ?`
	}
	q = rebind(x.s.dialect, q)
	var total int64
	for {
		chunk, found, err := x.mediaChunk(ctx, q, total+1, string(id), string(sub))
		if err != nil {
			return total, dbError("read media", "media", err)
		}
		if !found {
			return total, ports.Errorf(ports.ENotFound, "media not found")
		}
		n, err := w.Write(chunk)
		total += int64(n)
		if err != nil {
			return total, fmt.Errorf("write media %s: %w", id, err)
		}
		if len(chunk) < mediaChunkSize {
			return total, nil
		}
	}
}

// mediaChunk reads the chunk of a file from byte from (1-based); found
// is false when the file is missing.
func (x *exportSource) mediaChunk(ctx context.Context, q string, from int64, id, sub string) (chunk []byte, found bool, err error) {
	rows, err := x.s.client.QueryContext(ctx, q, from, mediaChunkSize, id, sub)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, false, rows.Err()
	}
	if err := rows.Scan(&chunk); err != nil {
		return nil, false, err
	}
	return chunk, true, rows.Err()
}
