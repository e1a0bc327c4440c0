package jira

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/servicedesk-exporter/servicedesk_exporter/source/api"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// Request sizes of the follow-up endpoints.
const (
	bulkChangelogIssues  = 1000  // changelog/bulkfetch: issueIdsOrKeys max
	bulkChangelogResults = 10000 // changelog/bulkfetch: maxResults max
	followUpPageSize     = 100   // comment pages
	maxFollowUpPages     = 200   // per ticket: 20,000 comments
)

// complete fills in what search results leave out, with as few requests as
// the API allows: one changelog bulkfetch per 1000 tickets on Cloud, and
// per-ticket requests only for overflowing comments, overflowing Data Center
// changelogs or unreadable ratings.
func (src *Source) complete(ctx context.Context, st *site, batch []*pending) error {
	if st.cloud() && len(batch) > 0 {
		if err := src.bulkChangelogs(ctx, batch); err != nil {
			return err
		}
	}
	refreshed := false
	for _, p := range batch {
		if p.changelogMore {
			if err := src.issueChangelog(ctx, p); err != nil {
				return err
			}
		}
		categories, names := st.statusMaps()
		c := changeFacts(p.histories, categories, names)
		if st.newStatuses(c.unlisted) {
			if !refreshed {
				// A status created since start-up? Re-read the list, once
				// per batch, and not again for ids it still lacks.
				refreshed = true
				if err := src.loadStatuses(ctx, src.api, st); err != nil {
					return err
				}
				categories, names = st.statusMaps()
				c = changeFacts(p.histories, categories, names)
			}
			if retired := st.retire(c.unlisted); len(retired) > 0 {
				src.logger.Info("changelogs name statuses the site no longer lists; they are placed by name or by the resolution changes where possible, other changes of them are left out (servicedesk_api_values_skipped_total{reason=\"status_unmapped\"})",
					"status_ids", strings.Join(retired, ","))
			}
		}
		if c.unmapped > 0 {
			src.logger.Debug("status changes left out: a status the site no longer lists", "ticket", p.t.Key, "changes", c.unmapped, "status_ids", c.unlisted)
		}
		p.t.Transitions, p.t.Resolutions = c.transitions, c.resolutions
		p.skipped.statusChanges = c.unmapped
		endInDone(&p.t)

		if state := p.applyComments(src.automation); p.needsMoreComments(state) {
			if err := src.moreComments(ctx, st, p); err != nil {
				return err
			}
		}
		if p.needFeedback {
			if err := src.feedback(ctx, p); err != nil {
				return err
			}
		}
		p.skipped.report(src.metrics, src.name)
	}
	return nil
}

// bulkChangelogs fetches status and resolution history for the batch in
// calls of up to 1000 issues, following the response's page token.
func (src *Source) bulkChangelogs(ctx context.Context, batch []*pending) error {
	byID := make(map[string]*pending, len(batch))
	for _, p := range batch {
		byID[p.t.ID] = p
		p.histories = nil // the inline changelog is truncated; bulkfetch is complete
	}
	for start := 0; start < len(batch); start += bulkChangelogIssues {
		end := min(start+bulkChangelogIssues, len(batch))
		ids := make([]string, 0, end-start)
		for _, p := range batch[start:end] {
			ids = append(ids, p.t.ID)
		}
		body := bulkChangelogRequest{IssueIDsOrKeys: ids, FieldIDs: []string{"status", "resolution"}, MaxResults: bulkChangelogResults}
		for page := 0; ; page++ {
			if page >= src.cfg.MaxPages {
				return fmt.Errorf("changelog bulkfetch: more than %d pages (jira.max_pages)", src.cfg.MaxPages)
			}
			var resp changelogBody
			err := src.api.Do(ctx, api.Request{Endpoint: "changelog_bulkfetch", Method: http.MethodPost,
				Path: "rest/api/2/changelog/bulkfetch", Body: body}, &resp)
			resp.release()
			if err != nil {
				return fmt.Errorf("fetch changelogs: %w", src.explain(err))
			}
			for _, l := range resp.IssueChangeLogs {
				if p := byID[l.IssueID]; p != nil {
					p.histories = append(p.histories, l.ChangeHistories...)
				}
			}
			if resp.NextPageToken == "" || len(resp.IssueChangeLogs) == 0 {
				break
			}
			body.NextPageToken = resp.NextPageToken
		}
	}
	return nil
}

