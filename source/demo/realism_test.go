package demo

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// firstPublicReply is the first public agent comment, zero when none.
func firstPublicReply(tk ticket.Ticket) time.Time {
	for _, c := range tk.Comments {
		if c.Author == ticket.AuthorAgent && c.Public {
			return c.At
		}
	}
	return time.Time{}
}

// share is n/total, and 0 for an empty total.
func share(n, total int) float64 {
	if total == 0 {
		return 0
	}
	return float64(n) / float64(total)
}

var statusCategories = map[string]ticket.Category{
	statusOpen:               ticket.CategoryNew,
	statusWaitingForSupport:  ticket.CategoryNew,
	statusInProgress:         ticket.CategoryIndeterminate,
	statusWaitingForCustomer: ticket.CategoryIndeterminate,
	statusResolved:           ticket.CategoryDone,
	statusClosed:             ticket.CategoryDone,
}

func requestTypeNames(desk string) []string {
	var names []string
	for _, t := range profileOf(desk).types {
		names = append(names, t.value.name)
	}
	return names
}

func TestEveryTicketIsWellFormed(t *testing.T) {
	all := tickets(poll(t, newSource(t, defaultConfig, &clock{pinned}), nil))
	ids := map[string]bool{}
	for _, tk := range all {
		if ids[tk.ID] {
			t.Fatalf("id %s delivered twice", tk.ID)
		}
		ids[tk.ID] = true
		problem := ""
		switch {
		case !strings.HasPrefix(tk.Key, tk.Desk+"-"):
			problem = "key does not name the desk"
		case !slices.Contains(requestTypeNames(tk.Desk), tk.RequestType):
			problem = "request type not of its desk"
		case !strings.HasPrefix(tk.Reporter, "demo-user-"):
			problem = "reporter is not an opaque demo user"
		case statusCategories[tk.Status] != tk.StatusCategory:
			problem = "status name does not match its category"
		case tk.FirstResponseSLA != "" || !tk.FirstResponseAt.IsZero():
			problem = "first response stated directly"
		case tk.Created.After(pinned) || tk.Updated.Before(tk.Created) || tk.Updated.After(pinned):
			problem = "created/updated out of order"
		case len(tk.SLAs) != 2 || tk.SLAs[0].Name != slaFirstResponse || tk.SLAs[1].Name != slaResolution:
			problem = "SLAs missing"
		case pinned.Sub(tk.Created) < 20*time.Second:
			// Too young for the acknowledgement; the rest is trivially right.
		case len(tk.Comments) == 0 || tk.Comments[0].Author != ticket.AuthorAutomation || !tk.Comments[0].Public ||
			tk.Comments[0].At.Sub(tk.Created) > 20*time.Second:
			problem = "the first comment is not the automatic acknowledgement"
		}
		from, status := ticket.CategoryNew, statusOpen
		for _, tr := range tk.Transitions {
			if tr.From != from || tr.FromStatus != status || tr.ToStatus == tr.FromStatus || !tr.To.Valid() ||
				statusCategories[tr.ToStatus] != tr.To {
				problem = "transitions do not chain"
			}
			from, status = tr.To, tr.ToStatus
		}
		if from != tk.StatusCategory {
			problem = "last transition is not the current category"
		}
		if resolved := len(tk.Resolutions) > 0 && tk.Resolutions[len(tk.Resolutions)-1].Set; resolved != !tk.ResolvedAt.IsZero() ||
			resolved != (tk.StatusCategory == ticket.CategoryDone) {
			problem = "resolution does not match the status"
		}
		if problem != "" {
			t.Fatalf("%s: %s\n%+v", tk.Key, problem, tk)
		}
	}
}

