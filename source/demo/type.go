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
			if !sc.Segments.IsZero() {
				// Nothing to read them from: the desk simulates its own.
				return nil, fmt.Errorf("demo source %s: segments does not apply to type demo, which simulates its own customer groups and teams; remove segments", sc.Name)
			}
			s, err := New(cfg, WithClock(env.Now))
			if err != nil {
				return nil, err
			}
			return s, nil
		},
	}
}
