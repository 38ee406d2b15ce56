// Package main is the jetmon-agent command, the small regional artefact: the prober and
// veriflier roles only. It links neither the MySQL driver, nor nats-server,
// nor chi.
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
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, cli.ErrReported) {
			fmt.Fprintln(os.Stderr, "jetmon-agent:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	env := cli.Env{Stdout: stdout, Stderr: stderr, Getenv: getenv, Version: version}
	root := cli.Root("jetmon-agent", "Jetmon Mesh regional agent: prober and veriflier", env,
		cli.ProberCmd(env), cli.VeriflierCmd(env), cli.VersionCmd(env)) //nolint:contextcheck // cobra hands ExecuteContext's ctx to RunE as cmd.Context()
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}
