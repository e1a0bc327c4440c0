package fakejira

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The performance harness runs the fake in the same two cores as the
// exporter it measures, and rendering search pages (maps of values through
// encoding/json, ~10 ms a page) made the fake cost about as much CPU as the
// exporter, serialised under the server's lock. With Options.CacheRenders a
// field of an issue is rendered once per data version, Prerender does that
// for every issue before the run, and search pages are assembled from those
// bytes. The result is byte for byte what writeJSON sends
// (TestCachedRendersAreByteIdentical); the price is that SLA clocks of open
// tickets freeze at the render, so it is for the harness, not for tests
// that compare against Truth at a moving clock.

// preEncoded is a value already rendered as JSON (no HTML escaping, no
// trailing newline).
type preEncoded []byte

// MarshalJSON lets encoding/json write a cached value where the fast
// assembly is not used.
func (p preEncoded) MarshalJSON() ([]byte, error) { return p, nil }

type renderCache struct {
	version   uint64
	fields    map[int64]map[string]preEncoded // issue id → field id → value
	histories map[historyKey]preEncoded
	// complete holds, for issues Prerender rendered, every field in id
	// order: a search page is then assembled without building maps.
	complete map[int64][]renderedField
}

type renderedField struct {
	id    string
	value preEncoded
}

// historyKey is one changelog entry as bulkfetch renders it for a set of
// fieldIds.
type historyKey struct {
	issue  int64
	index  int
	fields string // the fieldIds, sorted and joined
	epoch  bool
}

// current empties the cache if the data changed since it was filled.
func (c *renderCache) current(version uint64) {
	if c.version != version || c.fields == nil {
		*c = renderCache{version: version, fields: map[int64]map[string]preEncoded{}, histories: map[historyKey]preEncoded{},
			complete: map[int64][]renderedField{}}
	}
}

// fieldValue is put's value for one field of an issue: rendered now, or
// from the cache. Called with s.mu held.
func (s *Server) fieldValue(is *Issue, id string, value func() any) any {
	if !s.opts.CacheRenders {
		return value()
	}
	s.renders.current(s.version)
	byField := s.renders.fields[is.ID]
	if v, ok := byField[id]; ok {
		return v
	}
	encoded := preEncoded(appendJSON(nil, value()))
	if byField == nil {
		byField = map[string]preEncoded{}
		s.renders.fields[is.ID] = byField
	}
	byField[id] = encoded
	return encoded
}

// historyValue is one changelog entry of a bulkfetch answer: rendered now,
// or from the cache. Called with s.mu held.
func (s *Server) historyValue(is *Issue, index int, fieldIDs map[string]bool, epoch bool) any {
	h := &is.Histories[index]
	if !s.opts.CacheRenders {
		return s.renderHistory(filterHistory(h, fieldIDs), epoch)
	}
	s.renders.current(s.version)
	key := historyKey{issue: is.ID, index: index, fields: fieldSignature(fieldIDs), epoch: epoch}
	if v, ok := s.renders.histories[key]; ok {
		return v
	}
	v := preEncoded(appendJSON(nil, s.renderHistory(filterHistory(h, fieldIDs), epoch)))
	s.renders.histories[key] = v
	return v
}

func fieldSignature(fieldIDs map[string]bool) string {
	ids := make([]string, 0, len(fieldIDs))
	for id := range fieldIDs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return strings.Join(ids, ",")
}