func TestTheDeskLooksReal(t *testing.T) {
	s := newSource(t, defaultConfig, &clock{pinned})
	all := tickets(poll(t, s, nil))
	if len(all) < 150*40 {
		t.Fatalf("only %d tickets in 45 days of history", len(all))
	}

	var (
		resolved, reopened, done, rated, happy, unhappy int
		answered, noteFirst, silentlyResolved           int
		staleUnanswered, pausedWaiting, breachedOngoing int
		weekdayDaytime, weekendNight                    int
		cycles, breachedCycles                          = map[string]int{}, map[string]int{}
		priorities                                      = map[string]int{}
		responseTimes                                   = map[string][]time.Duration{}
		oldestOpen                                      = pinned
		ongoingConsistent                               = true
	)
	// Arrivals over six whole weeks: weekday daytime (10 hours on 5 days)
	// against weekend nights (8 hours on 2 days).
	const weeks = 6
	arrivalsFrom := pinned.Add(-weeks * 7 * day)
	weekdayDaytimeHours, weekendNightHours := weeks*5*10, weeks*2*8
	for _, tk := range all {
		priorities[tk.Priority]++
		open := tk.StatusCategory != ticket.CategoryDone
		if open && tk.Created.Before(oldestOpen) {
			oldestOpen = tk.Created
		}
		if len(tk.Resolutions) > 0 {
			resolved++
		}
		for _, tr := range tk.Transitions {
			if tr.From == ticket.CategoryDone && tr.To != ticket.CategoryDone {
				reopened++
				break
			}
		}
		if !open {
			done++
			if tk.Satisfaction != nil {
				rated++
				switch tk.Satisfaction.Value {
				case 4, 5:
					happy++
				case 1, 2:
					unhappy++
				}
			}
		}

		reply := firstPublicReply(tk)
		switch {
		case !reply.IsZero():
			answered++
			responseTimes[tk.Priority] = append(responseTimes[tk.Priority], reply.Sub(tk.Created))
			for _, c := range tk.Comments {
				if c.At.Before(reply) && c.Author == ticket.AuthorAgent && !c.Public {
					noteFirst++
					break
				}
			}
		case !open:
			silentlyResolved++
		case pinned.Sub(tk.Created) > 7*day:
			staleUnanswered++
		}

		for _, sla := range tk.SLAs {
			for _, c := range sla.Completed {
				cycles[sla.Name]++
				if c.Breached {
					breachedCycles[sla.Name]++
				}
			}
			if o := sla.Ongoing; o != nil {
				if sla.Name == slaResolution && o.Paused != (tk.Status == statusWaitingForCustomer) {
					t.Errorf("%s: ongoing %s paused=%v in status %q", tk.Key, sla.Name, o.Paused, tk.Status)
				}
				if o.Paused && !o.Breached {
					pausedWaiting++
				}
				if o.Breached {
					breachedOngoing++
				}
				if o.Breached != !o.BreachAt.After(pinned) && !(o.Paused && o.BreachAt.IsZero()) ||
					o.Remaining != o.Goal-o.Elapsed {
					ongoingConsistent = false
				}
			}
		}

		if c := tk.Created; !c.Before(arrivalsFrom) {
			weekend := c.Weekday() == time.Saturday || c.Weekday() == time.Sunday
			switch {
			case !weekend && c.Hour() >= 8 && c.Hour() < 18:
				weekdayDaytime++
			case weekend && (c.Hour() < 6 || c.Hour() >= 22):
				weekendNight++
			}
		}
	}

	tests := []struct {
		name   string
		value  float64
		lo, hi float64
	}{
		{"reopened share of resolved tickets", share(reopened, resolved), 0.02, 0.08},
		{"rated share of done tickets", share(rated, done), 0.30, 0.45},
		{"ratings of 4-5", share(happy, rated), 0.65, 0.90},
		{"ratings of 1-2", share(unhappy, rated), 0.05, 0.20},
		{"first-response cycles breached", share(breachedCycles[slaFirstResponse], cycles[slaFirstResponse]), 0.03, 0.30},
		{"resolution cycles breached", share(breachedCycles[slaResolution], cycles[slaResolution]), 0.03, 0.30},
		{"answered tickets with an internal note first", share(noteFirst, answered), 0.25, 0.75},
		{"tickets resolved without a public reply", share(silentlyResolved, done), 0.01, 0.06},
		{"Medium share", share(priorities["Medium"], len(all)), 0.40, 0.60},
		{"unprioritised share", share(priorities[""], len(all)), 0.01, 0.10},
		{"unanswered open tickets older than a week", float64(staleUnanswered), 3, 60},
		{"ongoing resolution clocks paused for the customer", float64(pausedWaiting), 1, 200},
		{"breached ongoing cycles", float64(breachedOngoing), 1, 300},
		{"age of the oldest open ticket in days", pinned.Sub(oldestOpen).Hours() / 24, 14, 50},
		{"weekday daytime arrivals per hour over weekend night ones",
			share(weekdayDaytime*weekendNightHours, max(weekendNight, 1)*weekdayDaytimeHours), 20, 400},
	}
	for _, tt := range tests {
		if tt.value < tt.lo || tt.value > tt.hi {
			t.Errorf("%s = %.3f, want within [%v, %v]", tt.name, tt.value, tt.lo, tt.hi)
		}
	}
	if !ongoingConsistent {
		t.Error("an ongoing cycle's breach time, breached flag and remaining time disagree")
	}
	for _, prio := range []string{"Highest", "High", "Medium", "Low"} {
		if priorities[prio] == 0 {
			t.Errorf("no %s tickets", prio)
		}
	}
	median := func(prio string) time.Duration {
		ds := slices.Clone(responseTimes[prio])
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	if !(median("Highest") < median("High") && median("High") < median("Medium") && median("Medium") < median("Low")) ||
		median("Highest") > time.Hour || median("Low") < 2*time.Hour {
		t.Errorf("median first responses Highest %v, High %v, Medium %v, Low %v: want minutes rising to hours",
			median("Highest"), median("High"), median("Medium"), median("Low"))
	}

	// A changed rating is not visible in one read; count it in the lifecycles.
	rerated := 0
	for _, lcs := range s.slots {
		for _, lc := range lcs {
			if len(lc.ratings) == 2 {
				rerated++
			}
		}
	}
	if rerated == 0 {
		t.Error("no rating was ever changed")
	}
}

func TestUnknownDesksGetGenericRequestTypes(t *testing.T) {
	cfg := Config{Seed: 3, Desks: []string{"OPS", "IT"}, TicketsPerDay: 40}
	desks := map[string]int{}
	for _, tk := range tickets(poll(t, newSource(t, cfg, &clock{pinned}), nil)) {
		desks[tk.Desk]++
		if !slices.Contains(requestTypeNames(tk.Desk), tk.RequestType) {
			t.Fatalf("%s has request type %q", tk.Key, tk.RequestType)
		}
	}
	if desks["OPS"] == 0 || desks["IT"] <= desks["OPS"] {
		t.Errorf("tickets per desk %v: want both, IT busier", desks)
	}
	if slices.Contains(requestTypeNames("OPS"), "Incident") {
		t.Error("generic desk borrowed IT's request types")
	}
}

func TestLifecyclesSettleWithinMaxLifetime(t *testing.T) {
	cfg := defaultConfig
	cfg.TicketsPerDay = 1000
	s := newSource(t, cfg, &clock{pinned})
	farFuture := pinned.Add(365 * day)
	first := slotOf(pinned.Add(-20 * day))
	count := 0
	for slot := first; slot < first+20*24; slot++ {
		for _, lc := range s.generateSlot(slot) {
			count++
			if lc.lastChange.Sub(lc.created) > maxLifetime {
				t.Fatalf("%s changes %v after creation", lc.key, lc.lastChange.Sub(lc.created))
			}
			if lc.settled.After(lc.lastChange) || lc.statusAt(lc.lastChange).name != statusClosed {
				t.Fatalf("%s does not end closed", lc.key)
			}
			settledFacts, laterFacts := lc.factsAt(lc.lastChange), lc.factsAt(farFuture)
			if !reflect.DeepEqual(settledFacts, laterFacts) {
				t.Fatalf("%s changes after its last change", lc.key)
			}
			for _, sla := range laterFacts.SLAs {
				if sla.Ongoing != nil {
					t.Fatalf("%s: %s still running at the end", lc.key, sla.Name)
				}
			}
		}
	}
	if count < 15000 {
		t.Fatalf("only %d lifecycles checked", count)
	}
}
