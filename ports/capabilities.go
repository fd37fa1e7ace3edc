package ports

// A decorator (tracing, metrics) wraps a port, and a plain wrapper hides
// the optional capabilities of the adapter inside it from the type
// assertions the core modules look for them with. Every decorator of a
// port with optional capabilities returns through the function below for
// its port, so that a new capability is forwarded by adding it here once;
// test/capstest fails while one is left out.

// KeepWhatsAppCapabilities returns outer, a decorator of inner, with the
// optional capabilities inner has (WADeviceRemover, WAReleaser) and no
// others.
func KeepWhatsAppCapabilities(outer, inner WhatsApp) WhatsApp {
	remover, canRemove := inner.(WADeviceRemover)
	releaser, canRelease := inner.(WAReleaser)
	switch {
	case canRemove && canRelease:
		return struct {
			WhatsApp
			WADeviceRemover
			WAReleaser
		}{outer, remover, releaser}
	case canRemove:
		return struct {
			WhatsApp
			WADeviceRemover
		}{outer, remover}
	case canRelease:
		return struct {
			WhatsApp
			WAReleaser
		}{outer, releaser}
	}
	return outer
}

// KeepQueueCapabilities returns outer, a decorator of inner, with the
// optional capability inner has (JobCounter) and no others.
func KeepQueueCapabilities(outer, inner Queue) Queue {
	if counter, ok := inner.(JobCounter); ok {
		return struct {
			Queue
			JobCounter
		}{outer, counter}
	}
	return outer
}
