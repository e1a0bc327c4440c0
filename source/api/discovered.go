package api

import "sync"

// Discovered keeps what a source learns about its site on first use (API
// version, field ids, time zone) for the life of the process. Unlike
// sync.OnceValues it does not keep a failure: a site that was unreachable
// at start is discovered by the first poll after it comes back.
type Discovered[T any] struct {
	mu sync.Mutex
	v  *T
}

// Get returns the kept value, or runs discover (one caller at a time) and
// keeps its result if it succeeded.
func (d *Discovered[T]) Get(discover func() (*T, error)) (*T, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.v != nil {
		return d.v, nil
	}
	v, err := discover()
	if err != nil {
		return nil, err
	}
	d.v = v
	return v, nil
}
