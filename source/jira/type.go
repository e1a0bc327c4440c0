package jira

import (
	"errors"
	"fmt"
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
			Segments:            true,
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
	return New(sc.Name, cfg, sc.HTTPClient, env, WithSegments(sc.Segments))
}
