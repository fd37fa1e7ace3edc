package entstore

import (
	"context"
	"database/sql"
)

// scanner is the Scan of *sql.Row and *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// queryRow runs a hand-written query on s (the pool or a transaction)
// and hands its first row to scan; sql.ErrNoRows if there is none.
func (s *conn) queryRow(ctx context.Context, query string, args []any, scan func(scanner) error) error {
	rows, err := s.client.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := scan(rows); err != nil {
		return err
	}
	return rows.Close()
}
