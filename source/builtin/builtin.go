// Package builtin lists the source types this exporter ships. It is the
// only place that names them: configuration, the pipeline and the check
// command all learn the types from the registry it returns.
package builtin

import (
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/demo"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/jira"
)

// Registry returns a new registry of every built-in source type.
func Registry() *source.Registry {
	r, err := source.NewRegistry(demoType(), jiraType())
	if err != nil {
		panic(err) // the list above is fixed; a duplicate is a programming error
	}
	return r
}

func demoType() source.Type {
	return source.Type{
		Config: config.SourceType{
			Name:                "demo",
			DefaultPollInterval: config.DefaultDemoPoll,
			Decode:              func(*yaml.Node) (any, error) { return nil, errors.New("decoded by config") },
		},
		New: func(sc config.Source, env source.Env) (source.Source, error) {
			cfg := demo.DefaultConfig()
			if sc.Demo != nil {
				cfg = *sc.Demo
			}
			return demo.New(cfg, demo.WithClock(env.Now))
		},
	}
}

func jiraType() source.Type {
	return source.Type{
		Config: config.SourceType{
			Name:                "jira",
			DefaultPollInterval: config.DefaultJiraPoll,
			HTTPClient:          true,
			Decode:              func(*yaml.Node) (any, error) { return nil, errors.New("decoded by config") },
		},
		New: func(sc config.Source, env source.Env) (source.Source, error) {
			if sc.Jira == nil {
				return nil, fmt.Errorf("type jira needs a jira: section")
			}
			var opts []jira.Option
			if env.Now != nil {
				opts = append(opts, jira.WithClock(env.Now))
			}
			return jira.New(sc.Name, *sc.Jira, sc.HTTPClient, env.Logger, jira.MetricsFrom(env.API), opts...)
		},
	}
}
