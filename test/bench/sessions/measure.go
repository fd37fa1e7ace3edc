package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
)

// sample is the process's footprint at one moment.
type sample struct {
	heap       uint64 // bytes in in-use heap spans, after a GC
	rss        uint64 // bytes resident (VmRSS)
	goroutines int
}

// baseline samples after returning every free page to the OS, so that
// memory left over from earlier phases does not hide the growth that
// follows. The first GC moves sync.Pool contents (websocket buffers of
// closed connections) to the victim cache, the second frees them.
func baseline() (sample, error) {
	runtime.GC()
	debug.FreeOSMemory()
	return current()
}

// atLoad samples after a GC but keeps the pages the runtime retains, which
// a long-running server keeps too: RSS per instance errs on the high side.
func atLoad() (sample, error) {
	runtime.GC()
	return current()
}

func current() (sample, error) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, err := vmRSS()
	if err != nil {
		return sample{}, err
	}
	return sample{heap: ms.HeapInuse, rss: rss, goroutines: runtime.NumGoroutine()}, nil
}

// vmRSS reads the resident set size from /proc/self/status (Linux).
func vmRSS() (uint64, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("read RSS: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmRSS:"))
		if !ok {
			continue
		}
		kb, ok := bytes.CutSuffix(bytes.TrimSpace(rest), []byte(" kB"))
		if !ok {
			return 0, fmt.Errorf("read RSS: unexpected line %q", sc.Text())
		}
		n, err := strconv.ParseUint(string(kb), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read RSS: %w", err)
		}
		return n * 1024, nil
	}
	return 0, fmt.Errorf("read RSS: no VmRSS line in /proc/self/status")
}

// row is one line of the report: a phase's duration and its footprint at
// n connected instances over the baseline.
type row struct {
	database, phase string
	n               int
	took            float64 // seconds
	base, load      sample
}

const tableFormat = "%-9s %-9s %5s %8s | %8s %8s %9s | %8s %8s %9s | %6s %6s %8s\n"

func printHeader() {
	fmt.Printf(tableFormat, "", "", "", "", "heap MB", "", "", "RSS MB", "", "", "gorout", "", "")
	fmt.Printf(tableFormat, "database", "phase", "N", "time", "base", "at N", "KB/inst", "base", "at N", "KB/inst", "base", "at N", "per inst")
}

func (r row) print() {
	mb := func(b uint64) string { return fmt.Sprintf("%.1f", float64(b)/(1<<20)) }
	perKB := func(base, load uint64) string {
		return fmt.Sprintf("%.0f", (float64(load)-float64(base))/1024/float64(r.n))
	}
	fmt.Printf(tableFormat, r.database, r.phase, strconv.Itoa(r.n), fmt.Sprintf("%.2fs", r.took),
		mb(r.base.heap), mb(r.load.heap), perKB(r.base.heap, r.load.heap),
		mb(r.base.rss), mb(r.load.rss), perKB(r.base.rss, r.load.rss),
		strconv.Itoa(r.base.goroutines), strconv.Itoa(r.load.goroutines),
		fmt.Sprintf("%.1f", float64(r.load.goroutines-r.base.goroutines)/float64(r.n)))
}
