package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// TestRemoveTakesTheLockFirst: --store.rebuild must never delete a file
// another process holds; that one would go on writing to a deleted file.
func TestRemoveTakesTheLockFirst(t *testing.T) {
	const wait = 100 * time.Millisecond
	t.Run("a running store is refused and left intact", func(t *testing.T) {
		s, path := newStore(t)
		commit(t, s, Commit{Tickets: []ticket.Derived{derived("1", "IT")}})
		err := remove(path, wait)
		if err == nil || err.Error() != "store "+path+" is locked by another process; stop it or use another store.path" {
			t.Fatalf("remove beside the writer: %v", err)
		}
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("the file is gone: %v", err)
		}
		// The holder still commits to the file on disk, and it reopens.
		commit(t, s, Commit{Tickets: []ticket.Derived{derived("2", "IT")}})
		_ = s.Close()
		r, err := Open(path, Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if n := len(ledger(t, r)); n != 2 {
			t.Fatalf("reopened store holds %d tickets, want 2", n)
		}
	})
	t.Run("a reader is refused too", func(t *testing.T) {
		s, path := newStore(t)
		_ = s.Close()
		r, err := Open(path, Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if err := remove(path, wait); err == nil || !strings.Contains(err.Error(), "locked by another process") {
			t.Fatalf("remove beside a reader: %v", err)
		}
	})
	t.Run("no holder: removed", func(t *testing.T) {
		s, path := newStore(t)
		_ = s.Close()
		if err := Remove(path); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the file is still there: %v", err)
		}
	})
	t.Run("a damaged file is removed unread", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "sd.db")
		if err := os.WriteFile(path, []byte("not a bolt file"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := Remove(path); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the file is still there: %v", err)
		}
	})
	t.Run("a missing file is fine", func(t *testing.T) {
		if err := Remove(filepath.Join(t.TempDir(), "missing.db")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a holder that lets go within the wait", func(t *testing.T) {
		s, path := newStore(t)
		go func() {
			time.Sleep(150 * time.Millisecond)
			_ = s.Close()
		}()
		if err := remove(path, 5*time.Second); err != nil {
			t.Fatalf("remove after the holder closed: %v", err)
		}
	})
}
