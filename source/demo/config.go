package demo

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
)

// typeName is the demo desk's source type, and the key of its section.
const typeName = "demo"

// Config configures the built-in simulated desk (a source's demo: section).
type Config struct {
	Seed          int64    `yaml:"seed"`
	Desks         []string `yaml:"desks"`
	TicketsPerDay float64  `yaml:"tickets_per_day"`
}

// DefaultConfig is the desk used when a demo source has no demo: section.
func DefaultConfig() Config {
	return Config{Seed: 1, Desks: []string{"IT", "HR", "FAC"}, TicketsPerDay: 150}
}

// decodeConfig decodes a demo: section (nil when left out) over the
// defaults, and checks everything New would refuse, so that a value the
// desk cannot run with fails when the file is loaded.
func decodeConfig(section *yaml.Node) (any, error) {
	cfg := DefaultConfig()
	if section == nil {
		return cfg, nil
	}
	// A value that does not decode keeps its default, so the check of
	// the others still holds and every problem is reported at once.
	if err := errors.Join(config.DecodeStrict(section, &cfg), cfg.check()); err != nil {
		return nil, err
	}
	return cfg, nil
}

// check reports every value New would refuse, each on its key.
func (c Config) check() error {
	var problems []error
	problem := func(key, format string, args ...any) {
		problems = append(problems, &config.KeyError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if len(c.Desks) == 0 {
		problem("desks", "%s.desks must list at least one desk", typeName)
	}
	seen := make(map[string]bool, len(c.Desks))
	for i, desk := range c.Desks {
		key := fmt.Sprintf("desks[%d]", i)
		switch {
		case strings.TrimSpace(desk) == "":
			problem(key, "%s.%s must not be empty", typeName, key)
		case seen[desk]:
			problem(key, "%s.desks: duplicate desk %q", typeName, desk)
		}
		seen[desk] = true
	}
	switch tpd := c.TicketsPerDay; {
	case !(tpd > 0):
		problem("tickets_per_day", "%s.tickets_per_day must be a positive number, got %g", typeName, tpd)
	case tpd > maxTicketsPerDay || math.IsInf(tpd, 1):
		problem("tickets_per_day", "%s.tickets_per_day must be at most %d, got %g", typeName, maxTicketsPerDay, tpd)
	}
	return errors.Join(problems...)
}
