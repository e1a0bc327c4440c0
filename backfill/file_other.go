//go:build !linux

package backfill

import (
	"os"
)

// createFile creates path for buffered writes: direct I/O is only used on
// Linux.
func createFile(path string) (*os.File, bool, error) {
	f, err := os.Create(path)
	return f, false, err
}

func stopDirect(*os.File) error { return nil }

func refusedDirect(error) bool { return false }
