package rt

import (
	"time"

	"github.com/prometheus/common/model"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
)

// typeName is the Request Tracker source type, and the key of its section.
const typeName = "rt"

// Type describes Request Tracker sources to the loader and the pipeline.
func Type() source.Type {
	return source.Type{
		Config: config.SourceType{
			Name:                typeName,
			DefaultPollInterval: model.Duration(2 * time.Minute),
			Decode:              source.SectionDecoder[Config]("type rt needs an rt: section with url and queues or query (see docs/rt.md)"),
			HTTPClient:          true,
			Segments:            true,
			Credentials: "rt needs credentials: set http_client.authorization (type: token, credentials_file: " +
				"an RT auth token) or http_client.basic_auth (an RT user and password)",
		},
		New: newSource,
	}
}

func newSource(sc config.Source, env source.Env) (source.Source, error) {
	cfg, err := source.Settings[Config](sc)
	if err != nil {
		return nil, err
	}
	return New(sc.Name, cfg, sc.HTTPClient, sc.Segments, env)
}
