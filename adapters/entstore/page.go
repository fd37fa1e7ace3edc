package entstore

import (
	"encoding/base64"

	"github.com/wagate/wagate/ports"
)

// Cursors are the base64url of the last id of the previous page. Ids are
// time-ordered UUIDv7 strings, so ordering by id is ordering by creation.

// pageLimit clamps the requested limit to [1, MaxPageLimit]; 0 means the
// default.
func pageLimit(p ports.PageRequest) int {
	switch {
	case p.Limit <= 0:
		return ports.DefaultPageLimit
	case p.Limit > ports.MaxPageLimit:
		return ports.MaxPageLimit
	}
	return p.Limit
}

// decodeCursor returns the id after which the page starts, "" for the first
// page, and EInvalid for a cursor this store did not make.
func decodeCursor(after string) (string, error) {
	if after == "" {
		return "", nil
	}
	// Strict: one encoding of each cursor, and only what encodeCursor makes
	// (ids and sequence numbers are printable ASCII), so that no NUL or
	// other byte PostgreSQL refuses reaches a query.
	b, err := base64.RawURLEncoding.Strict().DecodeString(after)
	if err != nil || len(b) == 0 || len(b) > 64 || !printableASCII(b) {
		return "", ports.InvalidFields(ports.FieldError{Field: "cursor", Message: "not a cursor of this list"})
	}
	return string(b), nil
}

func printableASCII(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

func encodeCursor(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(id))
}

// makePage turns up to limit+1 fetched rows into a page: the extra row only
// tells that there is a next page.
func makePage[E, T any](rows []E, limit int, conv func(E) T, id func(E) string) ports.Page[T] {
	page := ports.Page[T]{Items: make([]T, 0, min(len(rows), limit))}
	if len(rows) > limit {
		rows = rows[:limit]
		page.Next = encodeCursor(id(rows[limit-1]))
	}
	for _, r := range rows {
		page.Items = append(page.Items, conv(r))
	}
	return page
}
