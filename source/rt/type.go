package rt

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

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
			Decode:              decodeSection,
			HTTPClient:          true,
			Segments:            true,
			Credentials: "rt needs credentials: set http_client.authorization (type: token, credentials_file: " +
				"an RT auth token) or http_client.basic_auth (an RT user and password)",
		},
		New: newSource,
	}
}

func decodeSection(section *yaml.Node) (any, error) {
	if section == nil {
		return nil, errors.New("type rt needs an rt: section with url and queues or query (see docs/rt.md)")
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
		return nil, fmt.Errorf("rt source %s: settings are %T, want rt.Config", sc.Name, sc.Settings)
	}
	return New(sc.Name, cfg, sc.HTTPClient, sc.Segments, env)
}
