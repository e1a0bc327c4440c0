package jira

import (
	"time"

	"github.com/prometheus/common/model"

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
			Decode:              source.SectionDecoder[Config]("type jira needs a jira: section with url and jql (see docs/jira.md)"),
			HTTPClient:          true,
			Segments:            true,
			Credentials: "jira needs credentials: set http_client.basic_auth (Cloud: email and API token) " +
				"or http_client.authorization (Data Center: personal access token)",
		},
		New: newSource,
	}
}

func newSource(sc config.Source, env source.Env) (source.Source, error) {
	cfg, err := source.Settings[Config](sc)
	if err != nil {
		return nil, err
	}
	return New(sc.Name, cfg, sc.HTTPClient, env, WithSegments(sc.Segments))
}
