package jira

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	promconfig "github.com/prometheus/common/config"

	"github.com/servicedesk-exporter/servicedesk_exporter/internal/fakejira"
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/api"
)

// jsonSeeds are documents at the edges of the grammar and of how
// encoding/json fills values; every fuzz target below starts from them.
var jsonSeeds = []string{
	``, ` `, `null`, `true`, `false`, `0`, `-0`, `01`, `1.`, `.5`, `1e5`, `1E+5`, `-1.5e-3`, `1e`, `-`, `"`, `"\`, `"\u12"`,
	`"a\u00e9\n"`, "\"\x01\"", "\"\xff\"", `[]`, `[1,]`, `[,1]`, `{}`, `{"a":}`, `{"a" 1}`, `{"a":1,}`, `{1:2}`, `[1 2]`,
	`{"a":1}{}`, ` {"a" : [ 1 , {"b":null} ] } `, `nul`, `tru`, `[[[[[]]]]]`, `{"a":"\ud800"}`,
	`{"id":"1","ID":"2","key":"K","fields":{"a":1},"fields":{"b":[true]},"Fields":null}`,
	`{"issues":[{"id":"1"},{"id":"2"}],"isLast":true,"nextPageToken":"t\/1"}`,
	`{"issues":null,"total":3,"startAt":"x"}`,
	`{"issues":[{"id":"1","fields":{"a":1,"b":{"c":[]}}},{"id":2},{"fields":[]},5,null,{"fields":null,"Fields":{"x":"\u00e9"}}],"total":6}`,
	`{"comments":[{"id":"1","jsdPublic":true,"author":{"accountId":"a"}}],"comments":[{"id":"2"}],"total":1}`,
	`{"comments":[],"maxResults":1.5}`, `{"comments":{}}`,
	`{"name":"Time to first response","completedCycles":[{"startTime":{"epochMillis":1},"breached":true,"goalDuration":{"millis":9007199254740993}}],"ongoingCycle":{"paused":null,"elapsedTime":{"millis":-1e3}}}`,
	`{"issueChangeLogs":[{"issueId":"10","changeHistories":[{"id":"1","created":"2026-01-01T10:00:00.000+0000","items":[{"fieldId":"status","from":"1","to":3}]}]}],"nextPageToken":null}`,
	`{"accountId":"\u0061","AccountType":"app","NAME":"n","key":"k","timeZone":5}`,
	`{"id":"1","name":"Open","statusCategory":{"key":"new"},"statusCategory":null}`,
}

// FuzzScanner holds the byte scanner to encoding/json: the same documents
// are valid, an object splits into the members json.Unmarshal puts into a
// map[string]json.RawMessage, and the page and issue splitters fill their
// types exactly as json.Unmarshal does.
func FuzzScanner(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if got, want := validJSON(doc), json.Valid(doc); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid says %v", doc, got, want)
		}
		var want map[string]json.RawMessage
		wantErr := json.Unmarshal(doc, &want)
		got := map[string]json.RawMessage{}
		gotErr := eachMember(doc, func(key string, data []byte, at, depth int) (int, error) {
			return rawValue(data, at, depth, func(v []byte) error {
				got[key] = v
				return nil
			})
		})
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("eachMember(%q): error %v, json.Unmarshal into a map: %v", doc, gotErr, wantErr)
		}
		if gotErr == nil && want != nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("eachMember(%q) = %q, json.Unmarshal: %q", doc, got, want)
		}
		sameAsLibrary(t, doc, func(b []byte, v *searchJQLPage) error { return v.DecodeBody(b) })
		sameAsLibrary(t, doc, func(b []byte, v *searchPage) error { return v.DecodeBody(b) })
		sameSplit(t, doc)
		// decodeBody takes only what a page split validated; on anything
		// else it must merely not panic.
		var is rawIssue
		if json.Valid(doc) {
			sameAsLibrary(t, doc, func(b []byte, v *rawIssue) error { return v.decodeBody(b) })
		} else {
			_ = is.decodeBody(doc)
		}
	})
}

// sameSplit holds the split of a page's issues into their fields in the
// walk that validates the page (cloudPageBody, dcPageBody) to the page
// split and decodeBody one after the other: the same page or the same
// failure, and for each issue the same split, or none where decodeBody
// fails.
func sameSplit(t *testing.T, doc []byte) {
	t.Helper()
	var cloudPlain searchJQLPage
	cloudPlainErr := cloudPlain.DecodeBody(doc)
	cloud := cloudPageBody{split: true}
	cloudErr := cloud.DecodeBody(doc)
	checkSplit(t, "Cloud", doc, cloudPlainErr, cloudErr, normalized(cloudPlain), normalized(cloud.searchJQLPage), cloud.Issues, cloud.parsed)
	var dcPlain searchPage
	dcPlainErr := dcPlain.DecodeBody(doc)
	dc := dcPageBody{split: true}
	dcErr := dc.DecodeBody(doc)
	checkSplit(t, "Data Center", doc, dcPlainErr, dcErr, normalized(dcPlain), normalized(dc.searchPage), dc.Issues, dc.parsed)
}

func checkSplit(t *testing.T, name string, doc []byte, plainErr, err error, plain, got any, issues []json.RawMessage, parsed []any) {
	t.Helper()
	if (err == nil) != (plainErr == nil) {
		t.Fatalf("%s split of %q: error %v, the page split: %v", name, doc, err, plainErr)
	}
	if err != nil {
		return
	}
	if !reflect.DeepEqual(got, plain) || len(parsed) != len(issues) {
		t.Fatalf("%s split of %q: %v with %d split, the page split %v", name, doc, got, len(parsed), plain)
	}
	for i, raw := range issues {
		var want rawIssue
		wantErr := want.decodeBody(raw)
		split, _ := parsed[i].(*rawIssue)
		switch {
		case split == nil && wantErr == nil:
			t.Fatalf("%s split of %q: issue %d not split, decodeBody reads it", name, doc, i)
		case split != nil && wantErr != nil:
			t.Fatalf("%s split of %q: issue %d split, decodeBody fails: %v", name, doc, i, wantErr)
		case split != nil && !reflect.DeepEqual(normalized(*split), normalized(want)):
			t.Fatalf("%s split of %q: issue %d\n got %+v\nwant %+v", name, doc, i, *split, want)
		}
	}
}

// FuzzSkipValid holds skipValid to the validating scanner: on a valid
// value it ends where scanValue ends, and on any bytes at all it returns an
// offset in (i, len] without panicking.
func FuzzSkipValid(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		i := skipSpace(doc, 0)
		got := skipValid(doc, i)
		if len(doc) > i && (got <= i || got > len(doc)) {
			t.Fatalf("skipValid(%q, %d) = %d, outside (%d, %d]", doc, i, got, i, len(doc))
		}
		if want, err := scanValue(doc, i, 0); json.Valid(doc) && (err != nil || got != want) {
			t.Fatalf("skipValid(%q, %d) = %d, scanValue ends at %d", doc, i, got, want)
		}
	})
}

func TestSkipValidEndsWhereTheValueEnds(t *testing.T) {
	for _, tt := range []struct{ doc, rest string }{
		{`"abc",1`, `,1`},
		{`"a\"b"]`, `]`},
		{`"a\\"b"]`, `b"]`},
		{`"a\\\"b"}`, `}`},
		{`"\u0022",`, `,`},
		{`{"a":{"b":["}",{"]":"{"}]}},{}`, `,{}`},
		{`[1,[2,[3]],"]"] x`, ` x`},
		{`-1.5e+3,`, `,`},
		{`true}`, `}`},
		{`null `, ` `},
		{`12`, ``},
		{`{"unterminated`, ``},
	} {
		end := skipValid([]byte(tt.doc), 0)
		if got := tt.doc[end:]; got != tt.rest {
			t.Errorf("skipValid(%s) left %q, want %q", tt.doc, got, tt.rest)
		}
	}
}

