package wasim_test

import "github.com/wagate/wagate/adapters/wasim"

// wasimOptions is the default simulator configuration of these tests:
// contacts acknowledge nothing unless a test asks them to.
func wasimOptions() wasim.Options { return wasim.Options{} }
