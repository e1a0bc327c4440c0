package rt

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// FuzzDecodeTicket feeds arbitrary ticket page items, and a history for
// them, to the source: it must never panic, an item it refuses gives an
// error naming the ticket, and whatever it accepts derivation can use.
func FuzzDecodeTicket(f *testing.F) {
	for _, name := range []string{"tickets-page-1", "tickets-page-3-short"} {
		for _, raw := range sampleItems(f, name)[:3] {
			f.Add([]byte(raw), []byte(`[{"id":"1","type":"transaction","Type":"Status","OldValue":"new","NewValue":"open","Created":"2026-10-20T00:00:00Z","Creator":{"id":"RT_System"}}]`))
		}
	}
	f.Add([]byte(`{"id": 3, "Status": "RESOLVED", "Queue": {"Name": "IT", "Lifecycle": "default"}, "Created": "2026-10-01T10:00:00Z", "Priority": 55,
		"Requestor": [{"id": "a"}], "Owner": {"id": "Nobody"}}`),
		[]byte(`[{"id":"9","Type":"CustomField","Field":"2","NewValue":"4","Created":"2026-10-02T00:00:00Z","Creator":{"id":"intake"}},{"id":"8","Type":"Correspond","Created":"2026-10-01T11:00:00Z","Creator":{"id":"alice"}}]`))
	f.Add([]byte(`{"id": "x"}`), []byte(`null`))
	f.Add([]byte(`[]`), []byte(`{}`))
	src := testSource(f, scenarioConfig(), config.Segments{})
	f.Fuzz(func(t *testing.T, item, history []byte) {
		p, id, err := siteTickets{src: src, st: &site{}}.Decode(item, nil)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "ticket "+strconv.FormatInt(id, 10)+": ") {
				t.Fatalf("error %q does not name ticket %d", err, id)
			}
			return
		}
		var txns []restTxn
		if json.Unmarshal(history, &txns) != nil {
			txns = nil
		}
		src.applyHistory(p, txns, &site{satisfactionIDs: []int64{2}}, map[string]bool{"alice": true})
		tk := p.t
		if tk.ID == "" || id <= 0 {
			t.Fatalf("accepted a ticket without id: %s", item)
		}
		if err := ticket.Validate(tk); err != nil {
			t.Fatalf("accepted facts derivation rejects: %v\n%s", err, item)
		}
		_ = ticket.Events(tk, time.Time{})
		_ = ticket.CurrentState(tk)
	})
}
