# shellcheck shell=sh
# Sourced by every recipe hook (POSIX sh): the recipe's settings, messages, and the role the
# recipe last put this server in (the health hook compares what runs with it).
#
# A hook sources it as `. "$lib/recipe.sh"` and then calls `recipe_init <recipe name>`.

# Health hook exit codes, as the agent reads them (docs/agent.md).
# shellcheck disable=SC2034 # used by the hooks that source this file
healthy=0 degraded=1 failing=2

# recipe_init NAME: sets RECIPE and HOOK (promote, demote or health: the script's own name, so a
# hook run by hand behaves the same), reads the recipe's settings file if there is one, and
# sets state_dir.
recipe_init() {
  RECIPE=$1
  HOOK=$(basename "$0")
  config=${TIEBREAK_RECIPE_CONFIG:-/etc/tiebreak/recipes/$RECIPE.conf}
  if [ -r "$config" ]; then
    # shellcheck source=/dev/null
    . "$config"
  fi
  # Writable by the hook inside the agent's sandbox (the unit's StateDirectory=).
  state_dir=${TIEBREAK_RECIPE_STATE_DIR:-/var/lib/tiebreak-agent/recipes}
}

# say WORDS: a line for the agent's log (it logs what a hook prints).
say() {
  echo "$RECIPE $HOOK: $*"
}

# die WORDS: says why on stderr and exits 1 (a failed promote makes the agent demote; a failed
# demote is retried), or 2 from the health hook (failing: 1 would only mean degraded).
die() {
  echo "$RECIPE $HOOK: $*" >&2
  if [ "$HOOK" = health ]; then exit 2; fi
  exit 1
}

# need NAME...: dies unless each named setting is set and not empty.
need() {
  for name in "$@"; do
    eval "value=\${$name:-}"
    # shellcheck disable=SC2154 # value is set by the eval above
    [ -n "$value" ] || die "$name is not set (in $config or the environment)"
  done
}

# role_set primary|secondary: records the role this recipe has just put the server in.
role_set() {
  mkdir -p "$state_dir"
  printf '%s\n' "$1" >"$state_dir/$RECIPE.role.tmp"
  mv -f "$state_dir/$RECIPE.role.tmp" "$state_dir/$RECIPE.role"
}

# role_expected: primary once promote has succeeded, secondary otherwise (before any hook ran,
# or after demote).
role_expected() {
  if [ "$(cat "$state_dir/$RECIPE.role" 2>/dev/null || true)" = primary ]; then
    echo primary
  else
    echo secondary
  fi
}

# health_exit CODE WORDS: the health hook's verdict, with its reason.
health_exit() {
  code=$1
  shift
  echo "$RECIPE health: $*"
  exit "$code"
}
