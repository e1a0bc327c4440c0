package builtin_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/builtin"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// Every built-in type loads from a config file and builds through the
// registry alone, with the defaults it describes.
func TestEveryTypeLoadsAndBuilds(t *testing.T) {
	reg := builtin.Registry()
	if got, want := reg.SourceTypeNames(), []string{"demo", "jira", "rt"}; !slices.Equal(got, want) {
		t.Fatalf("types %v, want %v", got, want)
	}
	const file = `
sources:
  - name: desk
    type: demo
  - name: site
    type: jira
    jira: { url: "http://127.0.0.1:9", jql: project = IT }
    http_client:
      authorization: { credentials: token }
`
	cfg, err := config.Parse([]byte(file), "inline.yml", reg)
	if err != nil {
		t.Fatal(err)
	}
	wantPoll := map[string]time.Duration{"demo": 30 * time.Second, "jira": 2 * time.Minute}
	for _, sc := range cfg.Sources {
		if got := time.Duration(sc.PollInterval); got != wantPoll[sc.Type] {
			t.Errorf("%s: default poll_interval %s, want %s", sc.Type, got, wantPoll[sc.Type])
		}
		if _, err := reg.Build(sc, source.Env{}); err != nil {
			t.Errorf("%s: %v", sc.Type, err)
		}
	}
}

// The demo desk runs on the clock the Env gives it, and needs no checker.
func TestDemoBuildsOnTheEnvClock(t *testing.T) {
	reg := builtin.Registry()
	cfg, err := config.Parse([]byte("sources:\n  - name: desk\n    type: demo\n"), "inline.yml", reg)
	if err != nil {
		t.Fatal(err)
	}
	// Long past: on the wall clock, the desk would have newer tickets.
	now := time.Date(2021, 3, 2, 12, 0, 0, 0, time.UTC)
	src, err := reg.Build(cfg.Sources[0], source.Env{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := src.(source.Checker); ok {
		t.Error("the demo desk claims to connect to something")
	}
	var latest time.Time
	err = src.Poll(context.Background(), now.Add(-24*time.Hour), nil, func(_ context.Context, b ticket.Batch) error {
		for _, tk := range b.Tickets {
			if tk.Created.After(latest) {
				latest = tk.Created
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if latest.IsZero() || latest.After(now) {
		t.Errorf("newest ticket created at %s, want some ticket, none after the Env's now %s", latest, now)
	}
}

// A Jira source checks its connection, and says what fails.
func TestJiraIsAChecker(t *testing.T) {
	reg := builtin.Registry()
	cfg, err := config.Parse([]byte(`
sources:
  - name: site
    type: jira
    jira: { url: "http://127.0.0.1:9", jql: project = IT, max_retries: 0, timeout: 2s }
    http_client:
      authorization: { credentials: token }
`), "inline.yml", reg)
	if err != nil {
		t.Fatal(err)
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
	if err := c.Check(ctx, &out); err == nil {
		t.Fatalf("check against a closed port succeeded:\n%s", &out)
	}
	// Nothing was learned but what it connects to (issue 10).
	if want := "  url:             http://127.0.0.1:9\n  deployment:      auto (configured)\n"; out.String() != want {
		t.Errorf("check wrote:\n%s\nwant:\n%s", &out, want)
	}
}
