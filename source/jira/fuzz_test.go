package jira

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// FuzzDecodeIssue feeds arbitrary search-result issues to the decoder: it
// must never panic, and whatever it accepts must be usable by derivation.
func FuzzDecodeIssue(f *testing.F) {
	st := &site{
		deployment:   DeploymentCloud,
		categories:   map[string]ticket.Category{"1": ticket.CategoryNew, "3": ticket.CategoryIndeterminate, "5": ticket.CategoryDone},
		slaFields:    []Field{{Kind: "sla", ID: "customfield_1", Name: "Time to first response"}},
		satisfaction: "customfield_3", satisfactionDate: "customfield_4", requestType: "customfield_2",
		loc: time.UTC,
	}
	for _, seed := range []string{
		`{"id":"10001","key":"IT-1","fields":{"created":"2026-01-01T10:00:00.000+0000","updated":"2026-01-01T11:00:00.000+0000","status":{"id":"1","name":"Open"},"project":{"key":"IT"}}}`,
		`{"id":"10002","key":"IT-2","fields":{"created":"2026-01-01T10:00:00.000+0000","updated":"2026-01-02T11:00:00.000+0000","status":{"id":"5"},"resolutiondate":"2026-01-02T10:00:00.000+0000","customfield_3":{"rating":4},"customfield_4":"2026-01-02T11:00:00.000+0000","customfield_1":{"completedCycles":[{"startTime":{"epochMillis":1767261600000},"stopTime":{"epochMillis":1767265200000},"breached":false,"goalDuration":{"millis":14400000},"elapsedTime":{"millis":3600000},"remainingTime":{"millis":10800000}}],"ongoingCycle":null},"customfield_2":{"requestType":{"id":"1","name":"Get IT help"}}}}`,
		`{"id":"10003","key":"IT-3","fields":{"created":"2026-01-01T10:00:00.000+0000","updated":"2026-01-01T11:00:00.000+0000","status":{"id":"1"},"customfield_3":5,"customfield_1":"garbage","comment":{"comments":[{"id":"1","created":"2026-01-01T10:30:00.000+0000","jsdPublic":true,"author":{"accountId":"a","accountType":"atlassian"}}],"total":1}}}`,
		`{"id":"x","fields":null}`,
		`[]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := decodeIssue(st, json.RawMessage(raw), nil)
		if err != nil || p == nil {
			return
		}
		tk := p.t
		if tk.ID == "" {
			t.Fatalf("accepted an issue without id: %s", raw)
		}
		if ticket.Validate(tk) == nil {
			// Derivation must cope with anything the decoder accepts.
			_ = ticket.Events(tk, time.Time{})
			_ = ticket.CurrentState(tk)
		}
	})
}

// FuzzJQLLowerBound: for any instant and any of these zones, the JQL
// literal Jira reads in the user's zone is at or before the instant (a ">="
// bound never skips a ticket) and at most a little over an hour before it
// (it never re-reads days of tickets).
func FuzzJQLLowerBound(f *testing.F) {
	zones := []string{"UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kathmandu", "Pacific/Chatham", "America/St_Johns"}
	locs := make([]*time.Location, len(zones))
	for i, z := range zones {
		loc, err := time.LoadLocation(z)
		if err != nil {
			f.Fatal(err)
		}
		locs[i] = loc
	}
	f.Add(int64(1793512800), uint8(1)) // 2026-11-01 05:00 UTC: New York's repeated hour
	f.Add(int64(1773558000), uint8(1)) // 2026-03-15: after the spring gap
	f.Add(int64(0), uint8(0))
	f.Add(int64(1767225599), uint8(4))
	f.Fuzz(func(t *testing.T, unix int64, zone uint8) {
		if unix < 0 || unix > 4102444800 { // 1970..2100, what Jira dates can be
			return
		}
		loc := locs[int(zone)%len(locs)]
		at := time.Unix(unix, 0)
		lit := jqlLowerBound(at, loc)
		latest, ok := latestReading(lit, loc)
		if !ok {
			t.Fatalf("%v in %s: literal %q has no reading", at.UTC(), loc, lit)
		}
		if latest.After(at) {
			t.Fatalf("%v in %s: literal %q can be read as %v, after the bound", at.UTC(), loc, lit, latest.UTC())
		}
		if at.Sub(latest) > 2*time.Hour {
			t.Fatalf("%v in %s: literal %q is %v early", at.UTC(), loc, lit, at.Sub(latest))
		}
	})
}
