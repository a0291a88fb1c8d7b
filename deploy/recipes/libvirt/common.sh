# shellcheck shell=sh disable=SC2034 # settings for the hooks that source this file
# shellcheck source=../lib/recipe.sh disable=SC2154 # here: set by the hook
. "$here/../lib/recipe.sh"
# shellcheck source=../lib/epoch.sh
. "$here/../lib/epoch.sh"
# Sourced by the libvirt hooks (with here= their folder).
recipe_init libvirt
need LIBVIRT_DOMAINS
domains=$LIBVIRT_DOMAINS
uri=${LIBVIRT_URI:-qemu:///system}
# How long demote waits for the guests to shut down cleanly before it destroys (powers off) them.
shutdown_timeout_s=${LIBVIRT_SHUTDOWN_TIMEOUT_S:-30}
case $shutdown_timeout_s in
  '' | *[!0-9]*) die "LIBVIRT_SHUTDOWN_TIMEOUT_S must be whole seconds (got $shutdown_timeout_s)" ;;
esac

virsh_() {
  virsh -q -c "$uri" "$@"
}
# state DOMAIN: running, paused, shut off, in shutdown, crashed…
state() {
  virsh_ domstate "$1" | head -n 1
}
