package exportertest

import (
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	RemoveBinary()
	os.Exit(code)
}

// fatalRecorder is a test whose Fatalf only records, so a failure WaitReady
// reports can be checked without failing this test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// A binary that cannot start is reported as such at once, with the reason
// from its stderr, not after the whole wait as "not ready".
func TestWaitReadyReportsAnEarlyExitWithStderr(t *testing.T) {
	p := Start(t, t.TempDir()) // no config.yaml: the binary exits 1 at once
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.WaitReady(rec, http.DefaultClient, "http://"+p.Addr, time.Minute)
	}()
	<-done
	if !strings.Contains(rec.msg, "exited before ready") || !strings.Contains(rec.msg, "cannot read the config file") {
		t.Errorf("WaitReady reported %q, want an early exit with the stderr's reason", rec.msg)
	}
	if p.Running() {
		t.Error("Running after the process exited")
	}
	if code := p.ExitCode(t, time.Second); code != 1 {
		t.Errorf("ExitCode %d, want 1", code)
	}
}
