#!/usr/bin/env bash
# run.sh BIN CONFIG: what `make run` does after building. Finds MySQL (DB_DSN,
# else the server scripts/ensure-mysql.sh finds or starts, database "jetmon"),
# creates and migrates the database, then runs `jetmon all --demo` (DEMO=0:
# without the demo) in the foreground.
# Ctrl-C (SIGINT) drains every role and exits 0.
set -euo pipefail
bin=${1:?usage: run.sh BIN CONFIG}
config=${2:?usage: run.sh BIN CONFIG}
root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [[ -z ${DB_DSN:-} && -z ${JETMON_DB_DSN:-} ]]; then
	server=$("$root_dir/scripts/ensure-mysql.sh")
	export DB_DSN="${server}${DB_NAME:-jetmon}"
fi
echo "make run: database $(sed -E 's/:[^:@/]*@/:***@/' <<<"$DB_DSN")" >&2
"$bin" migrate --create-database --config "$config"
"$bin" validate-config --config "$config" | grep -E '^(INFO|WARN) (api_addr|nats|email)' >&2 || true
demo_flag=(--demo)
if [[ ${DEMO:-1} == 0 ]]; then demo_flag=(); fi
echo "make run: starting jetmon all ${demo_flag[*]} (Ctrl-C to stop; DEMO=0 for no demo); API and metrics addresses are logged below" >&2
exec "$bin" all "${demo_flag[@]}" --config "$config"
