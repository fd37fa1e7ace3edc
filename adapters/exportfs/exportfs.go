// Package exportfs keeps the files of data exports (SPEC §18) in a
// directory: <id>.zip once complete, <id>.<random>.part while being
// written. The rename from the one to the other is the commit, so a crash
// mid-way never leaves a half file under the name that is served; a job
// that runs again starts a part file of its own (two runs of one job at
// once, after a lost queue lease, cannot write into each other's), and
// the last whole file committed wins.
//
// Several nodes must share the directory (a shared volume), since the
// node that writes an export need not be the one a download reaches.
package exportfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/wagate/wagate/ports"
)

// Dir is an export directory.
type Dir struct{ path string }

var _ ports.ExportFiles = (*Dir)(nil)

// New returns the export directory at path, creating it (private to the
// process's user: the files hold a tenant's messages).
func New(path string) (*Dir, error) {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("export directory: %w", err)
	}
	return &Dir{path: path}, nil
}

// name is the committed file's path. Ids come from the id generator, but
// a path is built from them: anything beyond [A-Za-z0-9_-] is refused.
func (d *Dir) name(id ports.ExportID) (string, error) {
	if id == "" || len(id) > 64 {
		return "", ports.Errorf(ports.ENotFound, "export file not found")
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return "", ports.Errorf(ports.ENotFound, "export file not found")
		}
	}
	return filepath.Join(d.path, string(id)+".zip"), nil
}

// Create starts the part file of id afresh.
func (d *Dir) Create(id ports.ExportID) (ports.ExportFileWriter, error) {
	name, err := d.name(id)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(d.path, string(id)+".*.part")
	if err != nil {
		return nil, fmt.Errorf("create export file: %w", err)
	}
	return &writer{f: f, name: name, dir: d.path}, nil
}

// Open opens the committed file of id.
func (d *Dir) Open(id ports.ExportID) (io.ReadSeekCloser, error) {
	name, err := d.name(id)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ports.Errorf(ports.ENotFound, "export file not found")
	}
	if err != nil {
		return nil, fmt.Errorf("open export file: %w", err)
	}
	return f, nil
}

// Remove deletes the file of id and the part files runs of its job left
// (a crash leaves one).
func (d *Dir) Remove(id ports.ExportID) error {
	name, err := d.name(id)
	if err != nil {
		return nil // no such file can exist
	}
	parts, err := filepath.Glob(filepath.Join(d.path, string(id)+".*.part"))
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range append(parts, name) {
		if err := os.Remove(n); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

type writer struct {
	f         *os.File
	name, dir string
	n         int64
	done      bool
}

func (w *writer) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.n += int64(n)
	return n, err
}

// Commit syncs the part file, renames it and syncs the directory, so
// that after a crash the name holds the whole file or nothing.
func (w *writer) Commit() (int64, error) {
	if w.done {
		return 0, errors.New("export file already committed or aborted")
	}
	w.done = true
	if err := w.f.Sync(); err != nil {
		w.f.Close()
		os.Remove(w.f.Name())
		return 0, fmt.Errorf("sync export file: %w", err)
	}
	if err := w.f.Close(); err != nil {
		os.Remove(w.f.Name())
		return 0, fmt.Errorf("close export file: %w", err)
	}
	if err := os.Rename(w.f.Name(), w.name); err != nil {
		os.Remove(w.f.Name())
		return 0, fmt.Errorf("commit export file: %w", err)
	}
	if dir, err := os.Open(w.dir); err == nil {
		dir.Sync() // best effort: not every file system syncs directories
		dir.Close()
	}
	return w.n, nil
}

func (w *writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.f.Close()
	os.Remove(w.f.Name())
}
