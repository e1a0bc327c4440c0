package builtin_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/builtin"
)

// An RT source loads with its defaults, builds through the registry alone,
// and checks its connection, saying what fails.
func TestRTLoadsBuildsAndChecks(t *testing.T) {
	reg := builtin.Registry()
	cfg, err := config.Parse([]byte(`
sources:
  - name: helpdesk
    type: rt
    rt: { url: "http://127.0.0.1:9", queues: [IT], max_retries: 0, timeout: 2s }
    http_client:
      authorization: { type: token, credentials: "1-29-0123456789abcdef0123456789abcdef" }
`), "inline.yml", reg)
	if err != nil {
		t.Fatal(err)
	}
	if got := time.Duration(cfg.Sources[0].PollInterval); got != 2*time.Minute {
		t.Errorf("default poll_interval %s, want 2m", got)
	}
	src, err := reg.Build(cfg.Sources[0], source.Env{})
	if err != nil {
		t.Fatal(err)
	}
	c, ok := src.(source.Checker)
	if !ok {
		t.Fatalf("%T is no source.Checker", src)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out strings.Builder
	err = c.Check(ctx, &out)
	if err == nil || !strings.Contains(err.Error(), "hint: check that rt.url (http://127.0.0.1:9) is right and reachable") {
		t.Fatalf("check against a closed port: %v", err)
	}
	// Nothing was learned but what it connects to.
	if want := "  url:             http://127.0.0.1:9\n"; out.String() != want {
		t.Errorf("check wrote:\n%s\nwant:\n%s", &out, want)
	}
}
