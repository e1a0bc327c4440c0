package config

import (
	"fmt"
	"math"
	"regexp"
	"strings"

	promconfig "github.com/prometheus/common/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/demo"
	"gopkg.in/yaml.v3"
)

// labelValueShape keeps source names usable as label values, file names and URL parts.
var labelValueShape = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

func (p *parser) source(i int, raw *rawSource, node *yaml.Node, firstUse map[string]int) (Source, error) {
	scope := fmt.Sprintf("sources[%d]", i)
	var src Source
	if !isSet(&raw.Name) {
		return src, p.errorf(node.Line, scope, "name is required")
	}
	name, err := p.str(field{node: &raw.Name, scope: scope, key: "name"})
	if err != nil {
		return src, err
	}
	if name == "" {
		return src, p.errorf(raw.Name.Line, scope, "name must not be empty")
	}
	if !labelValueShape.MatchString(name) {
		return src, p.errorf(raw.Name.Line, scope, "name %q may only contain letters, digits, '_', '.' and '-'", name)
	}
	if line, dup := firstUse[name]; dup {
		return src, p.errorf(raw.Name.Line, scope, "duplicate source name %q (first used on line %d)", name, line)
	}
	firstUse[name] = raw.Name.Line
	src.Name = name
	scope = fmt.Sprintf("source %q", name)

	if !isSet(&raw.Type) {
		return src, p.errorf(node.Line, scope, "type is required (demo or jira)")
	}
	if src.Type, err = p.str(field{node: &raw.Type, scope: scope, key: "type"}); err != nil {
		return src, err
	}
	switch src.Type {
	case TypeDemo:
		err = p.demoSource(raw, node, scope, &src)
	case TypeJira:
		err = p.jiraSource(raw, node, scope, &src)
	default:
		err = p.errorf(raw.Type.Line, scope, "unknown type %q (want demo or jira)", src.Type)
	}
	if err != nil {
		return src, err
	}

	if isSet(&raw.PollInterval) {
		if src.PollInterval, err = p.positiveDuration(field{node: &raw.PollInterval, scope: scope, key: "poll_interval"}); err != nil {
			return src, err
		}
	}
	return src, p.horizon(raw, scope, &src)
}

func (p *parser) horizon(raw *rawSource, scope string, src *Source) error {
	switch {
	case isSet(&raw.Lookback) && isSet(&raw.Since):
		return p.errorf(raw.Since.Line, scope, "set lookback or since, not both")
	case isSet(&raw.Since):
		since, err := p.date(field{node: &raw.Since, scope: scope, key: "since"})
		src.Since = since
		return err
	case isSet(&raw.Lookback):
		lookback, err := p.positiveDuration(field{node: &raw.Lookback, scope: scope, key: "lookback"})
		src.Lookback = lookback
		return err
	default:
		src.Lookback = DefaultLookback
		return nil
	}
}

func (p *parser) demoSource(raw *rawSource, node *yaml.Node, scope string, src *Source) error {
	for section, present := range map[string]bool{"jira": raw.Jira != nil, "http_client": raw.HTTPClient != nil} {
		if present {
			return p.errorf(lineOf(mappingKey(node, section), node), scope, "%s: does not apply to type demo; remove it or set type: jira", section)
		}
	}
	src.PollInterval = DefaultDemoPoll
	dc := demo.DefaultConfig()
	src.Demo = &dc
	if raw.Demo == nil {
		return nil
	}
	if isSet(&raw.Demo.Seed) {
		seed, err := p.integer(field{node: &raw.Demo.Seed, scope: scope, key: "demo.seed"})
		if err != nil {
			return err
		}
		dc.Seed = seed
	}
	if isSet(&raw.Demo.Desks) {
		desks, err := p.desks(field{node: &raw.Demo.Desks, scope: scope, key: "demo.desks"})
		if err != nil {
			return err
		}
		dc.Desks = desks
	}
	if isSet(&raw.Demo.TicketsPerDay) {
		f := field{node: &raw.Demo.TicketsPerDay, scope: scope, key: "demo.tickets_per_day"}
		rate, err := p.float(f)
		if err != nil {
			return err
		}
		if !(rate > 0) || math.IsInf(rate, 1) {
			return p.errorf(f.line(), scope, "demo.tickets_per_day must be a positive number, got %g", rate)
		}
		dc.TicketsPerDay = rate
	}
	return nil
}

func (p *parser) desks(f field) ([]string, error) {
	items, err := p.sequence(f)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, p.errorf(f.line(), f.scope, "%s must list at least one desk", f.key)
	}
	desks := make([]string, len(items))
	seen := map[string]bool{}
	for i, item := range items {
		desk, err := p.str(f.item(item, i))
		if err != nil {
			return nil, err
		}
		switch {
		case strings.TrimSpace(desk) == "":
			return nil, p.errorf(item.Line, f.scope, "%s[%d] must not be empty", f.key, i)
		case seen[desk]:
			return nil, p.errorf(item.Line, f.scope, "%s: duplicate desk %q", f.key, desk)
		}
		seen[desk] = true
		desks[i] = desk
	}
	return desks, nil
}

func (p *parser) jiraSource(raw *rawSource, node *yaml.Node, scope string, src *Source) error {
	if raw.Demo != nil {
		return p.errorf(lineOf(mappingKey(node, "demo"), node), scope, "demo: does not apply to type jira; remove it or set type: demo")
	}
	src.PollInterval = DefaultJiraPoll
	jiraKey := mappingKey(node, "jira")
	if raw.Jira == nil {
		return p.errorf(lineOf(jiraKey, node), scope, "type jira needs a jira: section with url and jql (see docs/jira.md)")
	}
	if raw.Jira.err != nil {
		return p.sectionError(raw.Jira.err, mappingValue(node, "jira"), lineOf(jiraKey, node), scope, "jira")
	}
	src.Jira = &raw.Jira.cfg

	clientKey := mappingKey(node, "http_client")
	src.HTTPClient = promconfig.DefaultHTTPClientConfig
	if raw.HTTPClient != nil {
		clientNode := mappingValue(node, "http_client")
		if raw.HTTPClient.err != nil {
			return p.sectionError(raw.HTTPClient.err, clientNode, lineOf(clientKey, node), scope, "http_client")
		}
		src.HTTPClient = raw.HTTPClient.cfg
		src.HTTPClient.SetDirectory(p.dir)
		if err := p.checkFiles(clientNode, scope, "http_client"); err != nil {
			return err
		}
	}
	c := src.HTTPClient
	if c.BasicAuth == nil && c.Authorization == nil && c.OAuth2 == nil {
		return p.errorf(lineOf(clientKey, node), scope,
			"jira needs credentials: set http_client.basic_auth (Cloud: email and API token) or http_client.authorization (Data Center: personal access token)")
	}
	return nil
}
