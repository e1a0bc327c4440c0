package api

import (
	"errors"
	"sync"
	"testing"
)

func TestDiscoveredRetriesFailuresAndKeepsSuccess(t *testing.T) {
	var d Discovered[int]
	calls := 0
	fail := errors.New("site down")
	discover := func(ok bool) func() (*int, error) {
		return func() (*int, error) {
			calls++
			if !ok {
				return nil, fail
			}
			v := calls
			return &v, nil
		}
	}
	if _, err := d.Get(discover(false)); !errors.Is(err, fail) {
		t.Fatalf("first Get: err %v, want %v", err, fail)
	}
	v, err := d.Get(discover(true))
	if err != nil || *v != 2 {
		t.Fatalf("second Get: %v, %v; want the value of the second discovery (2)", v, err)
	}
	v, err = d.Get(discover(false))
	if err != nil || *v != 2 || calls != 2 {
		t.Fatalf("third Get: %v, %v after %d discoveries; want the kept 2 without discovering again", v, err, calls)
	}
}

func TestDiscoveredRunsOneDiscoveryAtATime(t *testing.T) {
	var d Discovered[int]
	var mu sync.Mutex
	calls := 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, _ = d.Get(func() (*int, error) {
				mu.Lock()
				calls++
				mu.Unlock()
				v := 1
				return &v, nil
			})
		})
	}
	wg.Wait()
	if calls != 1 {
		t.Fatalf("%d concurrent first uses discovered %d times, want 1", 8, calls)
	}
}
