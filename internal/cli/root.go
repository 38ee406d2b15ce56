package cli

import (
	"errors"
	"io"

	"github.com/spf13/cobra"
)

// Env is what a command sees of its process, so commands are testable
// without touching the real environment.
type Env struct {
	Stdout  io.Writer
	Stderr  io.Writer
	Getenv  func(string) string
	Version string
}

// Root returns the root command of a binary with the global flags and the
// given subcommands. Errors are returned to main, not printed twice.
func Root(name, short string, env Env, cmds ...*cobra.Command) *cobra.Command {
	root := &cobra.Command{
		Use:           name,
		Short:         short,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.PersistentFlags().String("config", "", "config file (default $JETMON_CONFIG)")
	root.AddCommand(cmds...)
	return root
}

// ConfigPath is the --config flag, else $JETMON_CONFIG.
func ConfigPath(cmd *cobra.Command, env Env) string {
	if path, _ := cmd.Flags().GetString("config"); path != "" {
		return path
	}
	return env.Getenv("JETMON_CONFIG")
}

// VersionCmd prints the binary's version.
func VersionCmd(env Env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := io.WriteString(cmd.OutOrStdout(), env.Version+"\n")
			return err
		},
	}
}

// ErrReported means the command already told the user what failed (on
// stderr); main exits 1 without printing it again.
var ErrReported = errors.New("failure already reported")