// Prerender renders every field of every issue into the cache, and their
// changelog entries as a bulkfetch for changelogFields renders them, so
// that the searches and bulkfetches of a performance run cost the fake a
// copy of bytes. It does nothing without Options.CacheRenders; a change to
// the data empties the cache again.
func (s *Server) Prerender(changelogFields ...string) {
	if !s.opts.CacheRenders {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	all := parseFieldSelection([]string{"*all"}, true)
	fieldIDs := map[string]bool{}
	for _, f := range changelogFields {
		fieldIDs[f] = true
	}
	for _, is := range s.issues {
		_ = s.renderIssue(is, all, false)
		byField := s.renders.fields[is.ID]
		sorted := make([]renderedField, 0, len(byField))
		for id, v := range byField {
			sorted = append(sorted, renderedField{id: id, value: v})
		}
		slices.SortFunc(sorted, func(a, b renderedField) int { return strings.Compare(a.id, b.id) })
		s.renders.complete[is.ID] = sorted
		for i := range is.Histories {
			if len(changelogFields) > 0 && historyTouches(&is.Histories[i], fieldIDs) {
				_ = s.historyValue(is, i, fieldIDs, s.opts.ChangelogCreatedAsEpoch)
			}
		}
	}
}

// writeCachedSearchPage writes a Cloud search page of issues Prerender
// rendered, as writeJSON would write the maps renderIssue builds; false if
// one of them is not in the cache (or changelogs are expanded), and nothing
// was written. Called with s.mu held.
func (s *Server) writeCachedSearchPage(w http.ResponseWriter, issues []*Issue, sel fieldSelection, isLast bool, token string) bool {
	if !s.opts.CacheRenders || s.renders.version != s.version {
		return false
	}
	buf := renderBuffers.Get().(*[]byte)
	defer renderBuffers.Put(buf)
	b := append((*buf)[:0], `{"isLast":`...)
	b = strconv.AppendBool(b, isLast)
	b = append(b, `,"issues":[`...)
	withKey := !sel.idOnly() || sel.include["key"]
	for i, is := range issues {
		fields, ok := s.renders.complete[is.ID]
		if !ok {
			return false
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		if withKey {
			b = append(b, `"expand":"renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",`...)
		}
		n := 0
		for _, f := range fields {
			if !sel.wants(f.id) {
				continue
			}
			if n == 0 {
				b = append(b, `"fields":{`...)
			} else {
				b = append(b, ',')
			}
			n++
			b = appendJSON(b, f.id)
			b = append(b, ':')
			b = append(b, f.value...)
		}
		if n > 0 {
			b = append(b, "},"...)
		}
		b = append(b, `"id":`...)
		b = appendJSON(b, strconv.FormatInt(is.ID, 10))
		if withKey {
			b = append(b, `,"key":`...)
			b = appendJSON(b, is.Key)
		}
		b = append(b, `,"self":`...)
		b = appendJSON(b, s.URL+"/rest/api/2/issue/"+strconv.FormatInt(is.ID, 10))
		b = append(b, '}')
	}
	b = append(b, ']')
	if token != "" {
		b = append(b, `,"nextPageToken":`...)
		b = appendJSON(b, token)
	}
	b = append(b, '}')
	*buf = b
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	return true
}

// writeRendered is writeJSON for a response holding cached values: the
// same bytes, without encoding/json re-validating the cached ones.
func (s *Server) writeRendered(w http.ResponseWriter, status int, v any) {
	if !s.opts.CacheRenders {
		writeJSON(w, status, v)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	buf := renderBuffers.Get().(*[]byte)
	*buf = appendJSON((*buf)[:0], v)
	_, _ = w.Write(*buf)
	renderBuffers.Put(buf)
}

// renderBuffers recycles page buffers: a page is half a megabyte.
var renderBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1<<20); return &b }}

// appendJSON appends v as writeJSON renders it: maps with sorted keys, no
// HTML escaping, cached values as they are.
func appendJSON(buf []byte, v any) []byte {
	switch x := v.(type) {
	case preEncoded:
		return append(buf, x...)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		buf = append(buf, '{')
		for i, k := range keys {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSON(buf, k)
			buf = append(buf, ':')
			buf = appendJSON(buf, x[k])
		}
		return append(buf, '}')
	case []any:
		buf = append(buf, '[')
		for i, e := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSON(buf, e)
		}
		return append(buf, ']')
	case string:
		if plainString(x) {
			buf = append(buf, '"')
			buf = append(buf, x...)
			return append(buf, '"')
		}
	case bool:
		return strconv.AppendBool(buf, x)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only bad test data gets here; writeJSON reports it the same way.
		return append(buf, `null`...)
	}
	return append(buf, bytes.TrimSuffix(b.Bytes(), []byte("\n"))...)
}

// plainString reports a string encoding/json writes as it is between
// quotes: printable ASCII without quotes or backslashes.
func plainString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
