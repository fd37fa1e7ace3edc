package main

import (
	"encoding/base64"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// The inbound scenario (issue 13): the real binary on the embedded
// default (SQLite, its queue) with one instance linked to an in-process
// simulator, whose contacts send it 1,000 messages of every kind over the
// sandbox route, media included. Its resident memory is read from /proc
// once linked, right after the last message is stored, and again once it
// settled; the aim is no growth that stays after the messages are
// processed.
const (
	inboundMessages = 1000
	inboundSettle   = 40 * time.Second // as the idle scenario: a release and a GC or two
	inboundParallel = 8
	// inboundGrowthMiB is what "no growth" allows of the anonymous
	// memory (the heap and stacks): caches warm up once. The file-backed
	// part grows with the database, which SQLite maps into memory; the
	// kernel takes those pages back when it needs them, so it is reported
	// and not aimed at.
	inboundGrowthMiB = 8
)

// measureInbound builds wagate, starts it with a simulator and measures.
func measureInbound() error {
	dir, bin, sim, done, err := scratchSandbox("wagate-bench-inbound-")
	if err != nil {
		return err
	}
	defer done()
	p, err := startSandboxBinary(bin, filepath.Join(dir, "data"), sim.Addr(), map[string]string{"WAGATE_MAX_MEDIA_BYTES": "1000000"})
	if err != nil {
		return err
	}
	defer func() { _ = p.Stop() }()
	g := &gateway{c: newClient(p.URL, inboundParallel)}
	if err := g.signUp(); err != nil {
		return err
	}
	inst, err := g.link("bench-inbound")
	if err != nil {
		return err
	}
	fmt.Printf("\ninbound (real binary, SQLite, one instance, %d mixed messages from %d contacts; load average %s)\n", inboundMessages, inboundMessages/10, loadAverage())
	time.Sleep(5 * time.Second)
	before, err := readStatus(p.Pid())
	if err != nil {
		return err
	}
	fmt.Printf("  linked, before      %s\n", before)
	bodies := inboundBodies()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, inboundMessages)
	next := make(chan int)
	for range inboundParallel {
		wg.Go(func() {
			for i := range next {
				b := bodies[i%len(bodies)]
				body := map[string]any{"from": fmt.Sprintf("+1558%07d", i/10)}
				for k, v := range b {
					body[k] = v
				}
				if err := g.c.do("POST", "/api/v1/sandbox/instances/"+inst.id+"/inbound", g.token, body, 202, nil); err != nil {
					errs <- err
				}
			}
		})
	}
	for i := range inboundMessages {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if failed == 0 {
			fmt.Printf("  (first failed inbound: %v)\n", err)
		}
		failed++
	}
	stored, err := waitInbound(g, inst, inboundMessages-failed, 3*time.Minute)
	if err != nil {
		return err
	}
	took := time.Since(start)
	after, err := readStatus(p.Pid())
	if err != nil {
		return err
	}
	fmt.Printf("  %d stored in %s (%.0f/s), %d refused\n", stored, took.Round(time.Millisecond), float64(stored)/took.Seconds(), failed)
	fmt.Printf("  right after         %s\n", after)
	time.Sleep(inboundSettle)
	settled, err := readStatus(p.Pid())
	if err != nil {
		return err
	}
	growth := mib(settled.anon - before.anon)
	fmt.Printf("  after %-13s %s: anonymous %+.1f MiB, file-backed (the mapped database) %+.1f MiB over before\n",
		inboundSettle, settled, growth, mib(settled.file-before.file))
	fmt.Printf("  %s\n", aims(aim{fmt.Sprintf("settled anonymous growth ≤%d MiB", inboundGrowthMiB), growth <= inboundGrowthMiB}))
	runtime.KeepAlive(sim)
	return nil
}

// waitInbound polls the instance's inbound messages until want are
// stored, and returns how many are.
func waitInbound(g *gateway, inst linked, want int, within time.Duration) (int, error) {
	deadline := time.Now().Add(within)
	for {
		n, err := countInbound(g, inst)
		if err != nil {
			return 0, err
		}
		if n >= want {
			return n, nil
		}
		if time.Now().After(deadline) {
			return n, fmt.Errorf("inbound: %d of %d messages stored within %s", n, want, within)
		}
		time.Sleep(time.Second)
	}
}

func countInbound(g *gateway, inst linked) (int, error) {
	n, cursor := 0, ""
	for {
		var page struct {
			Data       []struct{ ID string }
			NextCursor *string
		}
		path := "/api/v1/messages?direction=inbound&limit=100"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		if err := g.c.do("GET", path, inst.key, nil, 200, &page); err != nil {
			return 0, err
		}
		n += len(page.Data)
		if page.NextCursor == nil {
			return n, nil
		}
		cursor = *page.NextCursor
	}
}

// inboundBodies are the sandbox inbound requests of the mix, without
// their sender: every kind, the media ones with files of 8–40 KiB.
func inboundBodies() []map[string]any {
	b64 := base64.StdEncoding.EncodeToString
	media := func(mime string, file []byte) map[string]any {
		return map[string]any{"base64": b64(file), "mimeType": mime}
	}
	return []map[string]any{
		{"type": "text", "text": "hello from the bench"},
		{"type": "image", "caption": "a picture", "media": media("image/png", sized("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00", 30<<10))},
		{"type": "video", "caption": "a clip", "media": media("video/mp4", mp4File(40<<10))},
		{"type": "audio", "media": media("audio/ogg; codecs=opus", sized("OggS", 12<<10))},
		{"type": "document", "caption": "terms", "media": map[string]any{"base64": b64(sized("%PDF-1.7\n", 20<<10)), "mimeType": "application/pdf", "filename": "terms.pdf"}},
		{"type": "sticker", "media": media("image/webp", sized("RIFF\x00\x10\x00\x00WEBPVP8 ", 8<<10))},
		{"type": "location", "latitude": 52.52, "longitude": 13.405},
		{"type": "contact", "contacts": []map[string]any{{"name": "Eve", "phones": []map[string]any{{"number": "+15550123"}}}}},
		{"type": "poll", "poll": map[string]any{"question": "When?", "options": []string{"now", "later", "never"}}},
		{"type": "text", "text": strings.Repeat("a longer text ", 60)},
	}
}

// sized is head followed by varied bytes up to n.
func sized(head string, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31 ^ i>>7)
	}
	copy(b, head)
	return b
}
