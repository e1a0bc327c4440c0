//go:build !unix

package main

// storeLocked cannot tell here; the store's own error names the lock.
func storeLocked(string) bool { return false }
