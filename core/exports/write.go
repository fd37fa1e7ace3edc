package exports

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/wagate/wagate/ports"
)

// pageSize is how many rows one read of the store takes: what an export
// holds in memory, whatever the size of the subscription.
const pageSize = 500

// FormatVersion names the layout of the ZIP, in its manifest.
const FormatVersion = "wagate-export/1"

// The ZIP's layout: one JSON Lines file per section (<section>.jsonl, one
// object per line), the media files under media/<messageId>, and
// manifest.json last, with the counts.
const (
	mediaDir     = "media/"
	manifestName = "manifest.json"
)

// write writes the export's ZIP and commits it; it returns the rows per
// section and the file's size. Nothing is kept between runs: a run
// starts the file afresh.
func (s *Service) write(ctx context.Context, sub ports.SubscriptionID, id ports.ExportID) (map[ports.ExportSection]int, int64, error) {
	f, err := s.d.Files.Create(id)
	if err != nil {
		return nil, 0, err
	}
	committed := false
	defer func() {
		if !committed {
			f.Abort()
		}
	}()
	buf := bufio.NewWriterSize(f, 64<<10)
	zw := zip.NewWriter(buf)
	counts := map[ports.ExportSection]int{}
	var line bytes.Buffer
	for _, sec := range ports.ExportSections() {
		w, err := zw.Create(string(sec) + ".jsonl")
		if err != nil {
			return nil, 0, err
		}
		err = s.eachRow(ctx, sub, sec, func(r ports.ExportRow) error {
			line.Reset()
			if sec == ports.ExportMedia {
				r.Fields = append(r.Fields, ports.ExportField{Name: "file", Value: mediaDir + r.Key})
			}
			if err := appendObject(&line, r.Fields); err != nil {
				return fmt.Errorf("encode %s %s: %w", sec, r.Key, err)
			}
			line.WriteByte('\n')
			counts[sec]++
			_, err := w.Write(line.Bytes())
			return err
		})
		if err != nil {
			return nil, 0, fmt.Errorf("export %s: %w", sec, err)
		}
	}
	// A second walk of the media: a ZIP entry is written whole before the
	// next starts, so the files cannot interleave with media.jsonl. They
	// are stored, not deflated: images, audio and video are compressed
	// already.
	files := 0
	err = s.eachRow(ctx, sub, ports.ExportMedia, func(r ports.ExportRow) error {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: mediaDir + r.Key, Method: zip.Store, Modified: s.d.Clock.Now()})
		if err != nil {
			return err
		}
		if _, err := s.d.Source.CopyMedia(ctx, sub, ports.MessageID(r.Key), w); err != nil && !ports.IsCode(err, ports.ENotFound) {
			// ENotFound: the file was purged since the first walk; its
			// entry stays, empty, next to the line that named it.
			return err
		}
		files++
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("export media files: %w", err)
	}
	if err := s.writeManifest(zw, sub, id, counts, files); err != nil {
		return nil, 0, err
	}
	if err := zw.Close(); err != nil {
		return nil, 0, fmt.Errorf("finish the zip: %w", err)
	}
	if err := buf.Flush(); err != nil {
		return nil, 0, fmt.Errorf("write the zip: %w", err)
	}
	size, err := f.Commit()
	if err != nil {
		return nil, 0, err
	}
	committed = true
	return counts, size, nil
}

// eachRow calls fn with every row of a section, a keyset page at a time.
func (s *Service) eachRow(ctx context.Context, sub ports.SubscriptionID, sec ports.ExportSection, fn func(ports.ExportRow) error) error {
	after := ""
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rows, err := s.d.Source.ExportPage(ctx, sub, sec, after, pageSize)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(rows) < pageSize {
			return nil
		}
		after = rows[len(rows)-1].Key
	}
}

func (s *Service) writeManifest(zw *zip.Writer, sub ports.SubscriptionID, id ports.ExportID, counts map[ports.ExportSection]int, files int) error {
	type section struct {
		File string `json:"file"`
		Rows int    `json:"rows"`
	}
	m := struct {
		Format         string    `json:"format"`
		ExportID       string    `json:"exportId"`
		SubscriptionID string    `json:"subscriptionId"`
		CreatedAt      time.Time `json:"createdAt"`
		Sections       []section `json:"sections"`
		MediaFiles     int       `json:"mediaFiles"`
	}{Format: FormatVersion, ExportID: string(id), SubscriptionID: string(sub), CreatedAt: s.d.Clock.Now().UTC(), MediaFiles: files}
	for _, sec := range ports.ExportSections() {
		m.Sections = append(m.Sections, section{File: string(sec) + ".jsonl", Rows: counts[sec]})
	}
	w, err := zw.Create(manifestName)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(m)
}

// appendObject writes fields as one JSON object, in their order.
func appendObject(b *bytes.Buffer, fields []ports.ExportField) error {
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(f.Name)) // names are plain ASCII identifiers
		b.WriteByte(':')
		if err := appendValue(b, f.Value); err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
	}
	b.WriteByte('}')
	return nil
}

func appendValue(b *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case time.Time:
		b.WriteByte('"')
		b.WriteString(v.UTC().Format(time.RFC3339Nano))
		b.WriteByte('"')
	case json.RawMessage:
		// Compacted: a JSON column may hold newlines, which would split
		// the line.
		return json.Compact(b, v)
	default: // strings and floats
		enc, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b.Write(enc)
	}
	return nil
}
