package backfill

import (
	"io"
	"unsafe"
)

// asyncWriter buffers like bufio.Writer but hands full buffers to a
// goroutine that writes them, so that producing the next steps overlaps
// writing the last ones: a disk takes about as long to absorb a long
// history as the replay takes to produce it. At most buffers buffers of
// size bytes exist. Every buffer but the last is exactly size bytes and
// starts at a multiple of directAlign, so that a File can write it with
// direct I/O.
type asyncWriter struct {
	buf  []byte
	size int
	full chan []byte
	free chan []byte
	done chan struct{}
	err  error // set by the goroutine before done is closed, read after
}

func newAsyncWriter(w io.Writer, size, buffers int) *asyncWriter {
	a := &asyncWriter{size: size, full: make(chan []byte, buffers), free: make(chan []byte, buffers), done: make(chan struct{})}
	for range buffers - 1 {
		a.free <- alignedBuffer(size)
	}
	a.buf = alignedBuffer(size)
	go func() {
		defer close(a.done)
		for b := range a.full {
			if a.err == nil {
				_, a.err = w.Write(b)
			}
			a.free <- b[:0]
		}
	}()
	return a
}

// alignedBuffer returns an empty slice of capacity size whose first byte
// sits at a multiple of directAlign, as O_DIRECT requires of the memory it
// writes from.
func alignedBuffer(size int) []byte {
	b := make([]byte, size+directAlign)
	off := (directAlign - int(uintptr(unsafe.Pointer(&b[0]))%directAlign)) % directAlign
	return b[off : off : off+size]
}

// failed reports a write error of the goroutine without waiting for it.
func (a *asyncWriter) failed() error {
	select {
	case <-a.done:
		return a.err
	default:
		return nil
	}
}

func (a *asyncWriter) Write(p []byte) (int, error) {
	n := len(p)
	for {
		k := copy(a.buf[len(a.buf):a.size], p)
		a.buf = a.buf[:len(a.buf)+k]
		if len(a.buf) < a.size {
			return n, nil
		}
		a.full <- a.buf
		a.buf = <-a.free
		p = p[k:]
	}
}

// Close writes what is buffered and waits for every write; it returns the
// first write error.
func (a *asyncWriter) Close() error {
	if len(a.buf) > 0 {
		a.full <- a.buf
	}
	close(a.full)
	<-a.done
	return a.err
}
