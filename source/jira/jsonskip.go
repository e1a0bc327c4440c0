package jira

import "bytes"

// skipValid returns the offset just after the value starting at data[i],
// which must be valid JSON with no leading space: a value the page split
// (searchJQLPage.DecodeBody, searchPage.DecodeBody) already validated. It
// does not validate again — most of an issue is values the adapter never
// reads, and validating each byte a second time was a quarter of decoding
// an issue — so on invalid input it returns some offset in [i+1,
// len(data)], never panicking.
func skipValid(data []byte, i int) int {
	if i >= len(data) {
		return len(data)
	}
	switch data[i] {
	case '"':
		return skipValidString(data, i)
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				i = skipValidString(data, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(data)
	}
	// A number or a literal ends at the byte that ends a member or an
	// element.
	for i++; i < len(data); i++ {
		switch data[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return i
}

// skipValidString returns the offset just after the string starting at
// data[i] == '"'.
func skipValidString(data []byte, i int) int {
	for j := i + 1; j < len(data); {
		k := bytes.IndexByte(data[j:], '"')
		if k < 0 {
			return len(data)
		}
		j += k
		// The quote is escaped if an odd number of backslashes precede it.
		b := j
		for b > i+1 && data[b-1] == '\\' {
			b--
		}
		j++
		if (j-1-b)%2 == 0 {
			return j
		}
	}
	return len(data)
}
