package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestServePprofOnlyWhenAsked(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	if err := servePprof(ctx, "", log); err != nil {
		t.Fatalf("no address: got %v, want nothing served and no error", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if err := servePprof(ctx, addr, log); err != nil {
		t.Fatalf("serve pprof: %v", err)
	}
	resp, err := http.Get("http://" + addr + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "heap") {
		t.Errorf("got %d %.80q, want the pprof index", resp.StatusCode, body)
	}
	if err := servePprof(ctx, "127.0.0.1:not-a-port", log); err == nil {
		t.Error("got a bad address accepted, want an error")
	}
}
