#!/bin/sh
# The log on a real PostgreSQL server, started here: runs test_store_pg with the server's URL and
# a command that stops or starts it (the test stops it in the middle, to prove the spool).
# Usage: pg.sh TEST_STORE_PG   (exit 77, skipped, when PostgreSQL is not installed)
set -u
here=$(dirname "$0")
. "$here/../../lib/pgserver.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/store-pg.XXXXXX")
trap 'pg_stop 2>/dev/null; rm -rf "$work"' EXIT
pg_setup "$work"
rc=$?
[ $rc = 0 ] || exit $rc
cat >"$work/ctl" <<CTL
#!/bin/sh
PG_BIN='$PG_BIN' PG_DIR='$PG_DIR'
. '$(cd "$here/../../lib" && pwd)/pgserver.sh'
PG_DIR='$PG_DIR'
pg_\$1
CTL
chmod 755 "$work/ctl"
mkdir "$work/state"
STM32DFU_TEST_PG_URL=$PG_URL STM32DFU_TEST_PG_CTL=$work/ctl XDG_STATE_HOME=$work/state timeout 120 "$1"
