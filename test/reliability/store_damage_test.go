package reliability_test

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/servicedesk-exporter/servicedesk_exporter/store"
)

const storeRelPath = "data/servicedesk.db"

// validStore runs the binary once on the demo desk until ready, stops it
// with SIGTERM and returns the store file it left.
func validStore(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config.yaml"), demoConfig("30s"))
	p := startExporter(t, dir)
	p.waitReady(t, 30*time.Second)
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.ExitCode(t, 20*time.Second); code != 0 {
		t.Fatalf("exit %d after SIGTERM", code)
	}
	b, err := os.ReadFile(filepath.Join(dir, storeRelPath))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const boltPageSize = 4096

// middleDataPage is the leaf page holding ticket JSON nearest to the middle
// of the file: damage there is damage to data the exporter reads. bbolt
// copies pages on write, so the file also holds stale copies of ticket
// pages on its freelist; damaging one of those is harmless, and a test that
// picked one would expect an error that rightly never comes.
func middleDataPage(t *testing.T, db []byte) int {
	t.Helper()
	path := filepath.Join(t.TempDir(), "copy.db")
	writeFile(t, path, string(db))
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	var dataPages []int
	if err := bdb.View(func(tx *bolt.Tx) error {
		for id := 0; int64(id+1)*boltPageSize <= tx.Size(); id++ {
			info, err := tx.Page(id)
			if err != nil {
				return err
			}
			if info == nil || info.Type != "leaf" {
				continue
			}
			if bytes.Contains(db[id*boltPageSize:(id+1)*boltPageSize], []byte(`{"`)) {
				dataPages = append(dataPages, id)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(dataPages) == 0 {
		t.Fatal("no leaf page with ticket data in the store")
	}
	return dataPages[len(dataPages)/2]
}

func randomBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	return b
}

// otherFormatVersion rewrites the store's format version key, as a store
// written by a future build would have it.
func otherFormatVersion(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket([]byte("meta"))
		if meta == nil {
			t.Fatal("store has no meta bucket")
		}
		return meta.Put([]byte("format"), []byte(strconv.Itoa(store.FormatVersion+1)))
	}); err != nil {
		t.Fatal(err)
	}
}

func TestDamagedStoreIsRefusedThenRebuilt(t *testing.T) {
	good := validStore(t)
	t.Logf("valid store: %d bytes", len(good))
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		// bbolt writes four pages when it creates a file, so an empty file
		// is a store that lost everything, horizon included.
		{"truncated to 0 bytes", func(t *testing.T, path string) {
			writeFile(t, path, "")
		}},
		{"truncated to half", func(t *testing.T, path string) {
			writeFile(t, path, string(good[:len(good)/2]))
		}},
		{"truncated to 16 KiB", func(t *testing.T, path string) {
			writeFile(t, path, string(good[:16<<10]))
		}},
		{"truncated to 100 bytes", func(t *testing.T, path string) {
			writeFile(t, path, string(good[:100]))
		}},
		{"random page in the middle", func(t *testing.T, path string) {
			b := bytes.Clone(good)
			p := middleDataPage(t, b)
			copy(b[p*boltPageSize:], randomBytes(1, boltPageSize))
			writeFile(t, path, string(b))
		}},
		{"random bytes inside a data page", func(t *testing.T, path string) {
			b := bytes.Clone(good)
			p := middleDataPage(t, b)
			copy(b[p*boltPageSize+1024:], randomBytes(2, 512))
			writeFile(t, path, string(b))
		}},
		{"another format version", func(t *testing.T, path string) {
			writeFile(t, path, string(good))
			otherFormatVersion(t, path)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "config.yaml"), demoConfig("30s"))
			storePath := filepath.Join(dir, storeRelPath)
			tc.damage(t, storePath)

			p := startExporter(t, dir)
			bound := false
			for p.Running() && !bound {
				bound = listening(p.Addr)
				time.Sleep(20 * time.Millisecond)
			}
			var problems []string
			if bound {
				// It serves whatever it made of the file: stop it and report.
				_ = p.Cmd.Process.Kill()
				problems = append(problems, "started serving instead of refusing the store")
			} else if code := p.ExitCode(t, 30*time.Second); code == 0 || strings.Contains(p.Stderr.String(), "Listening on") {
				problems = append(problems, "exit code "+strconv.Itoa(code)+": want a non-zero exit before binding")
			}
			<-p.Exited()
			stderr := p.Stderr.String()
			for _, want := range []string{storeRelPath, "--store.rebuild"} {
				if !strings.Contains(stderr, want) {
					problems = append(problems, "the error does not name "+want)
				}
			}
			if strings.Contains(stderr, "panic:") || strings.Contains(stderr, "goroutine ") {
				problems = append(problems, "crashed instead of reporting the damage")
			} else if n := strings.Count(strings.TrimSpace(stderr), "\n"); n > 3 {
				problems = append(problems, "want a short error, got "+strconv.Itoa(n+1)+" lines")
			}
			if len(problems) > 0 {
				t.Errorf("%s; stderr begins:\n%s", strings.Join(problems, "; "), head(stderr, 1200))
			}

			rebuilt := startExporter(t, dir, "--store.rebuild")
			rebuilt.waitReady(t, 30*time.Second)
			families := rebuilt.scrape(t)
			if up, _ := sample(families, "servicedesk_up", map[string]string{"source": "demo"}); up != 1 {
				t.Errorf("servicedesk_up after --store.rebuild: %v", up)
			}
			if created, _ := sample(families, "servicedesk_tickets_created_total", map[string]string{"source": "demo", "desk": "IT"}); created == 0 {
				t.Error("no tickets counted after --store.rebuild")
			}
			if code, _ := rebuilt.get(t, "/-/healthy"); code != http.StatusOK {
				t.Errorf("/-/healthy after rebuild: %d", code)
			}
		})
	}
}

func head(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
