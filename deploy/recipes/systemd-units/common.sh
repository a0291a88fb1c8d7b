# shellcheck shell=sh disable=SC2034 # settings for the hooks that source this file
# shellcheck source=../lib/recipe.sh disable=SC2154 # here: set by the hook
. "$here/../lib/recipe.sh"
# shellcheck source=../lib/epoch.sh
. "$here/../lib/epoch.sh"
# Sourced by the systemd-units hooks (with here= their folder).
recipe_init systemd-units
need SYSTEMD_UNITS
# The units, in start order (word splitting on purpose: a list of unit names).
units=$SYSTEMD_UNITS
