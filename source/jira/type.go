package jira

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
)

// typeName is the Jira source type, and the key of its section.
const typeName = "jira"

// Type describes Jira sources to the loader and the pipeline.
func Type() source.Type {
	return source.Type{
		Config: config.SourceType{
			Name:                typeName,
			DefaultPollInterval: model.Duration(2 * time.Minute),
			Decode:              decodeSection,
			HTTPClient:          true,
			Credentials: "jira needs credentials: set http_client.basic_auth (Cloud: email and API token) " +
				"or http_client.authorization (Data Center: personal access token)",
		},
		New: newSource,
	}
}

func decodeSection(section *yaml.Node) (any, error) {
	if section == nil {
		return nil, errors.New("type jira needs a jira: section with url and jql (see docs/jira.md)")
	}
	var cfg Config
	if err := cfg.UnmarshalYAML(section); err != nil {
		return nil, err
	}
	return cfg, nil
}

func newSource(sc config.Source, env source.Env) (source.Source, error) {
	cfg, ok := sc.Settings.(Config)
	if !ok {
		return nil, fmt.Errorf("jira source %s: settings are %T, want jira.Config", sc.Name, sc.Settings)
	}
	var opts []Option
	if env.Now != nil {
		opts = append(opts, WithClock(env.Now))
	}
	s, err := New(sc.Name, cfg, sc.HTTPClient, env.Logger, MetricsFrom(env.API), opts...)
	if err != nil {
		return nil, err
	}
	return checkedSource{s}, nil
}

// checkedSource gives a Source the source.Checker shape: the report as
// text under the caller's own heading for the source.
type checkedSource struct{ *Source }

func (c checkedSource) Check(ctx context.Context, w io.Writer) error {
	report, err := c.Source.Check(ctx)
	// With no deployment, nothing was learned: the error says it all.
	if report != nil && (err == nil || report.Deployment != "") {
		var b strings.Builder
		if werr := report.WriteText(&b); werr != nil {
			return werr
		}
		_, body, _ := strings.Cut(b.String(), "\n") // the heading
		if _, werr := io.WriteString(w, body); werr != nil {
			return werr
		}
	}
	return err
}
