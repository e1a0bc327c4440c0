// Package builtin lists the source types compiled into the exporter. It is
// the only place that names them: adding a type is one line here.
package builtin

import (
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/demo"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/jira"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/rt"
)

// Registry returns the built-in source types, in the order messages and
// docs name them.
func Registry() *source.Registry {
	r, err := source.NewRegistry(demo.Type(), jira.Type(), rt.Type())
	if err != nil {
		// Only a malformed Type gets here, a programming error that every
		// test run catches.
		panic(err)
	}
	return r
}
