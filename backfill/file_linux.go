package backfill

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// createFile opens path with O_DIRECT, or without it where the file system
// refuses it (EINVAL: tmpfs before Linux 6.6, some FUSE and network file
// systems).
func createFile(path string) (*os.File, bool, error) {
	const flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	f, err := os.OpenFile(path, flags|unix.O_DIRECT, 0o666)
	if err == nil {
		return f, true, nil
	}
	if !errors.Is(err, unix.EINVAL) {
		return nil, false, err
	}
	f, err = os.OpenFile(path, flags, 0o666)
	return f, false, err
}

// stopDirect turns O_DIRECT off for the rest of f's writes.
func stopDirect(f *os.File) error {
	raw, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := raw.Control(func(fd uintptr) {
		var flags int
		if flags, ferr = unix.FcntlInt(fd, unix.F_GETFL, 0); ferr == nil {
			_, ferr = unix.FcntlInt(fd, unix.F_SETFL, flags&^unix.O_DIRECT)
		}
	}); err != nil {
		return err
	}
	return ferr
}

// refusedDirect reports whether a write failed because the file system does
// not take direct writes after all (EINVAL), rather than for want of space
// or a broken disk.
func refusedDirect(err error) bool { return errors.Is(err, unix.EINVAL) }
