package rt

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"

	"github.com/servicedesk-exporter/servicedesk_exporter/source/api"
)

// maxCachedUsers bounds the privilege cache: a desk has far fewer people
// who reply without being a requestor (agents, mostly).
const maxCachedUsers = 10000

// userCache remembers who is privileged, for the process: REST2 computes
// Privileged only in GET /user/{name}, one user per request (REST2.md).
type userCache struct {
	mu         sync.Mutex
	max        int
	privileged map[string]bool
}

func newUserCache(limit int) *userCache {
	return &userCache{max: limit, privileged: map[string]bool{}}
}

func (c *userCache) get(name string) (privileged, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	privileged, ok = c.privileged[name]
	return privileged, ok
}

func (c *userCache) put(name string, privileged bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.privileged[name]; !ok && len(c.privileged) >= c.max {
		// Full: forget one. Any will do; it is looked up again if needed.
		for other := range c.privileged {
			delete(c.privileged, other)
			break
		}
	}
	c.privileged[name] = privileged
}

// privileged reports for each name whether that user is privileged (an
// agent rather than a customer), looking up the ones not cached yet.
func (s *Source) privileged(ctx context.Context, c *api.Client, names []string) (map[string]bool, error) {
	out := make(map[string]bool, len(names))
	for _, name := range names {
		if p, ok := s.users.get(name); ok {
			out[name] = p
			continue
		}
		u, err := s.lookupUser(ctx, c, name)
		if err != nil {
			return nil, err
		}
		p := u.Privileged.Set && u.Privileged.Value == 1
		s.users.put(name, p)
		out[name] = p
	}
	return out, nil
}

// lookupUser reads one user; a user RT does not know (renamed since) is
// a nobody, not a failure.
func (s *Source) lookupUser(ctx context.Context, c *api.Client, name string) (restUser, error) {
	var u restUser
	err := c.Do(ctx, api.Request{Endpoint: endpointUser, Method: http.MethodGet, Path: restPrefix + "user/" + url.PathEscape(name)}, &u)
	if api.StatusCode(err) == http.StatusNotFound {
		s.logger.Debug("a transaction names a user RT does not know; taken as not privileged", "user", name)
		return restUser{}, nil
	}
	if err != nil {
		return restUser{}, fmt.Errorf("look up user %s: %w", name, s.explain(err))
	}
	return u, nil
}
