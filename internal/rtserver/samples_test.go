package rtserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const samplesDir = "testdata/rest2"

// portPlaceholder replaces the instance's random port in recorded URLs.
const portPlaceholder = "http://127.0.0.1:PORT"

// sample is one recorded REST2 exchange.
type sample struct {
	name string
	as   string // who asked, as the file says
	cred Credentials
	path string // under /REST/2.0, with query
}

// recorded is a sample file: the request, who made it, and RT's answer.
type recorded struct {
	Request string          `json:"request"`
	As      string          `json:"as"`
	Status  int             `json:"status"`
	Body    json.RawMessage `json:"body"`
}

func (f *rtFacts) samples(t *testing.T, srv *Server, sc *Scenario) []sample {
	t.Helper()
	const (
		root = "root (superuser), token"
		api  = "exporter (privileged agent in Agents, not a superuser), token"
	)
	q := url.QueryEscape
	reopened := f.cases["reopened by mail"][0]
	var cfTxn, emailTxn, reopenTxn, mailCustomer string
	for _, x := range f.txns {
		switch {
		case x.Type == "CustomField" && cfTxn == "":
			cfTxn = x.ID
		case x.Type == "EmailRecord" && emailTxn == "":
			emailTxn = x.ID
		}
	}
	reopenTxn = f.byID[reopened][reopenIndex(f.byID[reopened])].ID
	for _, p := range sc.Tickets {
		if p.ViaMail && strings.Contains(p.Requestor, "@") && mailCustomer == "" {
			mailCustomer = p.Requestor
		}
	}
	var lifecycleQueue Queue
	for _, qu := range sc.Queues {
		if qu.Lifecycle == ScenarioLifecycle.Name {
			lifecycleQueue = qu
		}
	}
	keyset := f.txns[len(f.txns)/2].ID
	a, b := f.byID[reopened][0].ObjectID, strconv.Itoa(f.cases["rated"][0])
	ticketList := "&orderby=id&order=ASC&fields=Subject,Status,Queue,Owner,Requestor,Creator,Created,Started,Told,Resolved,LastUpdated,CustomFields" +
		"&fields%5BQueue%5D=Name,Lifecycle&fields%5BRequestor%5D=Name,EmailAddress,Privileged&fields%5BCreator%5D=Name,Privileged&fields%5BOwner%5D=Name"
	txnFields := "&orderby=id&fields=ObjectId,Type,Field,OldValue,NewValue,Created,Creator&fields%5BCreator%5D=Name,Privileged"
	since := q("ObjectType = 'RT::Ticket' AND Created > '" + f.horizon + "'")
	txnQuery := func(extra string) string { return q("ObjectType = 'RT::Ticket' AND " + extra) }
	perPage := testTickets/3 + 1 // three pages, the last one short
	return []sample{
		{"rt", api, srv.API, "/rt"},
		{"user-agent", root, srv.Root, "/user/" + sc.Agents[0].Name},
		{"user-agent-as-nonsuperuser", api, srv.API, "/user/" + sc.Agents[0].Name},
		{"user-customer", root, srv.Root, "/user/" + sc.Customers[0].Name},
		{"user-customer-as-nonsuperuser", api, srv.API, "/user/" + sc.Customers[0].Name},
		{"user-mail-customer-as-nonsuperuser", api, srv.API, "/user/" + mailCustomer},
		{"user-rt-system", root, srv.Root, "/user/" + SystemUserName},
		{"user-rt-system-as-nonsuperuser", api, srv.API, "/user/" + SystemUserName},
		{"user-self", api, srv.API, "/user/" + APIUserName},
		{"queues-all", api, srv.API, "/queues/all"},
		{"queue-default-lifecycle", api, srv.API, fmt.Sprintf("/queue/%d", sc.Queues[0].ID)},
		{"queue-custom-lifecycle", api, srv.API, fmt.Sprintf("/queue/%d", lifecycleQueue.ID)},
		{"tickets-page-1", api, srv.API, fmt.Sprintf("/tickets?query=%s&per_page=%d&page=1%s", q("id > 0"), perPage, ticketList)},
		{"tickets-page-2", api, srv.API, fmt.Sprintf("/tickets?query=%s&per_page=%d&page=2%s", q("id > 0"), perPage, ticketList)},
		{"tickets-page-3-short", api, srv.API, fmt.Sprintf("/tickets?query=%s&per_page=%d&page=3%s", q("id > 0"), perPage, ticketList)},
		{"tickets-page-4-beyond", api, srv.API, fmt.Sprintf("/tickets?query=%s&per_page=%d&page=4&fields=Status", q("id > 0"), perPage)},
		{"tickets-lastupdated-since-horizon", api, srv.API, "/tickets?query=" + q("LastUpdated > '"+f.horizon+"'") + "&per_page=5&fields=LastUpdated,Status&orderby=id"},
		{"tickets-default-fields", api, srv.API, "/tickets?query=" + q("id > 0") + "&per_page=2"},
		{"tickets-per-page-500", api, srv.API, "/tickets?query=" + q("id > 0") + "&per_page=500&fields=Status"},
		{"tickets-status-active", api, srv.API, "/tickets?query=" + q("Status = '__Active__'") + "&per_page=100&fields=Status&fields%5BQueue%5D=Lifecycle"},
		{"tickets-status-inactive", api, srv.API, "/tickets?query=" + q("Status = '__Inactive__'") + "&per_page=100&fields=Status"},
		{"tickets-query-in", api, srv.API, "/tickets?query=" + q("Status IN ('resolved', 'done')")},
		{"ticket-reopened", api, srv.API, fmt.Sprintf("/ticket/%d", reopened)},
		{"ticket-reopened-history", api, srv.API, fmt.Sprintf("/ticket/%d/history?per_page=100&fields=Type,Field,OldValue,NewValue,Created,Creator", reopened)},
		{"ticket-reopened-history-as-superuser", root, srv.Root, fmt.Sprintf("/ticket/%d/history?per_page=100&fields=Type,Field,OldValue,NewValue,Created,Creator", reopened)},
		{"ticket-history-default-fields", api, srv.API, fmt.Sprintf("/ticket/%d/history?per_page=3", reopened)},
		{"transactions-since-horizon-page-1", api, srv.API, "/transactions?query=" + since + txnFields + "&per_page=20&page=1"},
		{"transactions-since-horizon-page-2", api, srv.API, "/transactions?query=" + since + txnFields + "&per_page=20&page=2"},
		{"transactions-since-horizon-empty-page", api, srv.API, "/transactions?query=" + since + txnFields + "&per_page=20&page=50"},
		{"transactions-since-horizon-page-1-as-superuser", root, srv.Root, "/transactions?query=" + since + txnFields + "&per_page=20&page=1"},
		{"transactions-without-emailrecord", api, srv.API, "/transactions?query=" + txnQuery("Type != 'EmailRecord'") + txnFields + "&per_page=20"},
		{"transactions-keyset-id", api, srv.API, "/transactions?query=" + txnQuery("id > "+keyset) + txnFields + "&per_page=5"},
		{"transactions-or-objectid", api, srv.API, "/transactions?query=" + txnQuery("(ObjectId = "+a+" OR ObjectId = "+b+")") + txnFields + "&per_page=100"},
		{"transactions-in-objectid", api, srv.API, "/transactions?query=" + txnQuery("ObjectId IN ("+a+", "+b+")")},
		{"transactions-objectid-greater", api, srv.API, "/transactions?query=" + txnQuery("ObjectId > "+strconv.Itoa(testTickets-2)) + txnFields + "&per_page=100"},
		{"transactions-by-rt-system", root, srv.Root, "/transactions?query=" + txnQuery("Creator = 'RT_System'") + txnFields + "&per_page=10"},
		{"transactions-customfield-by-field-id", api, srv.API, "/transactions?query=" + txnQuery("Type = 'CustomField' AND Field = '"+strconv.Itoa(srv.SatisfactionFieldID)+"'") + txnFields + "&per_page=5"},
		{"transactions-customfield-by-field-name", api, srv.API, "/transactions?query=" + txnQuery("Type = 'CustomField' AND Field = 'Satisfaction'") + txnFields + "&per_page=5"},
		{"transactions-created-equals-day", root, srv.Root, "/transactions?query=" + txnQuery("Created = '"+f.txns[len(f.txns)/2].Created[:10]+" 12:00:00'") + "&fields=Created&per_page=100"},
		{"transactions-order-created-desc", root, srv.Root, "/transactions?query=" + q("ObjectType = 'RT::Ticket'") + "&orderby=Created&order=DESC&fields=Created,ObjectId&per_page=5"},
		{"transactions-ticket-queue", api, srv.API, "/transactions?query=" + txnQuery("TicketQueue = '"+sc.Queues[0].Name+"'") + "&fields=ObjectId,Type&per_page=5"},
		{"transaction-customfield", api, srv.API, "/transaction/" + cfTxn},
		{"transaction-emailrecord", root, srv.Root, "/transaction/" + emailTxn},
		{"transaction-emailrecord-as-nonsuperuser", api, srv.API, "/transaction/" + emailTxn},
		{"transaction-reopen", api, srv.API, "/transaction/" + reopenTxn},
		{"customfields", api, srv.API, "/customfields"},
		{"customfields-as-superuser", root, srv.Root, "/customfields"},
		{"customfields-query-name", api, srv.API, "/customfields?query=" + q(`[{"field":"Name","value":"`+SatisfactionField+`"}]`)},
		{"customfields-query-lookuptype", api, srv.API, "/customfields?fields=Name,Type,MaxValues&query=" + q(`[{"field":"LookupType","value":"RT::Queue-RT::Ticket"}]`)},
		{"queue-customfields", api, srv.API, fmt.Sprintf("/queue/%d/customfields", sc.Queues[0].ID)},
		{"users", api, srv.API, "/users?per_page=100&fields=Name,EmailAddress,RealName,Privileged"},
		{"users-query-name", api, srv.API, "/users?fields=Name,Privileged&query=" + q(`[{"field":"Name","value":"`+sc.Agents[0].Name+`"}]`)},
		{"users-as-customer", "customer01 (unprivileged customer), basic auth", sc.Customers[0].Credentials(), "/users"},
		{"group-agents-members", api, srv.API, fmt.Sprintf("/group/%d/members", srv.AgentsGroupID)},
		{"tickets-unknown-field", api, srv.API, "/tickets?query=" + q("id = "+strconv.Itoa(reopened)) + "&fields=Status,Bogus&fields%5BRequestor%5D=Privileged,Bogus&fields%5BQueue%5D=Lifecycle"},
		{"customfield-satisfaction", api, srv.API, fmt.Sprintf("/customfield/%d", srv.SatisfactionFieldID)},
		{"error-401-bad-token", "a token RT never issued", Credentials{Token: "1-29-00000000000000000000000000000000"}, "/rt"},
		{"error-401-no-credentials", "no Authorization header", Credentials{}, "/rt"},
		{"error-401-bad-password", "basic auth, wrong password", Credentials{User: "root", Password: "wrong"}, "/rt"},
		{"error-400-ticketsql", api, srv.API, "/tickets?query=" + q("Bogus = 1")},
		{"error-400-ticketsql-syntax", api, srv.API, "/tickets?query=" + q("Status = ")},
		{"error-400-transactionsql", api, srv.API, "/transactions?query=" + q("Bogus = 1")},
		{"error-404-ticket", api, srv.API, "/ticket/999999"},
		{"error-404-user", api, srv.API, "/user/nosuchuser"},
		{"error-404-lifecycles", api, srv.API, "/lifecycles"},
	}
}

