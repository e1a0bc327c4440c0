package config_test

import (
	"path/filepath"
	"testing"
	"time"

	. "github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/rt"
)

// The rt: section loads like every other section: unknown keys, type
// mismatches and invalid values are each reported on their own line of
// the file, all of them at once. Each fixture's whole report is compared.
func TestLoadRT(t *testing.T) {
	cases := []struct {
		file string
		want string
	}{
		{"invalid-missing-url.yml", `testdata/rt/invalid-missing-url.yml:4: source "helpdesk": rt.url is required: RT's web base URL, e.g. https://rt.example.com`},
		{"invalid-unknown-key.yml", lines(
			`testdata/rt/invalid-unknown-key.yml:4: source "helpdesk": rt.queues or rt.query is required: the queues to read (each a desk), or a TicketSQL search`,
			`testdata/rt/invalid-unknown-key.yml:6: unknown key "queue" in rt of source "helpdesk" (did you mean "queues"?)`,
		)},
		{"invalid-both-selections.yml", `testdata/rt/invalid-both-selections.yml:7: source "helpdesk": rt.queues and rt.query are exclusive: set one of them`},
		{"invalid-no-credentials.yml", `testdata/rt/invalid-no-credentials.yml:2: source "helpdesk": rt needs credentials: set http_client.authorization (type: token, credentials_file: an RT auth token) or http_client.basic_auth (an RT user and password)`},
		{"invalid-without-section.yml", `testdata/rt/invalid-without-section.yml:2: source "helpdesk": type rt needs an rt: section with url and queues or query (see docs/rt.md)`},
		{"invalid-several.yml", lines(
			`testdata/rt/invalid-several.yml:6: source "helpdesk": rt.url is RT's web base URL, without /REST/2.0 (the exporter adds it)`,
			`testdata/rt/invalid-several.yml:7: source "helpdesk": rt.queues: duplicate queue "it"`,
			`testdata/rt/invalid-several.yml:11: source "helpdesk": rt.lifecycles.facilities: status "reported" is already in initial`,
			`testdata/rt/invalid-several.yml:15: source "helpdesk": rt.priority: priority[1] and "P1" both start at 80`,
			`testdata/rt/invalid-several.yml:16: source "helpdesk": rt.timeout must be positive`,
			`testdata/rt/invalid-several.yml:17: source "helpdesk": rt.max_pages must be an integer, got "many"`,
		)},
		{"invalid-section-on-jira.yml", `testdata/rt/invalid-section-on-jira.yml:5: source "site": rt: does not apply to type jira; remove it or set type: rt`},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			cfg, err := Load(filepath.Join("testdata", "rt", c.file), types)
			if err == nil {
				t.Fatalf("Load succeeded, want error %q; got config:\n%s", c.want, cfg)
			}
			if err.Error() != c.want {
				t.Errorf("error mismatch\n got: %s\nwant: %s", err, c.want)
			}
		})
	}
}

func TestLoadRTValid(t *testing.T) {
	cfg, err := Load("testdata/rt/valid.yml", types)
	if err != nil {
		t.Fatal(err)
	}
	src := cfg.Sources[0]
	settings, ok := src.Settings.(rt.Config)
	if !ok {
		t.Fatalf("settings are %T", src.Settings)
	}
	if time.Duration(src.PollInterval) != 2*time.Minute || settings.URL != "https://rt.example.com" || len(settings.Queues) != 2 ||
		settings.TimeZone != "Europe/Berlin" || settings.RequestTypeField != "Category" || len(settings.Priority) != 3 ||
		settings.SatisfactionField != "Satisfaction" || len(settings.Lifecycles["facilities"].Inactive) != 2 {
		t.Errorf("loaded %+v", settings)
	}
	if src.Segments.CustomerGroup == nil || src.Segments.CustomerGroup.Field != "Requestor.Organization" || src.Segments.Team.Field != "Queue" {
		t.Errorf("segments %+v", src.Segments)
	}
	if a := src.HTTPClient.Authorization; a == nil || a.Type != "token" || a.CredentialsFile != filepath.Join("testdata", "rt", "rt-token") {
		t.Errorf("authorization %+v", a)
	}
	if _, err := types.Build(src, source.Env{}); err != nil {
		t.Errorf("build: %v", err)
	}
}
