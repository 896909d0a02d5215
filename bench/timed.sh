# Sourced by the bench scripts (after they set $work and $results):
# timed NAME COMMAND... runs COMMAND, appends "NAME wall rss_kb cpu_seconds" to $results,
# and on failure prints the command's stderr and stops the script.
timed() {
  local name=$1; shift
  /usr/bin/time -f '%e %M %U %S' -o "$work/time" "$@" > /dev/null 2> "$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
  read -r wall rss user sys < "$work/time"
  echo "$name $wall $rss $(python3 -c "print($user + $sys)")" >> "$results"
}
