package backfill

import "io"

// asyncWriter buffers like bufio.Writer but hands full buffers to a
// goroutine that writes them, so that producing the next steps overlaps
// writing the last ones: a disk takes about as long to absorb a long
// history as the replay takes to produce it. At most buffers buffers of
// size bytes exist.
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
		a.free <- make([]byte, 0, size)
	}
	a.buf = make([]byte, 0, size)
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
	a.buf = append(a.buf, p...)
	if len(a.buf) >= a.size {
		a.full <- a.buf
		a.buf = <-a.free
	}
	return len(p), nil
}

func (a *asyncWriter) WriteString(s string) (int, error) {
	a.buf = append(a.buf, s...)
	return len(s), nil
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
