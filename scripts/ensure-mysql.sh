#!/usr/bin/env bash
# ensure-mysql.sh: make sure a MySQL/MariaDB server answers, and print its DSN
# (go-sql-driver format, no database) on stdout. Messages go to stderr, so
#
#   JETMON_TEST_DSN=$(scripts/ensure-mysql.sh)
#
# works in a Makefile or a shell.
#
# Usage: scripts/ensure-mysql.sh [start|stop]
#   start (default)  If the server at $JETMON_TEST_DSN (default
#                    root@tcp(127.0.0.1:3306)/) answers, print that DSN.
#                    Otherwise start a project-local MariaDB (data under
#                    .local/mariadb, 127.0.0.1:$LOCAL_MYSQL_PORT, root without
#                    a password), wait until it answers, and print its DSN.
#                    MariaDB is installed with apt-get when missing and we are
#                    root; otherwise the script prints the command and exits 1.
#   stop             Stop the project-local MariaDB started by this script.
#
# Environment:
#   JETMON_TEST_DSN            server to try first
#   LOCAL_MYSQL_PORT           port of the project-local server (default 3307)
#   LOCAL_MYSQL_START_TIMEOUT  seconds to wait for it to answer (default 60)
set -euo pipefail

root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
local_dir=$root_dir/.local/mariadb
local_port=${LOCAL_MYSQL_PORT:-3307}
local_dsn="root@tcp(127.0.0.1:${local_port})/"
start_timeout=${LOCAL_MYSQL_START_TIMEOUT:-60}
pid_file=$local_dir/mariadbd.pid

