//go:build unix

package main

import (
	"errors"
	"os"
	"syscall"
)

// storeLocked reports whether another process holds the store's lock (a
// running exporter): bbolt takes an exclusive flock for writing, and its
// read-only open waits for a shared one.
func storeLocked(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if err == nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return false
	}
	return errors.Is(err, syscall.EWOULDBLOCK)
}
