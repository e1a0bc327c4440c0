package rtserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// restPrefix is where REST2 lives under the web base URL.
const restPrefix = "/REST/2.0"

// Response is one REST2 answer as received.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends one REST2 request as the given user. path is relative to
// /REST/2.0 and may carry a query string; body, when not nil, is sent as
// JSON (a []byte is sent as is).
func (s *Server) Do(t testing.TB, as Credentials, method, path string, body any) Response {
	t.Helper()
	status, header, data, err := s.request(as, method, path, body)
	if err != nil {
		t.Fatal(err)
	}
	return Response{Status: status, Header: header, Body: data}
}

// Call sends a REST2 request that must succeed (2xx) and decodes the
// answer into out unless out is nil.
func (s *Server) Call(t testing.TB, as Credentials, method, path string, body, out any) {
	t.Helper()
	r := s.Do(t, as, method, path, body)
	if r.Status/100 != 2 {
		t.Fatalf("%s %s as %s: status %d: %s", method, path, as.User, r.Status, r.Body)
	}
	if out == nil {
		return
	}
	if err := json.Unmarshal(r.Body, out); err != nil {
		t.Fatalf("%s %s: decode %T: %v\n%s", method, path, out, err, r.Body)
	}
}

func (s *Server) request(as Credentials, method, path string, body any) (int, http.Header, []byte, error) {
	payload, err := jsonBody(body)
	if err != nil {
		return 0, nil, nil, err
	}
	req, err := http.NewRequest(method, s.URL+restPrefix+path, bytes.NewReader(payload))
	if err != nil {
		return 0, nil, nil, err
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	as.authorize(req)
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s %s: read: %w", method, path, err)
	}
	return resp.StatusCode, resp.Header, data, nil
}

// Page is one page of a REST2 collection. Total, Pages and NextPage are
// pointers because REST2 sends null for them when it does not count
// (transactions and history for a non-superuser); Pages is a float
// because an empty result says "pages": 0.0.
type Page struct {
	Count    int               `json:"count"`
	Page     int               `json:"page"`
	PerPage  int               `json:"per_page"`
	Total    *int              `json:"total"`
	Pages    *float64          `json:"pages"`
	NextPage *string           `json:"next_page"`
	PrevPage *string           `json:"prev_page"`
	Items    []json.RawMessage `json:"items"`
}

// All reads every page of a collection (path with its query string but
// without page/per_page) until a short page, per_page 100, at most
// maxPages pages.
func (s *Server) All(t testing.TB, as Credentials, path string, maxPages int) []json.RawMessage {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var items []json.RawMessage
	for page := 1; page <= maxPages; page++ {
		var p Page
		s.Call(t, as, http.MethodGet, fmt.Sprintf("%s%sper_page=100&page=%d", path, sep, page), nil, &p)
		items = append(items, p.Items...)
		if len(p.Items) < 100 {
			return items
		}
	}
	t.Fatalf("%s: more than %d pages", path, maxPages)
	return nil
}