// FuzzUnmarshalFast holds unmarshalFast to json.Unmarshal on the adapter's
// response types and on one type with every kind it handles itself.
func FuzzUnmarshalFast(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		fast := func(b []byte, v any) error { return unmarshalFast(b, v) }
		sameAsLibrary(t, doc, func(b []byte, v *commentField) error { return fast(b, v) })
		sameAsLibrary(t, doc, func(b []byte, v **slaValue) error { return fast(b, v) })
		sameAsLibrary(t, doc, func(b []byte, v **user) error { return fast(b, v) })
		sameAsLibrary(t, doc, func(b []byte, v *statusField) error { return fast(b, v) })
		sameAsLibrary(t, doc, func(b []byte, v **requestTypeValue) error { return fast(b, v) })
		sameAsLibrary(t, doc, func(b []byte, v *bulkChangelogResponse) error { return v.DecodeBody(b) })
		sameAsLibrary(t, doc, func(b []byte, v *kinds) error { return fast(b, v) })
		sameAsLibrary(t, doc, func(b []byte, v *[]kinds) error { return fast(b, v) })
		sameAsLibrary(t, doc, func(b []byte, v *map[string]json.RawMessage) error { return fast(b, v) })
		sameAsLibrary(t, doc, func(b []byte, v *map[string]kinds) error { return fast(b, v) })
		sameAsLibrary(t, doc, func(b []byte, v *[]json.RawMessage) error { return fast(b, v) })
	})
}

