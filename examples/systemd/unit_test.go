// Package systemd_test checks the example unit offline with the host's
// systemd-analyze: it must load without a single warning, keep its
// hardening (exposure score), and start the binary with flags it accepts.
package systemd_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/internal/exportertest"
)

const (
	unitName   = "servicedesk_exporter.service"
	installed  = "/usr/local/bin/servicedesk_exporter"
	configPath = "/etc/servicedesk_exporter/config.yaml"
	// maxExposure is the highest `systemd-analyze security` score accepted
	// (0 = fully locked down, 10 = unprotected); the unit scores 1.2.
	maxExposure = 2.0
)

func TestMain(m *testing.M) {
	code := m.Run()
	exportertest.RemoveBinary()
	os.Exit(code)
}

func systemdAnalyze(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("systemd-analyze not found; it comes with Debian's systemd package")
		}
		t.Skip("systemd-analyze not found")
	}
	return path
}

// unitForHost is the example unit with ExecStart naming a freshly built
// binary, since verify insists that the command exists.
func unitForHost(t *testing.T) (unitPath, bin string) {
	t.Helper()
	content, err := os.ReadFile(unitName)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(content), "ExecStart="+installed) {
		t.Fatalf("ExecStart no longer runs %s; update this test", installed)
	}
	bin = exportertest.Binary(t)
	unitPath = filepath.Join(t.TempDir(), unitName)
	if err := os.WriteFile(unitPath, []byte(strings.ReplaceAll(string(content), installed, bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	return unitPath, bin
}

func run(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s %v did not finish within a minute", name, args)
	}
	return string(out), err
}

func TestUnitVerifiesWithoutWarnings(t *testing.T) {
	analyze := systemdAnalyze(t)
	unit, _ := unitForHost(t)
	out, err := run(t, analyze, "verify", "--man=no", unit)
	// verify exits 0 on an unknown key or a misspelt syscall group and only
	// prints a warning, so any line about our unit fails; lines about other
	// units installed on the host are theirs.
	var ours []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, unitName) {
			ours = append(ours, line)
		}
	}
	if err != nil || len(ours) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, strings.Join(ours, "\n"))
	}
}

func TestUnitKeepsItsHardening(t *testing.T) {
	analyze := systemdAnalyze(t)
	unit, _ := unitForHost(t)
	out, err := run(t, analyze, "security", "--offline=yes", "--no-pager", "--threshold="+strconv.FormatFloat(maxExposure*10, 'f', 0, 64), unit)
	// The last line reads "→ Overall exposure level for ...: 1.3 OK".
	if err != nil {
		t.Fatalf("systemd-analyze security: exposure above %.1f (%v):\n%s", maxExposure, err, out)
	}
	if !strings.Contains(out, "Overall exposure level for "+unitName) {
		t.Fatalf("no exposure score in:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "Overall exposure level") {
			t.Log(strings.TrimSpace(line))
		}
	}
}

// TestExecStartFlagsAreAccepted runs ExecStart's command line with
// --config.check (and the repository's config.yaml in place of the one in
// /etc), so a renamed or misspelt flag fails here, not at boot.
func TestExecStartFlagsAreAccepted(t *testing.T) {
	unit, bin := unitForHost(t)
	content, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	// Join continuation lines, then find ExecStart.
	text := strings.ReplaceAll(string(content), "\\\n", " ")
	var args []string
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, "ExecStart="); ok {
			args = strings.Fields(rest)
		}
	}
	if len(args) < 2 || args[0] != bin {
		t.Fatalf("cannot read ExecStart from the unit: %q", args)
	}
	config, err := filepath.Abs("../../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range args {
		args[i] = strings.ReplaceAll(a, configPath, config)
	}
	out, err := run(t, bin, append(args[1:], "--config.check")...)
	if err != nil {
		t.Fatalf("%v --config.check: %v\n%s", args, err, out)
	}
}
