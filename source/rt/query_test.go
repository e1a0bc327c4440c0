package rt

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	promconfig "github.com/prometheus/common/config"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestRTLowerBound(t *testing.T) {
	tests := []struct {
		name, zone string
		t          time.Time
		lit        string
		reads      time.Time
	}{
		{"UTC floors to the second", "UTC", time.Date(2026, 3, 29, 1, 30, 0, 700e6, time.UTC),
			"2026-03-29 01:30:00", time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)},
		{"summer in Berlin", "Europe/Berlin", time.Date(2026, 6, 1, 10, 0, 0, 500e6, time.UTC),
			"2026-06-01 12:00:00", time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)},
		{"New York in winter", "America/New_York", time.Date(2026, 1, 15, 3, 4, 5, 0, time.UTC),
			"2026-01-14 22:04:05", time.Date(2026, 1, 15, 3, 4, 5, 0, time.UTC)},
		// 01:30 CET, half an hour before the spring change; RT takes the
		// offset at 01:30 UTC (CEST) and reads an hour early: still a lower bound.
		{"Berlin before spring forward", "Europe/Berlin", time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC),
			"2026-03-29 01:30:00", time.Date(2026, 3, 28, 23, 30, 0, 0, time.UTC)},
		// 02:30 CEST, before the autumn change; RT would read the first
		// literal as 02:30 CET, an hour late, so the literal steps back.
		{"Berlin before fall back", "Europe/Berlin", time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC),
			"2026-10-25 01:30:00", time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC)},
		{"Berlin after fall back", "Europe/Berlin", time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC),
			"2026-10-25 02:30:00", time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lit, reads := lowerBound(tt.t, zone(t, tt.zone))
			if lit != tt.lit || !reads.Equal(tt.reads) {
				t.Errorf("lowerBound = %q reading %s, want %q reading %s", lit, reads, tt.lit, tt.reads)
			}
		})
	}
}

// Over a year, in zones with hour, half-hour and odd offsets: the literal
// never reads after the instant, RT reads it as the instant returned, and
// away from clock changes it is the instant to the second.
func TestRTLowerBoundOverAYear(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, name := range []string{"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"} {
		loc := zone(t, name)
		for at := start; at.Before(start.AddDate(1, 0, 0)); at = at.Add(7*time.Minute + 13370*time.Millisecond) {
			lit, reads := lowerBound(at, loc)
			naive, err := time.Parse(sqlTimeLayout, lit)
			if err != nil {
				t.Fatal(err)
			}
			if reads.After(at) || at.Sub(reads) >= 2*time.Hour || !rtReading(naive, loc).Equal(reads) {
				t.Fatalf("%s: %s wrote %q reading %s", name, at, lit, reads)
			}
			// RT takes the offset at the wall time read as UTC, up to 14
			// hours off the instant: only that far from a change is it exact.
			_, before := at.Add(-15 * time.Hour).In(loc).Zone()
			_, after := at.Add(15 * time.Hour).In(loc).Zone()
			if before == after && !reads.Equal(at.Truncate(time.Second)) {
				t.Fatalf("%s: %s away from a clock change reads %s", name, at, reads)
			}
		}
	}
}

func TestRTTicketSQL(t *testing.T) {
	since := time.Date(2026, 11, 2, 15, 5, 18, 0, time.UTC)
	queues := newTicketSQL(Config{Queues: []string{"IT", " O'Brien\\Legal "}}, time.UTC)
	if got, want := queues.selection(), `(Queue = 'IT' OR Queue = 'O\'Brien\\Legal')`; got != want {
		t.Errorf("selection %s, want %s", got, want)
	}
	query := newTicketSQL(Config{Query: " Queue = 'HR' OR Status = 'new' "}, zone(t, "Europe/Berlin"))
	tests := []struct{ got, want string }{
		{query.scope(since), `(Queue = 'HR' OR Status = 'new') AND (LastUpdated >= '2026-11-02 16:05:18' OR Status = '__Active__')`},
		{query.updatedSince(since), `(Queue = 'HR' OR Status = 'new') AND LastUpdated >= '2026-11-02 16:05:18'`},
		{afterID(queues.updatedSince(since), 0), `(Queue = 'IT' OR Queue = 'O\'Brien\\Legal') AND LastUpdated >= '2026-11-02 15:05:18'`},
		{afterID("X", 42), `X AND id > 42`},
		{idSet([]int64{1, 2, 3, 5, 7, 8, 9, 10, 12}), `((ObjectId >= 1 AND ObjectId <= 3) OR ObjectId = 5 OR (ObjectId >= 7 AND ObjectId <= 10) OR ObjectId = 12)`},
		{idSet([]int64{4, 5}), `(ObjectId = 4 OR ObjectId = 5)`},
		{transactionSQL([]int64{7}, &site{}), `ObjectType = 'RT::Ticket' AND (ObjectId = 7) AND (Type = 'Correspond' OR Type = 'Comment' OR Type = 'Status')`},
		{transactionSQL([]int64{7}, &site{satisfactionIDs: []int64{2, 9}}),
			`ObjectType = 'RT::Ticket' AND (ObjectId = 7) AND (Type = 'Correspond' OR Type = 'Comment' OR Type = 'Status' OR (Type = 'CustomField' AND (Field = '2' OR Field = '9')))`},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got  %s\nwant %s", tt.got, tt.want)
		}
	}
}

func TestRTPriorityNames(t *testing.T) {
	tests := []struct {
		ranges []PriorityRange
		values map[int]string
	}{
		{DefaultPriority(), map[int]string{-5: "", 0: "Low", 49: "Low", 50: "Medium", 99: "Medium", 100: "High", 250: "High"}},
		{[]PriorityRange{{"P3", 0}, {" P1 ", 80}, {"P2", 50}}, map[int]string{0: "P3", 50: "P2", 79: "P2", 80: "P1"}},
		{nil, map[int]string{0: "", 100: ""}},
	}
	for _, tt := range tests {
		names := newPriorityNamer(tt.ranges)
		for v, want := range tt.values {
			if got := names.name(v); got != want {
				t.Errorf("%v: priority %d named %q, want %q", tt.ranges, v, got, want)
			}
		}
	}
}

func TestRTCredentialsUser(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("1-29-0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		cfg    promconfig.HTTPClientConfig
		want   string
		wantOK bool
	}{
		{"basic auth", promconfig.HTTPClientConfig{BasicAuth: &promconfig.BasicAuth{Username: "exporter", Password: "x"}}, "exporter", true},
		{"RT token", promconfig.HTTPClientConfig{Authorization: &promconfig.Authorization{Type: "token",
			Credentials: "1-7-0123456789ABCDEF0123456789abcdef"}}, "7", true},
		{"RT token file", promconfig.HTTPClientConfig{Authorization: &promconfig.Authorization{Type: "token", CredentialsFile: tokenFile}}, "29", true},
		{"not an RT token", promconfig.HTTPClientConfig{Authorization: &promconfig.Authorization{Type: "token", Credentials: "secret"}}, "", false},
		{"bearer", promconfig.HTTPClientConfig{Authorization: &promconfig.Authorization{Type: "Bearer",
			Credentials: "1-7-0123456789abcdef0123456789abcdef"}}, "", false},
		{"none", promconfig.HTTPClientConfig{}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New("rt", scenarioConfig(), tt.cfg, config.Segments{}, source.Env{})
			if err != nil {
				t.Fatal(err)
			}
			got, ok := s.credentialsUser()
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("credentialsUser = %q, %t; want %q, %t", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