// FuzzUnmarshalTrusted holds unmarshalTrusted to json.Unmarshal on valid
// documents, and to not panicking on the rest.
func FuzzUnmarshalTrusted(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if !json.Valid(doc) {
			for _, target := range append(fieldTargets(), reflect.TypeFor[kinds](), reflect.TypeFor[*changelogPage]()) {
				_ = unmarshalTrusted(doc, reflect.New(target).Interface())
			}
			return
		}
		trusted := func(b []byte, v any) error { return unmarshalTrusted(b, v) }
		sameAsLibrary(t, doc, func(b []byte, v *commentField) error { return trusted(b, v) })
		sameAsLibrary(t, doc, func(b []byte, v **slaValue) error { return trusted(b, v) })
		sameAsLibrary(t, doc, func(b []byte, v **user) error { return trusted(b, v) })
		sameAsLibrary(t, doc, func(b []byte, v *statusField) error { return trusted(b, v) })
		sameAsLibrary(t, doc, func(b []byte, v **requestTypeValue) error { return trusted(b, v) })
		sameAsLibrary(t, doc, func(b []byte, v **changelogPage) error { return trusted(b, v) })
		sameAsLibrary(t, doc, func(b []byte, v *kinds) error { return trusted(b, v) })
		sameAsLibrary(t, doc, func(b []byte, v *[]kinds) error { return trusted(b, v) })
		sameAsLibrary(t, doc, func(b []byte, v *map[string]kinds) error { return trusted(b, v) })
	})
}

// kinds has a field of every kind unmarshalFast decodes, and some it hands
// to the library.
type kinds struct {
	S      string          `json:"s"`
	B      bool            `json:"b"`
	I      int             `json:"i"`
	I8     int8            `json:"i8"`
	I64    int64           `json:"i64"`
	U      uint            `json:"u"`
	F      float64         `json:"f"`
	F32    float32         `json:"f32"`
	P      *kinds          `json:"p"`
	L      []kinds         `json:"l"`
	LS     []string        `json:"ls"`
	Bytes  []byte          `json:"bytes"`
	Raw    json.RawMessage `json:"raw"`
	M      map[string]int  `json:"m"`
	Any    any             `json:"any"`
	T      flexTime        `json:"t"`
	PT     *flexTime       `json:"pt"`
	Quoted int             `json:"q,string"`
	Skip   string          `json:"-"`
	NoTag  string
	Arr    [2]int            `json:"arr"`
	Time   time.Time         `json:"time"`
	Named  ticketCategoryish `json:"named"`
}

type ticketCategoryish string

// sameAsLibrary decodes doc with decode and with json.Unmarshal into fresh
// values of T: both fail, or both succeed with equal results.
func sameAsLibrary[T any](t *testing.T, doc []byte, decode func([]byte, *T) error) {
	t.Helper()
	var got, want T
	gotErr, wantErr := decode(doc, &got), json.Unmarshal(doc, &want)
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("%T from %q: error %v, json.Unmarshal: %v", got, doc, gotErr, wantErr)
	}
	if gotErr == nil && !reflect.DeepEqual(normalized(got), normalized(want)) {
		t.Fatalf("%T from %q:\n got %+v\nwant %+v", got, doc, got, want)
	}
}

