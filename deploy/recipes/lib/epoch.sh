# shellcheck shell=sh
# Sourced by recipe hooks (POSIX sh, after recipe.sh): epoch fencing beside the data.
#
# The agent gives promote the fencing epoch it won (TIEBREAK_EPOCH); the witness raises it at
# every change of primary and never lowers it. Promote writes it into a file that travels with
# the data (on the replicated file system, in the database's data folder), and refuses to start
# when that file already holds a greater epoch: the data has been primary under a newer epoch
# elsewhere, so this server's promote is stale.

# The file's name beside the data.
# shellcheck disable=SC2034 # used by the hooks that source this file
epoch_file_name=.tiebreak-epoch

# epoch_require: sets EPOCH from TIEBREAK_EPOCH, or dies (promote must come from the agent).
epoch_require() {
  case ${TIEBREAK_EPOCH:-} in
    '' | *[!0-9]*) die "TIEBREAK_EPOCH is not set to a number: promote is run by the agent, which sets it" ;;
  esac
  EPOCH=$TIEBREAK_EPOCH
}

# epoch_stored FILE: prints the epoch FILE holds (nothing when there is no file).
epoch_stored() {
  if [ -e "$1" ]; then
    cat "$1"
  fi
}

# epoch_check FILE: returns 1, saying why on stderr, when FILE holds an epoch greater than EPOCH
# (or anything but an epoch); 0 when it holds EPOCH or less, or does not exist.
epoch_check() {
  stored=$(epoch_stored "$1")
  case $stored in
    '') return 0 ;;
    *[!0-9]*)
      echo "$RECIPE $HOOK: $1 holds no epoch ('$stored'): refusing to start; check it, then remove it" >&2
      return 1
      ;;
  esac
  if [ "$stored" -gt "$EPOCH" ]; then
    echo "$RECIPE $HOOK: $1 says epoch $stored, newer than this promote's $EPOCH: another server has been primary on this data since; refusing to start" >&2
    return 1
  fi
  return 0
}

# epoch_write FILE: stores EPOCH in FILE (written aside, synced, then renamed: never half written).
epoch_write() {
  if [ "$(epoch_stored "$1")" = "$EPOCH" ]; then
    return 0
  fi
  printf '%s\n' "$EPOCH" >"$1.tmp"
  sync "$1.tmp"
  mv -f "$1.tmp" "$1"
}

# epoch_fence FILE: epoch_check, then epoch_write; dies on a stale epoch.
epoch_fence() {
  epoch_check "$1" || exit 1
  epoch_write "$1"
}

# epoch_fence_optional: epoch_fence on the setting EPOCH_FILE, when set (recipes whose data has
# no fixed place: point it at a file on the replicated storage).
epoch_fence_optional() {
  if [ -n "${EPOCH_FILE:-}" ]; then
    epoch_require
    epoch_fence "$EPOCH_FILE"
  fi
}
