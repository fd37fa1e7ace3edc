package entstore

import (
	"context"
	"sync"
	"time"

	"github.com/wagate/wagate/ports"
)

// On SQLite a message accepted on its own is one INSERT in a transaction
// of its own, and each such commit writes the pages of the table and of
// its every index to the WAL under the one writer: in the drain bench,
// accepts held the writer 0.5 ms a message, more than the draining
// runs' claims and outcomes together. Inserts that come while one is
// written wait and then go in together, in one transaction: the commit's
// work is shared, and a lone insert waits for nothing more than before.

// inserter folds the lone message INSERTs that arrive while one batch is
// written into the next batch. The caller whose row opens a batch writes
// it, once the batch before is written; the others wait for it.
type inserter struct {
	pool *conn

	mu   sync.Mutex
	open *insertBatch // the batch new rows join, not yet written
	busy bool         // a batch is being written
}

// insertBatch is rows to insert in one transaction and, once done is
// closed, the error of each.
type insertBatch struct {
	rows []insertRow
	errs []error
	turn chan struct{} // closed when the batch before it is written
	done chan struct{}
}

type insertRow struct {
	sub ports.SubscriptionID
	m   ports.Message
}

// batchTimeout bounds the transaction of one batch: its rows are other
// callers' too, so it does not end with the writing caller's request.
const batchTimeout = 10 * time.Second

// insert stores m with the batch it joins and returns its error.
func (in *inserter) insert(ctx context.Context, sub ports.SubscriptionID, m ports.Message) error {
	b, i, writes, now := in.join(insertRow{sub: sub, m: m})
	if writes {
		if !now {
			<-b.turn
		}
		in.write(ctx, b)
	}
	<-b.done
	return b.errs[i]
}

// join adds row to the open batch, opening one if none is: it returns the
// batch, the row's place in it, whether this caller writes it, and
// whether it may right away (else once the batch before is written).
func (in *inserter) join(row insertRow) (b *insertBatch, i int, writes, now bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.open == nil {
		in.open = &insertBatch{turn: make(chan struct{}), done: make(chan struct{})}
		writes = true
		if !in.busy {
			in.busy, now = true, true
		}
	}
	b = in.open
	b.rows = append(b.rows, row)
	return b, len(b.rows) - 1, writes, now
}

// write closes b to new rows, inserts them and hands the turn on to the
// batch opened meanwhile, if any. Should the insert panic, the other
// callers of b get an error and the next batch its turn all the same.
func (in *inserter) write(ctx context.Context, b *insertBatch) {
	in.mu.Lock()
	if in.open == b {
		in.open = nil
	}
	in.mu.Unlock()
	defer in.handOn(b)
	b.errs = make([]error, len(b.rows))
	for i := range b.errs {
		b.errs[i] = ports.Errorf(ports.EInternal, "create message: the batch insert stopped")
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), batchTimeout)
	defer cancel()
	b.errs = in.insertAll(ctx, b.rows)
}

// handOn marks b done and gives the turn to the batch opened meanwhile,
// or marks the inserter idle.
func (in *inserter) handOn(b *insertBatch) {
	close(b.done)
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.open != nil {
		close(in.open.turn)
		return
	}
	in.busy = false
}

// insertAll inserts rows in one transaction. Should that fail, each row
// is inserted on its own, so that each caller gets its own row's error
// (a duplicate id fails that row, not its batch).
func (in *inserter) insertAll(ctx context.Context, rows []insertRow) []error {
	errs := make([]error, len(rows))
	if len(rows) == 1 {
		errs[0] = insertOne(ctx, in.pool, rows[0])
		return errs
	}
	err := in.pool.inTx(ctx, func(tx *conn) error {
		for _, r := range rows {
			if err := insertOne(ctx, tx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		return errs
	}
	for i, r := range rows {
		errs[i] = insertOne(ctx, in.pool, r)
	}
	return errs
}

func insertOne(ctx context.Context, c *conn, r insertRow) error {
	err := messageCreate(c.client, r.sub, r.m).Exec(ctx)
	return dbError("create message", "message", err)
}
