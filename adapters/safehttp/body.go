package safehttp

import (
	"fmt"
	"io"
	"math"

	"github.com/wagate/wagate/ports"
)

// ReadBody reads r up to max bytes. When r holds more, it returns the first
// max bytes together with an ETooLarge error (reason payload_too_large), so a
// caller that only keeps a prefix, such as the first 1 KB of a webhook
// response for the delivery log, uses the bytes and ignores that error, while
// a media fetch refuses the file. It never reads more than max+1 bytes.
func ReadBody(r io.Reader, max int64) ([]byte, error) {
	if max < 0 {
		max = 0
	}
	limit := max + 1 // one byte more tells "exactly max" from "too long"
	if max == math.MaxInt64 {
		limit = max
	}
	data, err := io.ReadAll(io.LimitReader(r, limit))
	if err != nil {
		return data, fmt.Errorf("read body: %w", err)
	}
	if int64(len(data)) > max {
		return data[:max], ports.ReasonError(ports.ETooLarge, "payload_too_large",
			fmt.Sprintf("the body is larger than %d bytes", max))
	}
	return data, nil
}
