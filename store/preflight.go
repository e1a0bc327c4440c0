package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// bbolt's on-disk meta page: a 16-byte page header, then magic, version,
// page size, flags, root bucket (16 bytes), freelist page, page high-water
// mark, txid and an FNV-64a checksum of the fields before it. Written in the
// machine's byte order; every platform we build for is little-endian.
const (
	boltMagic          = 0xED0CDAED
	boltPageHeaderSize = 16
	metaMagicOff       = 0
	metaPageSizeOff    = 8
	metaPgidOff        = 40
	metaTxidOff        = 48
	metaChecksumOff    = 56
	metaSize           = 64
)

type boltMeta struct {
	pageSize uint32
	pgid     uint64 // pages in use: the file must hold at least this many
	txid     uint64
}

func parseMeta(page []byte) (boltMeta, bool) {
	if len(page) < boltPageHeaderSize+metaSize {
		return boltMeta{}, false
	}
	m := page[boltPageHeaderSize : boltPageHeaderSize+metaSize]
	if binary.LittleEndian.Uint32(m[metaMagicOff:]) != boltMagic {
		return boltMeta{}, false
	}
	h := fnv.New64a()
	_, _ = h.Write(m[:metaChecksumOff])
	if h.Sum64() != binary.LittleEndian.Uint64(m[metaChecksumOff:]) {
		return boltMeta{}, false
	}
	return boltMeta{
		pageSize: binary.LittleEndian.Uint32(m[metaPageSizeOff:]),
		pgid:     binary.LittleEndian.Uint64(m[metaPgidOff:]),
		txid:     binary.LittleEndian.Uint64(m[metaTxidOff:]),
	}, true
}

// preflight refuses an existing store file that bbolt would misread or
// crash on: an empty file (bbolt would silently start a new store and lose
// the persisted horizon), a file without a valid meta page, or a file cut
// shorter than the pages its meta page says are in use (bbolt would fault
// reading its memory map past the end, which no recover can catch).
func preflight(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("store %s: %w", path, err)
	}
	size := info.Size()
	if size == 0 {
		return damaged(path, errors.New("the file is empty"))
	}
	head := make([]byte, min(size, 2*64*1024))
	if _, err := io.ReadFull(f, head); err != nil {
		return damaged(path, err)
	}
	var best boltMeta
	found := false
	if m, ok := parseMeta(head); ok {
		best, found = m, true
		if off := int(m.pageSize); off > 0 && off+boltPageHeaderSize+metaSize <= len(head) {
			if m1, ok := parseMeta(head[off:]); ok && m1.txid > best.txid {
				best = m1
			}
		}
	}
	if !found {
		return damaged(path, errors.New("no valid bbolt meta page at the start of the file"))
	}
	if need := int64(best.pgid) * int64(best.pageSize); size < need {
		return damaged(path, fmt.Errorf("truncated: %d bytes, its pages need %d", size, need))
	}
	return nil
}
