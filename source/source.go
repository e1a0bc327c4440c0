// Package source is the boundary between ticketing systems and the
// pipeline. Each system's adapter lives in source/<system>, fetches and
// normalizes only, and describes itself as a Type; a Registry of types is
// the only place that knows which systems exist (see source/builtin).
package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/api"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
	"gopkg.in/yaml.v3"
)

// Source is a built adapter as the pipeline runs it.
type Source interface {
	// Poll fetches what changed since cursor (nil: everything in scope
	// updated since horizon or still open) and emits it batch by batch,
	// each with the cursor that resumes after it.
	Poll(ctx context.Context, horizon time.Time, cursor []byte, emit func(context.Context, ticket.Batch) error) error
}

// Checker is implemented by sources that connect to something: Check
// reports in plain text what the exporter would see, and fails with an
// actionable error when the source is unusable.
type Checker interface {
	Check(ctx context.Context, w io.Writer) error
}

// Env is what the process gives every source it builds.
type Env struct {
	Logger *slog.Logger
	// API counts the requests of API-backed sources; registered once per
	// process by the pipeline.
	API *api.Metrics
	// Now is the clock of the data side (tests pin it); nil means time.Now.
	Now func() time.Time
}

// Type describes one ticketing system to the loader and the pipeline.
type Type struct {
	Config config.SourceType
	// New builds the adapter from its loaded configuration (sc.Settings
	// holds what Config.Decode returned). It does no I/O.
	New func(sc config.Source, env Env) (Source, error)
}

// Registry is a set of source types; it implements config.SourceTypes.
type Registry struct {
	types map[string]Type
	names []string
}

var _ config.SourceTypes = (*Registry)(nil)

// NewRegistry returns a registry of types, named in the order given.
func NewRegistry(types ...Type) (*Registry, error) {
	r := &Registry{types: make(map[string]Type, len(types))}
	for _, t := range types {
		name := t.Config.Name
		switch {
		case name == "":
			return nil, errors.New("source type without a name")
		case t.New == nil || t.Config.Decode == nil:
			return nil, fmt.Errorf("source type %s: New and Config.Decode are required", name)
		case slices.Contains(r.names, name):
			return nil, fmt.Errorf("source type %s registered twice", name)
		}
		r.types[name] = t
		r.names = append(r.names, name)
	}
	return r, nil
}

// SourceType returns the loader's view of the named type.
func (r *Registry) SourceType(name string) (config.SourceType, bool) {
	t, ok := r.types[name]
	return t.Config, ok
}

// SourceTypeNames lists the types in registration order.
func (r *Registry) SourceTypeNames() []string { return slices.Clone(r.names) }

// Build builds the adapter of one configured source.
func (r *Registry) Build(sc config.Source, env Env) (Source, error) {
	t, ok := r.types[sc.Type]
	if !ok {
		return nil, fmt.Errorf("unsupported source type %q", sc.Type)
	}
	if env.Logger == nil {
		env.Logger = slog.New(slog.DiscardHandler)
	}
	if env.API == nil {
		env.API = api.NewMetrics(nil)
	}
	return t.New(sc, env)
}

// SectionDecoder returns a Config.Decode for a type whose section is
// required and decodes itself (defaults, strict decode, validation in
// UnmarshalYAML); missing is the error when the section is absent.
func SectionDecoder[C any, P interface {
	*C
	UnmarshalYAML(*yaml.Node) error
}](missing string) func(*yaml.Node) (any, error) {
	return func(section *yaml.Node) (any, error) {
		if section == nil {
			return nil, errors.New(missing)
		}
		var cfg C
		if err := P(&cfg).UnmarshalYAML(section); err != nil {
			return nil, err
		}
		return cfg, nil
	}
}

// Settings returns a source's decoded section as its type's config type.
func Settings[C any](sc config.Source) (C, error) {
	cfg, ok := sc.Settings.(C)
	if !ok {
		return cfg, fmt.Errorf("%s source %s: settings are %T, want %T", sc.Type, sc.Name, sc.Settings, cfg)
	}
	return cfg, nil
}
