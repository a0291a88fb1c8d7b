# shellcheck shell=sh disable=SC2034 # settings for the hooks that source this file
# shellcheck source=../lib/recipe.sh disable=SC2154 # here: set by the hook
. "$here/../lib/recipe.sh"
# shellcheck source=../lib/epoch.sh
. "$here/../lib/epoch.sh"
# Sourced by the docker-compose hooks (with here= their folder).
recipe_init docker-compose
need COMPOSE_FILES
# The projects' compose files, in start order (word splitting on purpose: a list of paths).
files=$COMPOSE_FILES
docker=${DOCKER:-docker}
# What promote adds to `up -d`: --wait returns once every service runs (and is healthy, if it
# has a health check), so the hook exits 0 only once the projects are up.
up_options=${COMPOSE_UP_OPTIONS---wait}
# down removes the containers (volumes stay); stop keeps them.
down_command=${COMPOSE_DOWN_COMMAND:-down}
case $down_command in
  down | stop) ;;
  *) die "COMPOSE_DOWN_COMMAND must be down or stop (got $down_command)" ;;
esac

compose() {
  file=$1
  shift
  "$docker" compose -f "$file" "$@"
}

# count_services FILE, count_running FILE: how many services the project has, and how many run.
count_services() {
  compose "$1" config --services | grep -c . || true
}
count_running() {
  compose "$1" ps --services --status running | grep -c . || true
}
