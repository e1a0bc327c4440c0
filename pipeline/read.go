package pipeline

import (
	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/store"
)

// Store is the pipeline's open store, for readers inside the process such
// as the /-/backfill endpoint: bbolt's read transactions run alongside the
// commits, while a second open of the file would wait for the writer's
// lock. Readers must not write to it.
func (p *Pipeline) Store() *store.Store { return p.recorder.store }

// Config is the configuration applied last.
func (p *Pipeline) Config() *config.Config {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cfg
}
