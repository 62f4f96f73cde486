# A throw-away PostgreSQL server for tests (sourced; bash or sh). Debian's postgresql package;
# the cluster lives in a temporary folder and listens only on a Unix socket there (no TCP port,
# so parallel tests never collide). PostgreSQL refuses to run as root: as root, the server runs
# as the `postgres` user the package creates.
#   pg_setup DIR   -> PG_URL (libpq URL), or returns 77 when PostgreSQL is not installed
#   pg_start / pg_stop
#   pg_freeze / pg_thaw: the server's processes stopped (SIGSTOP) and continued
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

pg_as() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pg_setup() {
	PG_DIR=$1/pg
	[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] || return 77
	if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
		return 77
	fi
	mkdir -p "$PG_DIR" || return 1
	chmod 755 "$1" "$PG_DIR"
	[ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
	pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres --no-sync >"$PG_DIR/initdb.log" 2>&1 || {
		cat "$PG_DIR/initdb.log" >&2
		return 1
	}
	PG_URL="postgresql:///postgres?host=$PG_DIR&user=postgres"
	export PG_URL PG_DIR
	pg_start
}

pg_start() {
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
		-o "-k $PG_DIR -c listen_addresses='' -c fsync=off" start >/dev/null || {
		cat "$PG_DIR/server.log" >&2
		return 1
	}
}

pg_stop() {
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop >/dev/null
}

# pg_freeze / pg_thaw: SIGSTOP / SIGCONT the server's processes (the postmaster and each of its
# children, by id): it then answers nothing while its sockets still accept
pg_pids() {
	local pm
	pm=$(head -n 1 "$PG_DIR/data/postmaster.pid") || return 1
	echo "$pm"
	pgrep -P "$pm"
}

pg_freeze() {
	local p
	for p in $(pg_pids); do kill -STOP "$p"; done
}

pg_thaw() {
	local p
	for p in $(pg_pids); do kill -CONT "$p"; done
}
