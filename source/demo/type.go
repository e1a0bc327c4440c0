package demo

import (
	"time"

	"github.com/prometheus/common/model"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
)

// Type describes the demo desk to the loader and the pipeline.
func Type() source.Type {
	return source.Type{
		Config: config.SourceType{
			Name:                typeName,
			DefaultPollInterval: model.Duration(30 * time.Second),
			Decode:              decodeConfig,
		},
		New: func(sc config.Source, env source.Env) (source.Source, error) {
			cfg, err := source.Settings[Config](sc)
			if err != nil {
				return nil, err
			}
			s, err := New(cfg, WithClock(env.Now))
			if err != nil {
				return nil, err
			}
			return s, nil
		},
	}
}
