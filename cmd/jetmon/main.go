// Package main is the jetmon command, the full Jetmon Mesh binary: every role, `all` (the whole
// mesh in one process on an embedded NATS server) and the operator tools.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/jetmon-mesh/jetmon/internal/cli"
	"github.com/jetmon-mesh/jetmon/internal/jetmoncmd"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, cli.ErrReported) {
			fmt.Fprintln(os.Stderr, "jetmon:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	root := jetmoncmd.Root(cli.Env{Stdout: stdout, Stderr: stderr, Getenv: getenv, Version: version}) //nolint:contextcheck // cobra hands ExecuteContext's ctx to RunE as cmd.Context()
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}
