package main

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Issue 13's send figures: how fast the server accepts a video and a poll
// next to a text, on one server and instance, so the ratio shows what the
// sniffing and storing of a file, or a poll's options, cost per send.

// kindsMaxDur bounds each kind's timed run: three kinds on two backends
// stay within 20 s.
const kindsMaxDur = 3 * time.Second

// videoBytes is the size of the benchmark's MP4: a short clip's worth.
const videoBytes = 64 << 10

type kindsFigures struct {
	text, video, poll result
}

// benchKinds runs POST /messages/text, /video and /poll in turn with an
// API key, each for at most kindsMaxDur, with the server's default pacing.
func benchKinds(b backend, simAddr string, conc int, dur time.Duration) (kindsFigures, error) {
	dur = min(dur, kindsMaxDur)
	st, err := b.fresh()
	if err != nil {
		return kindsFigures{}, err
	}
	defer st.drop()
	g, err := startGateway(st, simAddr, nil, conc)
	if err != nil {
		return kindsFigures{}, err
	}
	defer g.stop()
	inst, err := g.link("bench-kinds")
	if err != nil {
		return kindsFigures{}, err
	}
	next := counter()
	send := func(kind string, body func(i int) map[string]any) result {
		return load(conc, dur, func() error {
			return g.c.do("POST", "/api/v1/messages/"+kind, inst.key, body(next()), http.StatusAccepted, nil)
		})
	}
	video := base64.StdEncoding.EncodeToString(mp4File(videoBytes))
	return kindsFigures{
		text: send("text", func(i int) map[string]any {
			return map[string]any{"to": contactPhone(i), "text": fmt.Sprintf("bench message %d", i)}
		}),
		video: send("video", func(i int) map[string]any {
			return map[string]any{"to": contactPhone(i), "caption": fmt.Sprintf("clip %d", i), "media": map[string]any{"base64": video}}
		}),
		poll: send("poll", func(i int) map[string]any {
			return map[string]any{"to": contactPhone(i), "question": fmt.Sprintf("Lunch %d?", i), "options": []string{"pizza", "salad", "soup"}}
		}),
	}, nil
}

// mp4File is n bytes that sniff as an MP4 (an ftyp box first).
func mp4File(n int) []byte {
	head := "\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
	return []byte(head + strings.Repeat("\x00", n-len(head)))
}

func kindsLine(name string, f kindsFigures) string {
	ratio := func(r result) string {
		if f.text.rps == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.2f× text", r.rps/f.text.rps)
	}
	line := fmt.Sprintf("kinds %s: text %.0f req/s p99 %s; video (%d KiB) %.0f req/s p99 %s (%s); poll %.0f req/s p99 %s (%s)",
		name, f.text.rps, ms(f.text.p99), videoBytes>>10, f.video.rps, ms(f.video.p99), ratio(f.video), f.poll.rps, ms(f.poll.p99), ratio(f.poll))
	if n := f.text.errors + f.video.errors + f.poll.errors; n > 0 {
		line += fmt.Sprintf(" errors %d/%d/%d", f.text.errors, f.video.errors, f.poll.errors)
	}
	return line
}
