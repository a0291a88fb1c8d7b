# shellcheck shell=sh disable=SC2034 # settings for the hooks that source this file
# shellcheck source=../lib/recipe.sh disable=SC2154 # here: set by the hook
. "$here/../lib/recipe.sh"
# shellcheck source=../lib/epoch.sh
. "$here/../lib/epoch.sh"
# Sourced by the proxmox hooks (with here= their folder).
recipe_init proxmox
vms=${PROXMOX_VMIDS:-}
containers=${PROXMOX_CTIDS:-}
[ -n "$vms$containers" ] || die "set PROXMOX_VMIDS and/or PROXMOX_CTIDS (in $config or the environment)"
# 0 (the default): demote stops the guests at once (qm stop: power off), as a fast demote must.
# More: demote asks them to shut down and powers them off after this many seconds.
shutdown_timeout_s=${PROXMOX_SHUTDOWN_TIMEOUT_S:-0}
case $shutdown_timeout_s in
  '' | *[!0-9]*) die "PROXMOX_SHUTDOWN_TIMEOUT_S must be whole seconds (got $shutdown_timeout_s)" ;;
esac

# each_guest FUNCTION: calls FUNCTION TOOL ID for each guest (qm for VMs, pct for containers).
each_guest() {
  for id in $vms; do "$1" qm "$id"; done
  for id in $containers; do "$1" pct "$id"; done
}
# status TOOL ID: running or stopped ("status: running" from qm status / pct status).
status() {
  "$1" status "$2" | sed -n 's/^status: *//p'
}
