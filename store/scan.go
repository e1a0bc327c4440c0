package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"
)

// Scan calls fn for every stored ticket with its whole ledger, source by
// source in name order and tickets in id order. It reads every record, so
// a damaged page is found here and reported as damage, never a crash.
func (s *Store) Scan(fn func(source string, t Ticket) error) error {
	return survivingDamage(s.path, func() error {
		return s.db.View(func(tx *bolt.Tx) error {
			srcs := tx.Bucket(bucketSources)
			return srcs.ForEachBucket(func(name []byte) error {
				source := string(name)
				tb := srcs.Bucket(name).Bucket(bucketTickets)
				if tb == nil {
					return nil
				}
				return tb.ForEach(func(k, v []byte) error {
					var rec record
					if err := json.Unmarshal(v, &rec); err != nil {
						return damaged(s.path, fmt.Errorf("source %s ticket %s: %w", source, k, err))
					}
					t, ok := rec.view(string(k), rec.Ledger)
					if !ok {
						return damaged(s.path, fmt.Errorf("source %s ticket %s: a ledger entry has no labels", source, k))
					}
					return fn(source, t)
				})
			})
		})
	})
}

// LabelOrder returns every registered value of every label, in the order
// they were first seen.
func (s *Store) LabelOrder() (map[string][]string, error) {
	out := map[string][]string{}
	err := survivingDamage(s.path, func() error {
		return s.db.View(func(tx *bolt.Tx) error {
			lb := tx.Bucket(bucketLabels)
			return lb.ForEachBucket(func(name []byte) error {
				type seen struct {
					value string
					seq   uint64
				}
				var vals []seen
				if err := lb.Bucket(name).ForEach(func(k, v []byte) error {
					if len(v) != 8 {
						return damaged(s.path, fmt.Errorf("label %s value %q has no sequence", name, labelValue(k)))
					}
					vals = append(vals, seen{labelValue(k), binary.BigEndian.Uint64(v)})
					return nil
				}); err != nil {
					return err
				}
				sort.Slice(vals, func(i, j int) bool { return vals[i].seq < vals[j].seq })
				order := make([]string, len(vals))
				for i, v := range vals {
					order[i] = v.value
				}
				out[string(name)] = order
				return nil
			})
		})
	})
	return out, err
}