// testSamples records the samples with -update, and otherwise checks that
// each live answer has its sample's status and JSON shape (keys and value
// types; values such as times and ids vary run to run). A failure means
// RT answers differently now: rerun with -update, read the diff of
// testdata/rest2 and bring REST2.md up to date with it.
func testSamples(t *testing.T, srv *Server, sc *Scenario, f *rtFacts) {
	samples := f.samples(t, srv, sc)
	names := map[string]bool{}
	for _, s := range samples {
		names[s.name+".json"] = true
		resp := srv.Do(t, s.cred, http.MethodGet, s.path, nil)
		live := recorded{
			Request: "GET " + restPrefix + s.path,
			As:      s.as,
			Status:  resp.Status,
			Body:    normalizeBody(t, srv, resp.Body),
		}
		file := filepath.Join(samplesDir, s.name+".json")
		if *update {
			b, err := json.MarshalIndent(live, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, append(b, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Errorf("%s: %v (run with -update to record it)", s.name, err)
			continue
		}
		var want recorded
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if want.Status != live.Status {
			t.Errorf("%s: status %d, recorded %d", s.name, live.Status, want.Status)
		}
		if diff := shapeDiff(t, want.Body, live.Body); diff != "" {
			t.Errorf("%s: JSON shape changed (recorded vs live):\n%s", s.name, diff)
		}
	}
	if *update {
		entries, err := os.ReadDir(samplesDir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if !names[e.Name()] {
				if err := os.Remove(filepath.Join(samplesDir, e.Name())); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// normalizeBody replaces the instance's URL and tokens, and re-indents
// JSON with sorted keys (RT's key order is Perl's hash order, different
// on every run) keeping numbers as written (RT sends "pages": 0.0).
// A body that is not JSON is kept as a JSON string.
func normalizeBody(t *testing.T, srv *Server, body []byte) json.RawMessage {
	t.Helper()
	text := strings.ReplaceAll(string(body), srv.URL, portPlaceholder)
	for _, token := range []string{srv.Root.Token, srv.API.Token} {
		text = strings.ReplaceAll(text, token, "REDACTED")
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		s, _ := json.Marshal(text)
		return s
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("  ", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSpace(buf.Bytes())
}

// shape maps every path in a JSON document to the types found there;
// array elements share the path "[]".
func shape(t *testing.T, raw json.RawMessage) map[string][]string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("shape: %v", err)
	}
	out := map[string][]string{}
	var walk func(path string, v any)
	add := func(path, typ string) {
		if !slices.Contains(out[path], typ) {
			out[path] = append(out[path], typ)
			sort.Strings(out[path])
		}
	}
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			add(path, "object")
			for k, x := range v {
				walk(path+"."+k, x)
			}
		case []any:
			add(path, "array")
			for _, x := range v {
				walk(path+"[]", x)
			}
		case json.Number:
			if strings.ContainsAny(v.String(), ".eE") {
				add(path, "float")
			} else {
				add(path, "integer")
			}
		case string:
			add(path, "string")
		case bool:
			add(path, "bool")
		case nil:
			add(path, "null")
		}
	}
	walk("$", v)
	return out
}

func shapeDiff(t *testing.T, want, got json.RawMessage) string {
	t.Helper()
	ws, gs := shape(t, want), shape(t, got)
	var paths []string
	for p := range ws {
		paths = append(paths, p)
	}
	for p := range gs {
		if _, ok := ws[p]; !ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	var diff strings.Builder
	for _, p := range paths {
		w, g := strings.Join(ws[p], "|"), strings.Join(gs[p], "|")
		if w != g {
			fmt.Fprintf(&diff, "  %s: %q vs %q\n", p, w, g)
		}
	}
	return diff.String()
}