log() { printf 'ensure-mysql: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# find_bin NAME...: path of the first NAME found on PATH or in the sbin
# directories distributions install servers into.
find_bin() {
	local name dir
	for name in "$@"; do
		if command -v "$name" 2>/dev/null; then return 0; fi
		for dir in /usr/sbin /usr/local/sbin /usr/local/mysql/bin; do
			if [[ -x $dir/$name ]]; then echo "$dir/$name"; return 0; fi
		done
	done
	return 1
}

# probe DSN: succeeds when a server answers at DSN (tcp or unix).
probe() {
	local dsn=$1 re='^([^:@/]*)(:([^@]*))?@(tcp|unix)\(([^)]*)\)/'
	[[ $dsn =~ $re ]] || die "cannot parse DSN '$dsn' (want user[:pass]@tcp(host:port)/ or user@unix(/path)/)"
	local user=${BASH_REMATCH[1]:-root} pass=${BASH_REMATCH[3]} net=${BASH_REMATCH[4]} addr=${BASH_REMATCH[5]}
	local host=127.0.0.1 port=3306 client
	if [[ $net == tcp && -n $addr ]]; then
		host=${addr%:*} port=${addr##*:}
		[[ $addr == *:* ]] || port=3306
		host=${host#[} host=${host%]}
	fi
	if client=$(find_bin mariadb mysql); then
		local args=(--no-defaults --connect-timeout=2 --batch --skip-column-names -u "$user" -e 'SELECT 1')
		if [[ $net == unix ]]; then args+=(--socket="$addr"); else args+=(--protocol=TCP -h "$host" -P "$port"); fi
		MYSQL_PWD=$pass "$client" "${args[@]}" >/dev/null 2>&1
	elif [[ $net == tcp ]]; then
		# No client: settle for "something accepts connections on the port".
		timeout 2 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
	else
		[[ -S $addr ]]
	fi
}

# local_pid: pid of the project-local server if it is running.
local_pid() {
	local pid
	[[ -f $pid_file ]] || return 1
	pid=$(<"$pid_file")
	[[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
	[[ $(cat "/proc/$pid/comm" 2>/dev/null) =~ ^(mariadbd|mysqld)$ ]] || return 1
	echo "$pid"
}

# install_mariadb: apt-get install as root, else print the command and exit.
install_mariadb() {
	local cmd='apt-get update && apt-get install -y mariadb-server mariadb-client'
	if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
		die "MariaDB is not installed; install it (e.g. sudo sh -c '$cmd') or set JETMON_TEST_DSN"
	fi
	log "installing MariaDB: $cmd"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update >&2 && apt-get install -y mariadb-server mariadb-client >&2 || die "apt-get install failed"
}

# start_local: initialise and start the project-local server in the background.
start_local() {
	local mariadbd install_db user_args=()
	if ! mariadbd=$(find_bin mariadbd mysqld) || ! install_db=$(find_bin mariadb-install-db mysql_install_db); then
		install_mariadb
		mariadbd=$(find_bin mariadbd mysqld) || die "mariadbd not found after install"
		install_db=$(find_bin mariadb-install-db mysql_install_db) || die "mariadb-install-db not found after install"
	fi
	# mariadbd refuses to run as root unless told to.
	if [[ $(id -u) == 0 ]]; then user_args=(--user=root); fi
	mkdir -p "$local_dir"
	if [[ ! -d $local_dir/data/mysql ]]; then
		log "initialising $local_dir/data"
		"$install_db" --no-defaults "${user_args[@]}" --datadir="$local_dir/data" \
			--auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
			>"$local_dir/install.log" 2>&1 ||
			{ tail -n 20 "$local_dir/install.log" >&2; die "mariadb-install-db failed (log: $local_dir/install.log)"; }
	fi
	log "starting MariaDB on 127.0.0.1:$local_port (log: $local_dir/error.log)"
	# setsid: the server outlives this script and a Ctrl-C in the caller's terminal.
	setsid "$mariadbd" --no-defaults "${user_args[@]}" \
		--datadir="$local_dir/data" --socket="$local_dir/mariadbd.sock" --pid-file="$pid_file" \
		--port="$local_port" --bind-address=127.0.0.1 --skip-name-resolve \
		--log-error="$local_dir/error.log" \
		--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
		--default-time-zone=+00:00 --max-connections=500 \
		--innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=2 \
		</dev/null >/dev/null 2>&1 &
	started_pid=$!
}

# wait_local PID: poll until the local server answers, it dies, or the deadline.
wait_local() {
	local pid=$1 deadline=$((SECONDS + start_timeout))
	until probe "$local_dsn"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			tail -n 20 "$local_dir/error.log" >&2 2>/dev/null || true
			die "MariaDB exited during startup (log: $local_dir/error.log)"
		fi
		((SECONDS < deadline)) || die "MariaDB did not answer within ${start_timeout}s (log: $local_dir/error.log)"
		sleep 0.2
	done
}

cmd_start() {
	local dsn=${JETMON_TEST_DSN:-"root@tcp(127.0.0.1:3306)/"} pid
	if probe "$dsn"; then
		echo "$dsn"
		return
	fi
	log "no MySQL at $dsn; using a project-local MariaDB"
	if probe "$local_dsn"; then
		echo "$local_dsn"
		return
	fi
	if pid=$(local_pid); then
		log "local MariaDB (pid $pid) is still starting"
	else
		start_local
		pid=$started_pid
	fi
	wait_local "$pid"
	log "local MariaDB ready (pid $pid); stop it with: $0 stop"
	echo "$local_dsn"
}

cmd_stop() {
	local pid deadline=$((SECONDS + 30))
	if ! pid=$(local_pid); then
		log "no project-local MariaDB running"
		return
	fi
	log "stopping local MariaDB (pid $pid)"
	kill -TERM "$pid"
	while kill -0 "$pid" 2>/dev/null; do
		((SECONDS < deadline)) || die "MariaDB (pid $pid) still running after 30s"
		sleep 0.2
	done
	log "stopped"
}

case ${1:-start} in
start) cmd_start ;;
stop) cmd_stop ;;
*) die "usage: $0 [start|stop]" ;;
esac
