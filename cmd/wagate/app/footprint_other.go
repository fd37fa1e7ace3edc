//go:build !linux

package app

// releaseStartupPages does nothing off Linux: see footprint_linux.go.
func releaseStartupPages() (int64, error) { return 0, nil }
