package coretest_test

import (
	"testing"

	"github.com/wagate/wagate/core/coretest"
	"github.com/wagate/wagate/test/storetest"
)

// TestInstanceDirectoryConformance holds the fake to the contract of the
// real stores.
func TestInstanceDirectoryConformance(t *testing.T) {
	storetest.RunInstanceDirectory(t, func(t *testing.T) storetest.DirectoryBackend { return coretest.NewStore() })
}
