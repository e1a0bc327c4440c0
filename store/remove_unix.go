//go:build unix

package store

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// lockAndRemove takes the exclusive flock bbolt's writer takes (a reader
// takes a shared one, which blocks it too), waiting up to wait, and removes
// the file while holding it.
func lockAndRemove(path string, wait time.Duration) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	deadline := time.Now().Add(wait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return err
		}
		if time.Now().After(deadline) {
			return errHeld
		}
		time.Sleep(50 * time.Millisecond)
	}
	return os.Remove(path)
}
