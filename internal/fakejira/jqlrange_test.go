package fakejira

import (
	"slices"
	"strconv"
	"testing"
)

// TestIDRangeQueriesMatchFullEvaluation: a query split into its scope and
// id bounds returns exactly what evaluating it whole against every issue
// returns, and queries where the split would change the meaning are not
// split.
func TestIDRangeQueriesMatchFullEvaluation(t *testing.T) {
	srv := newTestServer(t, Options{})
	srv.Add(Generate(9, 400, GenerateOptions{End: fixedNow})...)
	ids := make([]int64, 0, 400)
	for _, is := range srv.Issues() {
		ids = append(ids, is.ID)
	}
	a, b := ids[57], ids[301]
	scope := `(project in (IT, HR, FAC)) AND (updated >= "2025-12-01 00:00" OR statusCategory != Done)`
	tests := []struct {
		jql   string
		split bool
	}{
		{scope + " AND id > " + strconv.FormatInt(a, 10) + " AND id <= " + strconv.FormatInt(b, 10) + " ORDER BY id ASC", true},
		{scope + " AND id > " + strconv.FormatInt(a, 10) + " ORDER BY id ASC", true},
		{scope + " AND id <= " + strconv.FormatInt(b, 10) + " order by id", true},
		{scope + " AND id > 0 AND id <= 1 ORDER BY id ASC", true},
		{"project = IT OR project = HR AND id > " + strconv.FormatInt(a, 10) + " ORDER BY id ASC", false}, // AND binds tighter
		{scope + " AND id >= " + strconv.FormatInt(a, 10) + " ORDER BY id ASC", false},
		{scope + " AND id > " + strconv.FormatInt(a, 10) + " ORDER BY id DESC", false},
		{scope + " AND id > " + strconv.FormatInt(a, 10) + " ORDER BY updated ASC", false},
		{"id > " + strconv.FormatInt(a, 10) + " ORDER BY id ASC", false},
	}
	for _, tt := range tests {
		_, _, _, ok := splitIDRange(tt.jql)
		if ok != tt.split {
			t.Errorf("splitIDRange(%q) = %v, want %v", tt.jql, ok, tt.split)
		}
		srv.mu.Lock()
		got, _, err := srv.query(tt.jql)
		if err != nil {
			srv.mu.Unlock()
			t.Fatalf("%s: %v", tt.jql, err)
		}
		q, err := parseJQL(tt.jql, srv.jqlEnv())
		if err != nil {
			srv.mu.Unlock()
			t.Fatal(err)
		}
		var want []*Issue
		for _, is := range srv.issues {
			if q.where(is) {
				want = append(want, is)
			}
		}
		sortIssues(want, q.order)
		srv.mu.Unlock()
		if !slices.Equal(got, want) {
			t.Errorf("%s: %d issues, whole evaluation %d", tt.jql, len(got), len(want))
		}
	}
}