// issueChangelog completes a changelog that Data Center's search embedded
// only in part (its most recent histories): the issue resource with
// expand=changelog carries the whole history there. Cloud never needs this,
// bulkfetch is complete.
func (src *Source) issueChangelog(ctx context.Context, p *pending) error {
	q := url.Values{"fields": {"status"}, "expand": {"changelog"}}
	var is rawIssue
	err := src.api.Do(ctx, api.Request{Endpoint: "issue", Method: http.MethodGet,
		Path: "rest/api/2/issue/" + p.t.ID, Query: q}, &is)
	if api.StatusCode(err) == http.StatusNotFound {
		src.logger.Debug("ticket vanished while reading its changelog", "ticket", p.t.Key)
		return nil
	}
	if err != nil {
		return fmt.Errorf("fetch changelog of %s: %w", p.t.Key, src.explain(err))
	}
	if is.Changelog == nil {
		return nil
	}
	if is.Changelog.Total > len(is.Changelog.Histories) {
		src.logger.Warn("jira returned a shortened changelog; this ticket keeps only its most recent changes",
			"ticket", p.t.Key, "histories", len(is.Changelog.Histories), "total", is.Changelog.Total)
	}
	// changeFacts drops the histories the search copy already held.
	p.histories = append(is.Changelog.Histories, p.histories...)
	return nil
}

// moreComments pages the ticket's comments, oldest first, only until a
// public agent comment appears: later comments cannot change the first
// response. When the search copy left an agent comment's visibility open
// (Data Center), the comments are re-read from the start with properties.
func (src *Source) moreComments(ctx context.Context, st *site, p *pending) error {
	state := p.applyComments(src.automation)
	startAt := 0
	if p.commentsFrom == 0 && !state.unsure {
		startAt = len(p.comments) // continue after the embedded window
	}
	expand := !st.cloud() // Cloud comments carry jsdPublic
	for range maxFollowUpPages {
		q := url.Values{"startAt": {strconv.Itoa(startAt)}, "maxResults": {strconv.Itoa(followUpPageSize)}, "orderBy": {"created"}}
		if expand {
			q.Set("expand", "properties") // sd.public.comment marks internal notes
		}
		var page commentPage
		err := src.api.Do(ctx, api.Request{Endpoint: "issue_comment", Method: http.MethodGet,
			Path: "rest/api/2/issue/" + p.t.ID + "/comment", Query: q}, &page)
		if api.StatusCode(err) == http.StatusNotFound {
			src.logger.Debug("ticket vanished while reading its comments", "ticket", p.t.Key)
			return nil
		}
		if err != nil {
			return fmt.Errorf("fetch comments of %s: %w", p.t.Key, src.explain(err))
		}
		for i := range page.Comments {
			page.Comments[i].expanded = expand
		}
		p.comments = append(p.comments, page.Comments...)
		p.commentsTotal = max(p.commentsTotal, page.Total)
		startAt += len(page.Comments)
		state = p.applyComments(src.automation)
		if state.answered || len(page.Comments) == 0 || startAt >= page.Total {
			return nil
		}
	}
	return fmt.Errorf("comments of %s: more than %d pages", p.t.Key, maxFollowUpPages)
}

// feedback reads the rating of a ticket whose Satisfaction date is set but
// whose Satisfaction value could not be read from the search result.
func (src *Source) feedback(ctx context.Context, p *pending) error {
	var fb feedback
	err := src.api.Do(ctx, api.Request{Endpoint: "request_feedback", Method: http.MethodGet,
		Path:   "rest/servicedeskapi/request/" + p.t.Key + "/feedback",
		Header: http.Header{"X-ExperimentalApi": {"opt-in"}}}, &fb)
	if code := api.StatusCode(err); code == http.StatusNotFound || code == http.StatusForbidden {
		src.logger.Debug("no feedback readable for a rated ticket", "ticket", p.t.Key, "status", code)
		p.t.Satisfaction = nil
		return nil
	}
	if err != nil {
		return fmt.Errorf("fetch feedback of %s: %w", p.t.Key, src.explain(err))
	}
	value, present, derr := decodeRating(fb.Rating)
	if derr != nil || !present {
		src.logger.Warn("feedback of a rated ticket holds no readable rating", "ticket", p.t.Key)
		p.t.Satisfaction = nil
		return nil
	}
	p.t.Satisfaction = &ticket.Rating{Value: value, At: p.t.Satisfaction.At}
	return nil
}
