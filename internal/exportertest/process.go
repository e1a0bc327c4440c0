package exportertest

import (
	"errors"
	"net/http"
	"os/exec"
	"testing"
	"time"
)

// tailBytes is how much of a process's output a failure shows: the end is
// where the reason is, and a whole debug log would bury it.
const tailBytes = 4096

// Process is one run of the binary on a free loopback port, started by
// Start and killed when the test ends.
type Process struct {
	Addr           string // host:port of --web.listen-address
	Dir            string // the working directory
	Cmd            *exec.Cmd
	Stdout, Stderr *SyncBuffer

	exited  chan struct{}
	waitErr error
}

// Start runs the binary in dir with --web.listen-address on a free loopback
// port, then args. When the test ends the process is killed by PID,
// whatever state it is in, and if the test failed the tail of its output
// is logged.
func Start(t testing.TB, dir string, args ...string) *Process {
	t.Helper()
	p := &Process{Addr: FreeAddr(t), Dir: dir, Stdout: &SyncBuffer{}, Stderr: &SyncBuffer{}, exited: make(chan struct{})}
	p.Cmd = exec.Command(Binary(t), append([]string{"--web.listen-address=" + p.Addr}, args...)...)
	p.Cmd.Dir = dir
	p.Cmd.Stdout = p.Stdout
	p.Cmd.Stderr = p.Stderr
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.waitErr = p.Cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.Cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("exporter (pid %d) stderr, last 4 KiB:\n%s", p.Cmd.Process.Pid, tail(p.Stderr.String()))
			if out := p.Stdout.String(); out != "" {
				t.Logf("exporter (pid %d) stdout, last 4 KiB:\n%s", p.Cmd.Process.Pid, tail(out))
			}
		}
	})
	return p
}

func tail(s string) string { return s[max(0, len(s)-tailBytes):] }

// Exited is closed once the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// WaitErr is what Wait returned; valid once Exited is closed.
func (p *Process) WaitErr() error { return p.waitErr }

// Running reports whether the process has not exited yet.
func (p *Process) Running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// ExitCode waits up to timeout for the process to exit on its own and
// returns its exit code.
func (p *Process) ExitCode(t testing.TB, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(timeout):
		t.Fatalf("exporter (pid %d) still running after %v", p.Cmd.Process.Pid, timeout)
	}
	var exitErr *exec.ExitError
	if errors.As(p.waitErr, &exitErr) {
		return exitErr.ExitCode()
	}
	if p.waitErr != nil {
		t.Fatal(p.waitErr)
	}
	return 0
}

// WaitReady polls baseURL+"/-/ready" with client until it answers 200. It
// fails the test at once, with the tail of stderr, if the process exits
// first, rather than polling a dead port until timeout.
func (p *Process) WaitReady(t testing.TB, client *http.Client, baseURL string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if resp, err := client.Get(baseURL + "/-/ready"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("exporter (pid %d) exited before ready: %v\n%s", p.Cmd.Process.Pid, p.waitErr, tail(p.Stderr.String()))
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("exporter (pid %d) not ready within %v\n%s", p.Cmd.Process.Pid, timeout, tail(p.Stderr.String()))
}