// normalized turns raw messages into strings so that DeepEqual compares
// their bytes, not whether they alias the document.
func normalized(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

// TestFastDecodingMatchesTheLibraryOnRealPages decodes what the fake serves
// — Cloud and Data Center search pages with every field the adapter asks
// for, a bulkfetch answer — both ways. A field added to the response types
// without the fast path knowing shows up here.
func TestFastDecodingMatchesTheLibraryOnRealPages(t *testing.T) {
	for _, dep := range []fakejira.Deployment{fakejira.DeploymentCloud, fakejira.DeploymentDataCenter} {
		t.Run(string(dep), func(t *testing.T) {
			srv, src, st := discoveredFake(t, dep, 3, 300)
			now, ctx := fakejira.DefaultGenerateEnd, context.Background()
			pg := src.newPager(st, jqlBuilder{user: src.cfg.JQL, loc: st.loc}.scope(now.Add(-120*24*time.Hour)), api.Query{}, st.searchFields(), 100)
			var ids []string
			for pages := 0; pages < 10; pages++ {
				page, err := pg.Next(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, raw := range page.Items {
					var fast, lib rawIssue
					if err := fast.decodeBody(raw); err != nil {
						t.Fatal(err)
					}
					if err := json.Unmarshal(raw, &lib); err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(normalized(fast), normalized(lib)) {
						t.Fatalf("issue %s splits differently", lib.ID)
					}
					ids = append(ids, lib.ID)
					for name, value := range lib.Fields {
						for _, target := range fieldTargets() {
							fastV, libV := reflect.New(target), reflect.New(target)
							fastErr, libErr := unmarshalFast(value, fastV.Interface()), json.Unmarshal(value, libV.Interface())
							if (fastErr == nil) != (libErr == nil) {
								t.Fatalf("issue %s field %s into %v: error %v, library %v", lib.ID, name, target, fastErr, libErr)
							}
							if fastErr == nil && !reflect.DeepEqual(fastV.Interface(), libV.Interface()) {
								t.Fatalf("issue %s field %s into %v:\n fast %+v\n  lib %+v", lib.ID, name, target, fastV.Elem(), libV.Elem())
							}
						}
					}
				}
				if page.Last {
					break
				}
			}
			if !st.cloud() {
				return
			}
			var body bytes.Buffer
			_ = json.NewEncoder(&body).Encode(bulkChangelogRequest{IssueIDsOrKeys: ids, FieldIDs: []string{"status", "resolution"}, MaxResults: 10000})
			resp := fetchRaw(t, srv.URL+"/rest/api/2/changelog/bulkfetch", body.String())
			var fast, lib bulkChangelogResponse
			if err := fast.DecodeBody(resp); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(resp, &lib); err != nil {
				t.Fatal(err)
			}
			if len(lib.IssueChangeLogs) == 0 || !reflect.DeepEqual(fast, lib) {
				t.Fatalf("bulkfetch decodes differently (%d issues)", len(lib.IssueChangeLogs))
			}
		})
	}
}

// discoveredFake starts a fake site of the deployment with n generated
// tickets at fakejira.DefaultGenerateEnd and a source that discovered it.
func discoveredFake(tb testing.TB, dep fakejira.Deployment, seed uint64, n int) (*fakejira.Server, *Source, *site) {
	tb.Helper()
	now := fakejira.DefaultGenerateEnd
	srv := fakejira.New(fakejira.Options{Deployment: dep, Now: func() time.Time { return now }})
	tb.Cleanup(srv.Close)
	srv.Add(fakejira.Generate(seed, n, fakejira.GenerateOptions{End: now})...)
	cfg := testConfig(srv.URL)
	cfg.JQL = "project in (IT, HR, FAC)"
	auth := promconfig.HTTPClientConfig{BasicAuth: &promconfig.BasicAuth{Username: fakejira.DefaultEmail, Password: promconfig.Secret(fakejira.DefaultAPIToken)}}
	if dep == fakejira.DeploymentDataCenter {
		auth = promconfig.HTTPClientConfig{Authorization: &promconfig.Authorization{Type: "Bearer", Credentials: promconfig.Secret(fakejira.DefaultPAT)}}
	}
	src, err := New("fake", cfg, auth, source.Env{Now: func() time.Time { return now }})
	if err != nil {
		tb.Fatal(err)
	}
	st, err := src.ensureSite(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return srv, src, st
}

// fieldTargets are the types fields are read into.
func fieldTargets() []reflect.Type {
	return []reflect.Type{
		reflect.TypeFor[flexTime](), reflect.TypeFor[statusField](), reflect.TypeFor[*user](), reflect.TypeFor[commentField](),
		reflect.TypeFor[*slaValue](), reflect.TypeFor[*requestTypeValue](), reflect.TypeFor[struct {
			Name string `json:"name"`
			Key  string `json:"key"`
		}](),
	}
}

func fetchRaw(t testing.TB, url, body string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(fakejira.DefaultEmail, fakejira.DefaultAPIToken)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	resp, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(resp), "{") {
		t.Fatalf("bulkfetch answered %.200s", resp)
	}
	return resp
}

// TestNextSpecial checks the eight-bytes-at-a-time search against the
// byte-by-byte one: every byte value at every position of a word, among
// plain bytes and among bytes with the high bit set, with a second special
// byte after the first, and at every offset of a short tail.
func TestNextSpecial(t *testing.T) {
	special := func(c byte) bool { return c == '"' || c == '\\' || c < 0x20 }
	want := func(b []byte) int {
		for i, c := range b {
			if special(c) {
				return i
			}
		}
		return len(b)
	}
	for _, fill := range []byte{'a', 0xff, 0x80, 0x7f, ' ', 0xa0} {
		for _, n := range []int{8, 11, 16, 5} {
			for pos := range n {
				for c := range 256 {
					b := bytes.Repeat([]byte{fill}, n)
					b[pos] = byte(c)
					if pos+1 < n {
						b[n-1] = '"' // a later special byte must not win
					}
					if got, w := nextSpecial(b, 0), want(b); got != w {
						t.Fatalf("nextSpecial(%q) = %d, want %d", b, got, w)
					}
				}
			}
		}
	}
}

// TestDecodedTicketsKeepNoPageBytes: search page buffers are reused once a
// page is decoded, so nothing decoded from a page may point into it. The
// page's bytes are overwritten after decoding; the tickets must equal those
// decoded from an untouched copy of the same page.
func TestDecodedTicketsKeepNoPageBytes(t *testing.T) {
	for _, dep := range []fakejira.Deployment{fakejira.DeploymentCloud, fakejira.DeploymentDataCenter} {
		t.Run(string(dep), func(t *testing.T) {
			_, src, st := discoveredFake(t, dep, 4, 200)
			now, ctx := fakejira.DefaultGenerateEnd, context.Background()
			tickets := siteTickets{src: src, st: st}
			decodePage := func() ([]*pending, api.Page) {
				t.Helper()
				page, err := tickets.Pages(api.Query{Horizon: now.Add(-200 * 24 * time.Hour)}).Next(ctx)
				if err != nil {
					t.Fatal(err)
				}
				var out []*pending
				if len(page.Parsed) != len(page.Items) {
					t.Fatalf("a page of %d issues came with %d split", len(page.Items), len(page.Parsed))
				}
				for i, raw := range page.Items {
					p, _, err := tickets.Decode(raw, page.Parsed[i])
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, p)
				}
				return out, page
			}
			scribbled, page := decodePage()
			for _, raw := range page.Items {
				for i := range raw {
					raw[i] = 'x'
				}
			}
			page.Release() // and the buffer goes to the next page
			fresh, _ := decodePage()
			if len(scribbled) == 0 || !reflect.DeepEqual(scribbled, fresh) {
				t.Fatal("tickets decoded from a page changed when its bytes were overwritten: something keeps a slice of the page")
			}
		})
	}
}

// TestChangelogAnswersKeepNoBufferBytes: the histories of a bulkfetch
// answer outlive its recycled buffer.
func TestChangelogAnswersKeepNoBufferBytes(t *testing.T) {
	const answer = `{"issueChangeLogs":[{"issueId":"10","changeHistories":[{"id":"1","created":"2026-01-01T10:00:00.000+0000",` +
		`"items":[{"field":"status","fieldId":"status","from":"1","fromString":"Open","to":3,"toString":"In \u0050rogress"}]}]}],"nextPageToken":"n\/2"}`
	var want bulkChangelogResponse
	if err := json.Unmarshal([]byte(answer), &want); err != nil {
		t.Fatal(err)
	}
	var got changelogBody
	buf := append(got.Buffer(len(answer)), answer...)
	if err := got.DecodeBody(buf); err != nil {
		t.Fatal(err)
	}
	got.release()
	for i := range buf {
		buf[i] = 'x'
	}
	if !reflect.DeepEqual(got.bulkChangelogResponse, want) {
		t.Fatalf("histories changed with their buffer:\n got %+v\nwant %+v", got.bulkChangelogResponse, want)
	}
}
