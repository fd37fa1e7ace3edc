// Command wagate is the WhatsApp API gateway: `wagate serve` runs the server,
// `wagate migrate` applies database migrations and `wagate admin create-user`
// creates users (the first platform admin) from the command line.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/wagate/wagate/cmd/wagate/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := app.Run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "wagate:", err)
		os.Exit(1)
	}
}
