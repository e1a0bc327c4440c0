package rt_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/builtin"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/rt"
)

// The shipped example loads and builds as it is, with a token file beside
// it, and says what docs/rt.md says it does.
func TestRTExampleConfigLoads(t *testing.T) {
	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "rt", "config.yml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(path, example, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rt-token"), []byte("1-29-0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := builtin.Registry()
	cfg, err := config.Load(path, reg)
	if err != nil {
		t.Fatal(err)
	}
	sc := cfg.Sources[0]
	settings := sc.Settings.(rt.Config)
	if len(settings.Queues) != 3 || len(sc.SLAs) != 2 || sc.SLAs[1].Calendar == nil || len(sc.SLAs[1].PauseStatuses) != 2 ||
		sc.Segments.CustomerGroup.Field != rt.SegmentRequestorOrganization || sc.Segments.Team.Field != rt.SegmentQueue {
		t.Errorf("example loaded as %+v", sc)
	}
	if _, err := reg.Build(sc, source.Env{}); err != nil {
		t.Fatal(err)
	}
}
