package store

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// errHeld is what lockAndRemove returns while another process holds the
// file's lock.
var errHeld = errors.New("held by another process")

// Remove deletes the store file at path so the exporter can rebuild it from
// the sources (--store.rebuild). It first takes the lock a running exporter
// (or a reader) holds on the file, the one bbolt takes, and refuses while
// anyone holds it, with the message a second start gets: deleting the file
// under a running exporter would leave it writing to a deleted file. The
// file is never read, so a damaged store is removed too. A missing file is
// no error.
func Remove(path string) error { return remove(path, lockWait) }

func remove(path string, wait time.Duration) error {
	err := lockAndRemove(path, wait)
	switch {
	case err == nil, errors.Is(err, os.ErrNotExist):
		return nil
	case errors.Is(err, errHeld):
		return lockedError(path)
	}
	return fmt.Errorf("store %s: %w", path, err)
}
