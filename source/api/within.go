package api

import (
	"context"
	"fmt"
	"time"
)

// DoWithin is Do with the wait for an answer bounded by wait when it is
// positive, for a check a person waits on; an answer that did not come in
// time says so. A wait of 0 is Do.
func (c *Client) DoWithin(ctx context.Context, wait time.Duration, req Request, out any) error {
	if wait <= 0 {
		return c.Do(ctx, req, out)
	}
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	err := c.Do(waitCtx, req, out)
	if err != nil && ctx.Err() == nil && waitCtx.Err() != nil {
		return fmt.Errorf("no answer within %s: %w", wait, err)
	}
	return err
}
