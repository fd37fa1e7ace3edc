package main

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// The ceiling of webhook delivery on this machine: a plain net/http client
// posting event-sized payloads to the same receiver paths, from as many
// goroutines as the server has delivery workers. No database, no queue,
// no signing: what wagate achieves against it is the ratio the bench
// reports.

// benchWebhookCeiling posts n deliveries round-robin over paths (the
// endpoints' "/hook/…" paths) from workers goroutines, the server's
// delivery concurrency, and returns what the receiver counted.
func benchWebhookCeiling(rcv *receiver, paths []string, n, workers int) (phaseFigures, error) {
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	defer c.CloseIdleConnections()
	event := func(i int) error {
		body := fmt.Sprintf(`{"id":"evt_base%d","type":"webhook.test","timestamp":%q,"data":{}}`, i, time.Now().UTC().Format(time.RFC3339Nano))
		req, err := http.NewRequest(http.MethodPost, rcv.url+paths[i%len(paths)], bytes.NewReader([]byte(body)))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("webhook-id", "evt_base"+strconv.Itoa(i))
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			return fmt.Errorf("receiver answered %d", resp.StatusCode)
		}
		return nil
	}
	return webhookPhase(rcv, n, 1, 0, workers, event)
}
