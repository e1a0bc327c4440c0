//go:build !unix

package store

import (
	"errors"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// lockAndRemove takes the writer's lock through bbolt itself, which locks
// the file the way it does on this platform, and removes the file once it
// is released (an open file cannot be removed here). A file bbolt cannot
// read is not held by a running exporter and is removed as it is.
func lockAndRemove(path string, wait time.Duration) error {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	var db *bolt.DB
	err := survivingDamage(path, func() (err error) {
		db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: wait})
		return err
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return errHeld
	}
	if err == nil {
		if err := db.Close(); err != nil {
			return err
		}
	}
	return os.Remove(path)
}
