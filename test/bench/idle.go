package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// The idle scenario (issue 17, d): the real binary on the embedded default
// (SQLite, its queue, no Redis, no session), its resident memory read from
// /proc a few seconds after start and again once it settled (after
// WAGATE_RELEASE_AFTER handed back the start's pages and a GC or two ran).
const (
	idleEarly   = 5 * time.Second
	idleSettled = 40 * time.Second
	aimIdleMiB  = 30
)

// idleSample is what /proc/PID/status says of the process's memory, in KiB.
type idleSample struct{ rss, anon, file int64 }

func (s idleSample) String() string {
	return fmt.Sprintf("RSS %.1f MiB (anonymous %.1f, file %.1f)", mib(s.rss), mib(s.anon), mib(s.file))
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

// measureIdle builds wagate into a scratch directory and measures it
// twice: keeping the start's pages (WAGATE_RELEASE_AFTER=0, as before
// issue 17) and with the default release, so that the two compare under
// the same load.
func measureIdle() error {
	dir, bin, err := buildScratch("wagate-bench-idle-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for _, release := range []string{"0", ""} {
		if err := idleOnce(bin, filepath.Join(dir, "data"+release), release); err != nil {
			return err
		}
	}
	return nil
}

// idleOnce serves on a fresh data dir, samples and stops the server.
func idleOnce(bin, dataDir, release string) error {
	addr, err := freePort()
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = []string{"HOME=" + dataDir, "WAGATE_DATA_DIR=" + dataDir, "WAGATE_ADDR=" + addr, "WAGATE_LOG_LEVEL=warn"}
	label := "default WAGATE_RELEASE_AFTER"
	if release != "" {
		cmd.Env = append(cmd.Env, "WAGATE_RELEASE_AFTER="+release)
		label = "WAGATE_RELEASE_AFTER=" + release
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	start := time.Now()
	if err := waitHealthy("http://"+addr+"/healthz", 60*time.Second); err != nil {
		return err
	}
	fmt.Printf("\nidle (embedded default, no session, %s; load average %s)\n", label, loadAverage())
	for _, at := range []time.Duration{idleEarly, idleSettled} {
		time.Sleep(time.Until(start.Add(at)))
		s, err := readStatus(cmd.Process.Pid)
		if err != nil {
			return err
		}
		fmt.Printf("  after %-4s %s\n", at, s)
		if at == idleSettled && release == "" {
			fmt.Printf("  %s\n", aims(aim{fmt.Sprintf("RSS≤%d MiB", aimIdleMiB), mib(s.rss) <= aimIdleMiB}))
		}
	}
	return nil
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func waitHealthy(url string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		r, err := http.Get(url)
		if err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("idle server not healthy within %s: %v", within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// readStatus reads VmRSS, RssAnon and RssFile (Linux).
func readStatus(pid int) (idleSample, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return idleSample{}, err
	}
	var s idleSample
	fields := map[string]*int64{"VmRSS:": &s.rss, "RssAnon:": &s.anon, "RssFile:": &s.file}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) >= 2 {
			if dst, ok := fields[string(f[0])]; ok {
				*dst, _ = strconv.ParseInt(string(f[1]), 10, 64)
			}
		}
	}
	return s, sc.Err()
}
