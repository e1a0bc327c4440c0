// Package store keeps tickets, cursors and the exactly-once counter ledger
// in an embedded bbolt file, and nothing else: it derives nothing and
// aggregates nothing.
//
// Every counted event is a ledger entry written in the same transaction as
// its ticket and the source's cursor, so re-delivered tickets add nothing, a
// crash loses nothing that was committed, and a restart continues exactly
// where it stopped. Entries keep the time of the event and the raw label
// values the ticket had when it was counted, so aggregation can be rebuilt
// from the ledger at any time — with other buckets, another label limit, or
// as of a past instant.
package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// FormatVersion is the on-disk format this build reads and writes. Bump it
// on any incompatible change to the records or bucket layout.
//
// Format 2 keeps each ledger entry's time and raw labels and each ticket's
// category history; format 1 stores are refused (rebuild them).
const FormatVersion = 2

var (
	bucketMeta    = []byte("meta")
	bucketSources = []byte("sources")
	bucketLabels  = []byte("labels")
	bucketTickets = []byte("tickets")
	keyFormat     = []byte("format")
	keyHorizon    = []byte("horizon")
	keyCursor     = []byte("cursor")
	keySynced     = []byte("synced")
)

// ticketsFillPercent is how full bbolt packs a tickets page when it splits
// one. Sources deliver a pass in ascending id order, so an initial sync
// appends; bbolt's default (0.5) would leave every page half empty, doubling
// the file and the resident memory of its mapping. Pages stay a little short
// of full so that records rewritten later can grow without a split each.
const ticketsFillPercent = 0.9

// ErrIncompatibleFormat is returned by Open for a store written by a build
// with another format version.
var ErrIncompatibleFormat = errors.New("incompatible store format")

// Store is safe for concurrent use; writes are serialized.
type Store struct {
	db       *bolt.DB
	path     string
	readOnly bool

	mu       sync.Mutex // guards horizons, labels and encoded
	horizons map[string]time.Time
	// labels holds every label value ever seen, per label name, so a
	// commit registers only new ones.
	labels map[string]map[string]bool
	// encoded is where a commit encodes each record before the copy
	// bbolt keeps; reused from ticket to ticket and commit to commit.
	encoded []byte
}

// Options for Open.
type Options struct {
	// ReadOnly opens the file without taking the writer's lock, so it can
	// be read while the exporter runs; every write then fails.
	ReadOnly bool
}

// Open opens or creates the store at path. A file bbolt would misread or
// crash on is refused with an error naming it and the fix.
func Open(path string, opts Options) (*Store, error) {
	if !opts.ReadOnly {
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("store %s: %w", path, err)
			}
		}
	} else if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	if err := preflight(path); err != nil {
		return nil, err
	}
	db, err := openBolt(path, opts.ReadOnly)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, path: path, readOnly: opts.ReadOnly}
	for _, step := range []func() error{s.checkFormat, s.loadMeta} {
		if err := survivingDamage(path, step); err != nil {
			_ = db.Close()
			return nil, err
		}
	}
	return s, nil
}

// openBolt opens the file; the damage preflight cannot see (a bad freelist
// page) surfaces here.
func openBolt(path string, readOnly bool) (db *bolt.DB, err error) {
	err = survivingDamage(path, func() error {
		db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: lockWait, ReadOnly: readOnly})
		switch {
		case errors.Is(err, bolterrors.ErrTimeout):
			return lockedError(path)
		case err != nil:
			return damaged(path, err)
		}
		return nil
	})
	return db, err
}

// lockWait is how long Open and Remove wait for another process to let go
// of the file, so one that is just exiting does not fail the start.
const lockWait = 2 * time.Second

// lockedError is what a second writer, reader or rebuild is told.
func lockedError(path string) error {
	return fmt.Errorf("store %s is locked by another process; stop it or use another store.path", path)
}

// survivingDamage runs fn, which reads the memory-mapped file, and turns
// what a damaged page makes bbolt do — panic on a bad page header, or fault
// on an offset past the mapping — into an error naming the file and the fix.
// Without SetPanicOnFault a fault on mapped memory kills the process.
func survivingDamage(path string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = damaged(path, fmt.Errorf("%v", r))
		}
	}()
	return fn()
}

func damaged(path string, err error) error {
	return fmt.Errorf("store %s is damaged (%w); move it away or start with --store.rebuild to rebuild it from the sources", path, err)
}

func (s *Store) checkFormat() error {
	if s.readOnly {
		return s.db.View(func(tx *bolt.Tx) error { return s.checkVersion(tx.Bucket(bucketMeta), tx) })
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) != nil {
			return s.checkVersion(tx.Bucket(bucketMeta), tx)
		}
		if err := s.checkVersion(nil, tx); err != nil {
			return err
		}
		m, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		if _, err := tx.CreateBucket(bucketSources); err != nil {
			return err
		}
		if _, err := tx.CreateBucket(bucketLabels); err != nil {
			return err
		}
		return m.Put(keyFormat, []byte(strconv.Itoa(FormatVersion)))
	})
}

