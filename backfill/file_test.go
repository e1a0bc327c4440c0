package backfill

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

type recordingWriter struct{ writes [][]byte }

func (r *recordingWriter) Write(p []byte) (int, error) {
	r.writes = append(r.writes, bytes.Clone(p))
	if len(p) > 0 && !aligned(p) {
		r.writes[len(r.writes)-1] = nil // marks an unaligned buffer
	}
	return len(p), nil
}

// randomChunks is n bytes of text cut into pieces of 1 to 400 bytes, like
// the lines of a step.
func randomChunks(n int, seed uint64) (all []byte, chunks [][]byte) {
	r := rand.New(rand.NewPCG(seed, 1))
	all = make([]byte, n)
	for i := range all {
		all[i] = byte('a' + r.IntN(26))
	}
	for rest := all; len(rest) > 0; {
		k := min(len(rest), 1+r.IntN(400))
		chunks, rest = append(chunks, rest[:k]), rest[k:]
	}
	return all, chunks
}

func TestAsyncWriterHandsOutWholeAlignedBuffers(t *testing.T) {
	const size = 2 * directAlign
	for _, n := range []int{0, 1, size - 1, size, size + 1, 5*size + 123} {
		all, chunks := randomChunks(n, uint64(n))
		var rec recordingWriter
		w := newAsyncWriter(&rec, size, 3)
		for _, c := range chunks {
			_, _ = w.Write(c)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		var got []byte
		for i, b := range rec.writes {
			if b == nil {
				t.Fatalf("n=%d: buffer %d is not aligned to %d bytes", n, i, directAlign)
			}
			if i < len(rec.writes)-1 && len(b) != size {
				t.Errorf("n=%d: buffer %d has %d bytes, want %d: only the last may be partial", n, i, len(b), size)
			}
			got = append(got, b...)
		}
		if !bytes.Equal(got, all) {
			t.Errorf("n=%d: wrote %d bytes that differ from the %d given", n, len(got), len(all))
		}
	}
}

func TestFileWritesEveryByteWithOrWithoutDirectIO(t *testing.T) {
	const size = 4 * directAlign
	for _, n := range []int{0, 1, directAlign, size, size + 1, 7*size - 5, 9 * size} {
		path := filepath.Join(t.TempDir(), "history.om")
		f, err := Create(path)
		if err != nil {
			t.Fatal(err)
		}
		direct := f.Direct()
		all, chunks := randomChunks(n, uint64(n)+7)
		w := newAsyncWriter(f, size, 2)
		for _, c := range chunks {
			_, _ = w.Write(c)
		}
		if err := w.Close(); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, all) {
			t.Fatalf("n=%d (direct I/O %v): file has %d bytes that differ from the %d written", n, direct, len(got), len(all))
		}
		if direct && n%directAlign == 0 && !f.Direct() {
			t.Errorf("n=%d: whole aligned blocks switched the file to buffered writes", n)
		}
		if direct && n%directAlign != 0 && f.Direct() {
			t.Errorf("n=%d: the partial last block was written with direct I/O", n)
		}
		if n == 0 {
			t.Logf("direct I/O on %s: %v", filepath.Dir(path), direct)
		}
	}
}

func TestFileWritesUnalignedMemoryBuffered(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.om")
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := randomChunks(3*directAlign+1, 3)
	buf := alignedBuffer(len(want) + 1)[:len(want)+1]
	copy(buf[1:], want)
	for _, p := range [][]byte{buf[1 : 1+directAlign], buf[1+directAlign:]} {
		if _, err := f.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	if f.Direct() {
		t.Error("a write from unaligned memory left direct I/O on")
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, want) {
		t.Fatalf("file has %d bytes that differ from the %d written", len(got), len(want))
	}
}
