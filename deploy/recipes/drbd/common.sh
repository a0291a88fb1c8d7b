# shellcheck shell=sh disable=SC2034 # settings for the hooks that source this file
# shellcheck source=../lib/recipe.sh disable=SC2154 # here: set by the hook
. "$here/../lib/recipe.sh"
# shellcheck source=../lib/epoch.sh
. "$here/../lib/epoch.sh"
# Sourced by the drbd hooks (with here= their folder).
recipe_init drbd
need DRBD_RESOURCE DRBD_DEVICE DRBD_MOUNTPOINT
resource=$DRBD_RESOURCE
device=$DRBD_DEVICE
mountpoint=$DRBD_MOUNTPOINT
epoch_file=$mountpoint/$epoch_file_name

# role: Primary or Secondary (DRBD 8.4 prints this node's role first: Primary/Secondary).
role() {
  drbdadm role "$resource" | head -n 1 | cut -d/ -f1
}
# disk_state: this node's disk (UpToDate, Inconsistent, Outdated, Diskless…).
disk_state() {
  drbdadm dstate "$resource" | head -n 1 | cut -d/ -f1
}
# connection_state: Connected when the peer mirrors (StandAlone, Connecting… when not).
connection_state() {
  drbdadm cstate "$resource" | head -n 1
}
mounted() {
  mountpoint -q "$mountpoint"
}
