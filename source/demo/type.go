package demo

import (
	"fmt"
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
			cfg, ok := sc.Settings.(Config)
			if !ok {
				return nil, fmt.Errorf("demo source %s: settings are %T, want demo.Config", sc.Name, sc.Settings)
			}
			s, err := New(cfg, WithClock(env.Now))
			if err != nil {
				return nil, err
			}
			return s, nil
		},
	}
}
