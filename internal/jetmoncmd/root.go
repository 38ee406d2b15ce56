package jetmoncmd

import (
	"github.com/spf13/cobra"

	"github.com/jetmon-mesh/jetmon/internal/cli"
)

// Root is the `jetmon` command tree.
func Root(env cli.Env) *cobra.Command {
	return cli.Root("jetmon", "Jetmon Mesh: an uptime monitor built as a NATS JetStream probe mesh", env,
		allCmd(env),
		cli.RoleCmd(env, "coordinator", "Run a coordinator (leader or hot standby)", addCoordinator),
		cli.ProberCmd(env),
		cli.VeriflierCmd(env),
		cli.RoleCmd(env, "deliverer", "Run a deliverer: send webhooks, alert-contact messages and WPCOM notifications", addDeliverer),
		cli.RoleCmd(env, "api", "Run the internal REST API", addAPI),
		migrateCmd(env),
		validateConfigCmd(env),
		testsiteCmd(env),
		checkCmd(env),
		meshCmd(env),
		rolloutCmd(env),
		keysCmd(env),
		cli.VersionCmd(env),
	)
}
