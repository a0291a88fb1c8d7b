# shellcheck shell=sh disable=SC2034 # settings for the hooks that source this file
# shellcheck source=../lib/recipe.sh disable=SC2154 # here: set by the hook
. "$here/../lib/recipe.sh"
# shellcheck source=../lib/epoch.sh
. "$here/../lib/epoch.sh"
# Sourced by the postgresql hooks (with here= their folder).
recipe_init postgresql
need PGDATA
pg_ctl=${PG_CTL:-pg_ctl}
# The server's own user: when a hook runs as root, PostgreSQL's commands run as this user.
pg_user=${PG_USER-postgres}
# The systemd unit that runs the server (e.g. postgresql@16-main.service on Debian): demote
# stops it, and promote may start it. Without it, demote stops the server with pg_ctl and
# promote never starts one (a server must not run as a child of the hook: the agent kills those).
pg_service=${PG_SERVICE:-}
promote_timeout_s=${PG_PROMOTE_TIMEOUT_S:-60}
epoch_file=$PGDATA/$epoch_file_name

as_pg() {
  if [ "$(id -u)" = 0 ] && [ -n "$pg_user" ]; then
    runuser -u "$pg_user" -- "$@"
  else
    "$@"
  fi
}
running() {
  as_pg "$pg_ctl" status -D "$PGDATA" >/dev/null 2>&1
}
# standby: the data folder is a standby's (PostgreSQL 12 and later: standby.signal).
standby() {
  [ -e "$PGDATA/standby.signal" ]
}
start_server() {
  [ -n "$pg_service" ] || die "PostgreSQL is not running in $PGDATA, and PG_SERVICE is not set to start it"
  systemctl start "$pg_service" || die "systemctl start $pg_service failed"
}
stop_server() {
  if [ -n "$pg_service" ]; then
    systemctl stop "$pg_service" || die "systemctl stop $pg_service failed"
  fi
  if running; then
    as_pg "$pg_ctl" stop -D "$PGDATA" -m fast -w || die "pg_ctl stop failed"
  fi
}
# connection options for pg_isready and psql, from PGHOST and PGPORT when set.
connect() {
  "$@" ${PGHOST:+-h "$PGHOST"} ${PGPORT:+-p "$PGPORT"}
}
