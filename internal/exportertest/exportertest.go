// Package exportertest runs the real servicedesk_exporter binary for
// black-box tests: it builds it once per test process, finds free loopback
// ports, and runs it to completion with a bounded wait or (Start) in the
// background for the rest of the test.
package exportertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const binaryPackage = "github.com/servicedesk-exporter/servicedesk_exporter/cmd/servicedesk_exporter"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds the exporter once per test process and returns its path.
// Call RemoveBinary from TestMain to delete it afterwards.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "servicedesk-exporter-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "servicedesk_exporter")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", "build", "-o", binPath, binaryPackage).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build %s: %w\n%s", binaryPackage, err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// RemoveBinary deletes the binary Binary built, if any.
func RemoveBinary() {
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
}

// FreeAddr returns a free 127.0.0.1 address for a child process to bind.
// The port is closed again before the child binds it, so it is drawn from
// below the kernel's ephemeral range: a port the kernel hands out for ":0"
// or for an outgoing connection — thousands a second while a load test or
// Prometheus scrapes — could be taken in between; one drawn at random
// below that range only by another test doing the same, which is rare.
func FreeAddr(t testing.TB) string {
	t.Helper()
	low := ephemeralLow()
	for range 100 {
		port := 10000 + rand.IntN(low-10000)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue // in use
		}
		addr := l.Addr().String()
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		return addr
	}
	t.Fatal("no free port below the ephemeral range after 100 tries")
	return ""
}

// ephemeralLow is the first port of the kernel's ephemeral range, or the
// IANA one's (49152) where the range cannot be read.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if low, err := strconv.Atoi(f[0]); err == nil && low > 11000 {
				return low
			}
		}
	}
	return 49152
}

// Run runs the binary in dir to completion, at most timeout, and returns
// its exit code and combined output.
func Run(t testing.TB, dir string, timeout time.Duration, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary(t), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%v did not finish within %v:\n%s", args, timeout, out)
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// SyncBuffer is a bytes.Buffer safe to write from a child process's output
// copier while a test reads it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
