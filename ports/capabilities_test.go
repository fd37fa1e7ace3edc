package ports_test

import (
	"testing"

	"github.com/wagate/wagate/ports"
	"github.com/wagate/wagate/test/capstest"
)

// plain decorators, which alone would hide every capability.
type plainWhatsApp struct{ ports.WhatsApp }
type plainQueue struct{ ports.Queue }

func TestKeepCapabilities(t *testing.T) {
	capstest.WhatsApp(t, func(w ports.WhatsApp) ports.WhatsApp {
		return ports.KeepWhatsAppCapabilities(plainWhatsApp{w}, w)
	})
	capstest.Queue(t, func(q ports.Queue) ports.Queue {
		return ports.KeepQueueCapabilities(plainQueue{q}, q)
	})
}
