package exportfs

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/wagate/wagate/ports"
)

// TestCommitIsAtomic: nothing is served until the commit; a run that
// crashed (never committed) leaves nothing served, and the next run's
// file is what Open returns; Remove takes the leftovers too.
func TestCommitIsAtomic(t *testing.T) {
	d, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const id = ports.ExportID("0193a7c2-5c1e-7a7b-9d2e-1f2a3b4c5d6e")
	crashed, err := d.Create(id)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(crashed, "half a fi") // and the process dies: no Commit, no Abort
	if _, err := d.Open(id); !ports.IsCode(err, ports.ENotFound) {
		t.Fatalf("got %v opening an uncommitted export, want not found", err)
	}
	w, err := d.Create(id)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "the whole file")
	if _, err := d.Open(id); !ports.IsCode(err, ports.ENotFound) {
		t.Fatalf("got %v opening an export being written, want not found", err)
	}
	n, err := w.Commit()
	if err != nil || n != int64(len("the whole file")) {
		t.Fatalf("got %d, %v from Commit, want %d", n, err, len("the whole file"))
	}
	w.Abort() // after a commit: nothing
	f, err := d.Open(id)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "the whole file" {
		t.Fatalf("got %q, want the committed file", b)
	}
	if err := d.Remove(id); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(d.path, "*")); len(left) > 0 {
		t.Fatalf("got %v left after Remove, want nothing (the crashed run's part file too)", left)
	}
	if err := d.Remove(id); err != nil {
		t.Fatalf("got %v removing twice, want nil", err)
	}
}

// TestAbortRemovesThePart: a run that fails discards its part file.
func TestAbortRemovesThePart(t *testing.T) {
	d, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w, err := d.Create("x")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "data")
	w.Abort()
	if left, _ := os.ReadDir(d.path); len(left) > 0 {
		t.Fatalf("got %d files after Abort, want none", len(left))
	}
}

// TestIDsCannotLeaveTheDirectory: an id is a file name, never a path.
func TestIDsCannotLeaveTheDirectory(t *testing.T) {
	d, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []ports.ExportID{"../x", "a/b", "", "x\x00", ".."} {
		if _, err := d.Create(id); !ports.IsCode(err, ports.ENotFound) {
			t.Errorf("Create(%q): got %v, want refused", id, err)
		}
		if _, err := d.Open(id); !ports.IsCode(err, ports.ENotFound) {
			t.Errorf("Open(%q): got %v, want not found", id, err)
		}
	}
}