// checkVersion accepts this build's format, and a brand-new empty file when
// meta is nil; anything else is refused.
func (s *Store) checkVersion(meta *bolt.Bucket, tx *bolt.Tx) error {
	if meta == nil {
		empty := true
		_ = tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
		if !empty {
			return fmt.Errorf("store %s: %w: no format version; move it away or start with --store.rebuild", s.path, ErrIncompatibleFormat)
		}
		if s.readOnly {
			return fmt.Errorf("store %s is empty: nothing to read yet", s.path)
		}
		return nil
	}
	v, err := strconv.Atoi(string(meta.Get(keyFormat)))
	if err != nil || v != FormatVersion {
		return fmt.Errorf("store %s: %w: it has format %q, this exporter reads format %d; move it away or start with --store.rebuild to rebuild it from the sources",
			s.path, ErrIncompatibleFormat, meta.Get(keyFormat), FormatVersion)
	}
	return nil
}

// loadMeta reads the horizons and the label values seen.
func (s *Store) loadMeta() error {
	s.horizons = map[string]time.Time{}
	s.labels = map[string]map[string]bool{}
	return s.db.View(func(tx *bolt.Tx) error {
		lb := tx.Bucket(bucketLabels)
		if err := lb.ForEachBucket(func(name []byte) error {
			seen := map[string]bool{}
			s.labels[string(name)] = seen
			return lb.Bucket(name).ForEach(func(k, _ []byte) error {
				seen[labelValue(k)] = true
				return nil
			})
		}); err != nil {
			return err
		}
		return tx.Bucket(bucketSources).ForEachBucket(func(name []byte) error {
			h := tx.Bucket(bucketSources).Bucket(name).Get(keyHorizon)
			if h == nil {
				return nil
			}
			var t time.Time
			if err := t.UnmarshalText(h); err != nil {
				return damaged(s.path, fmt.Errorf("source %s horizon: %w", name, err))
			}
			s.horizons[string(name)] = t
			return nil
		})
	})
}

// Close closes the underlying file.
func (s *Store) Close() error { return s.db.Close() }

// Path is the store file.
func (s *Store) Path() string { return s.path }

// Horizon returns the source's tracking horizon. The first call for a source
// persists proposed; later calls return what was persisted, so changing
// lookback in the config never re-counts or un-counts history.
func (s *Store) Horizon(source string, proposed time.Time) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, ok := s.horizons[source]; ok {
		return h, nil
	}
	proposed = proposed.UTC().Truncate(time.Millisecond)
	err := s.db.Update(func(tx *bolt.Tx) error {
		sb, err := tx.Bucket(bucketSources).CreateBucketIfNotExists([]byte(source))
		if err != nil {
			return err
		}
		b, err := proposed.MarshalText()
		if err != nil {
			return err
		}
		return sb.Put(keyHorizon, b)
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("store %s: persist horizon of %s: %w", s.path, source, err)
	}
	s.horizons[source] = proposed
	return proposed, nil
}

// Horizons returns every source's persisted horizon.
func (s *Store) Horizons() map[string]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]time.Time, len(s.horizons))
	for k, v := range s.horizons {
		out[k] = v
	}
	return out
}

// Cursor returns the cursor committed with the source's last batch, nil if none.
func (s *Store) Cursor(source string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if sb := tx.Bucket(bucketSources).Bucket([]byte(source)); sb != nil {
			out = bytes.Clone(sb.Get(keyCursor))
		}
		return nil
	})
	return out, err
}

// MarkSynced records that a poll of the source completed at t, so that after
// a restart the source is ready at once: its committed data is complete up
// to its cursor, and the next poll only catches up.
func (s *Store) MarkSynced(source string, t time.Time) error {
	b, err := t.UTC().MarshalText()
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		sb, err := tx.Bucket(bucketSources).CreateBucketIfNotExists([]byte(source))
		if err != nil {
			return err
		}
		return sb.Put(keySynced, b)
	})
}

// LastSynced returns when a poll of the source last completed, zero if never.
func (s *Store) LastSynced(source string) (time.Time, error) {
	var t time.Time
	err := s.db.View(func(tx *bolt.Tx) error {
		if sb := tx.Bucket(bucketSources).Bucket([]byte(source)); sb != nil {
			if v := sb.Get(keySynced); v != nil {
				return t.UnmarshalText(v)
			}
		}
		return nil
	})
	return t, err
}

// labelKey prefixes a label value because bbolt keys cannot be empty and an
// empty priority is a legitimate value.
func labelKey(value string) []byte { return append([]byte{'v'}, value...) }

func labelValue(key []byte) string { return string(key[1:]) }
