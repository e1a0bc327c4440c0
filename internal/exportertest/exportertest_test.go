package exportertest

import (
	"net"
	"strconv"
	"testing"
)

func TestFreeAddrIsBindableAndBelowTheEphemeralRange(t *testing.T) {
	low := ephemeralLow()
	seen := map[string]bool{}
	for range 20 {
		addr := FreeAddr(t)
		host, portText, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		port, _ := strconv.Atoi(portText)
		if host != "127.0.0.1" || port < 10000 || port >= low {
			t.Fatalf("FreeAddr gave %s, want 127.0.0.1 and a port in [10000, %d)", addr, low)
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("FreeAddr gave %s, which cannot be bound: %v", addr, err)
		}
		_ = l.Close()
		seen[addr] = true
	}
	if len(seen) < 15 {
		t.Fatalf("20 calls gave only %d distinct ports", len(seen))
	}
}
