package demo

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
