package config

import (
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// SourceType is what the loader knows about one source type. The source
// registry provides one per type, so this package names none.
type SourceType struct {
	// Name is the value of a source's type key and the key of the type's
	// own section (type: jira → jira:).
	Name string
	// DefaultPollInterval applies when poll_interval is left out.
	DefaultPollInterval model.Duration
	// Decode decodes and validates the type's section, nil when the section
	// is absent or empty, and returns what Source.Settings will hold. It
	// reports every problem it finds, joined (errors.Join): DecodeStrict's
	// and KeyErrors are reported on their lines; a plain message naming a
	// key as "<name>.<key> ..." on that key's, any other on the section's.
	Decode func(section *yaml.Node) (any, error)
	// HTTPClient says whether http_client applies to the type.
	HTTPClient bool
	// Credentials, when set, makes http_client credentials required; it is
	// the message given when none are configured.
	Credentials string
	// Segments says whether segments: applies: whether the type reads the
	// customer group and team from fields of the system it polls.
	Segments bool
}

// SourceTypes looks source types up by name.
type SourceTypes interface {
	SourceType(name string) (SourceType, bool)
	// SourceTypeNames lists every type in the order messages name them.
	SourceTypeNames() []string
}
