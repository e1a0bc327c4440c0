package fakejira

import (
	"sort"
	"strconv"
	"strings"
)

// A concurrent initial sync asks for the same scope in a hundred id ranges
// ("<scope> AND id > a AND id <= b ORDER BY id ASC"), and evaluating each
// against every issue made the fake's JQL the largest part of its CPU in
// the performance harness. When a query is its scope narrowed by trailing
// id bounds, the scope is evaluated once (and cached as any query is) and
// the range is cut out of it by binary search: the same issues in the same
// order, exactly, because AND binds tighter than OR only matters when the
// scope has an OR at its top level, and then the query is not split.

// splitIDRange returns the scope query of jql and its id bounds (through 0:
// none) when jql is "<scope> AND id > a [AND id <= b] ORDER BY id [ASC]"
// with no OR at the top level of the scope.
func splitIDRange(jql string) (scope string, after, through int64, ok bool) {
	toks, err := lexJQL(jql)
	if err != nil {
		return "", 0, 0, false
	}
	word := func(i int, w string) bool {
		return i >= 0 && i < len(toks) && toks[i].kind == tokWord && strings.EqualFold(toks[i].text, w)
	}
	// ORDER BY id [ASC] <EOF>
	end := len(toks) - 1 // the EOF token
	if word(end-1, "ASC") {
		end--
	}
	if !word(end-1, "id") || !word(end-2, "BY") || !word(end-3, "ORDER") {
		return "", 0, 0, false
	}
	orderAt := end - 3
	// Trailing "AND id > n" and "AND id <= n" clauses.
	cut := orderAt
	for cut >= 4 && word(cut-4, "AND") && word(cut-3, "id") && toks[cut-2].kind == tokOp && toks[cut-1].kind == tokWord {
		n, err := strconv.ParseInt(toks[cut-1].text, 10, 64)
		if err != nil {
			return "", 0, 0, false
		}
		switch toks[cut-2].text {
		case ">":
			if after != 0 {
				return "", 0, 0, false
			}
			after = n
		case "<=":
			if through != 0 {
				return "", 0, 0, false
			}
			through = n
		default:
			return "", 0, 0, false
		}
		cut -= 4
	}
	if cut == orderAt || cut == 0 || after == 0 && through == 0 {
		return "", 0, 0, false
	}
	depth := 0
	for _, t := range toks[:cut] {
		switch {
		case t.kind == tokLParen:
			depth++
		case t.kind == tokRParen:
			depth--
		case depth == 0 && t.kind == tokWord && strings.EqualFold(t.text, "OR"):
			return "", 0, 0, false
		}
	}
	return jql[:toks[cut].pos] + " ORDER BY id ASC", after, through, true
}

// idRange cuts the issues with after < id <= through (0: no bound) out of
// issues sorted by ascending id.
func idRange(issues []*Issue, after, through int64) []*Issue {
	lo := sort.Search(len(issues), func(i int) bool { return issues[i].ID > after })
	hi := len(issues)
	if through > 0 {
		hi = sort.Search(len(issues), func(i int) bool { return issues[i].ID > through })
	}
	if hi < lo {
		hi = lo
	}
	return issues[lo:hi:hi]
}
