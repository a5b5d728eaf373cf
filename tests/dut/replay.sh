#!/bin/sh
# A DUT that "decodes" a stream by replaying the expected results next to it:
#   replay.sh INPUT.bit OUTPUT.json  ->  OUTPUT.json = gunzip(INPUT.expected.json.gz, or its parts)
# The honest decoder for testing the runner itself. Optional third argument: a
# mode that breaks the output the way a faulty decoder would.
set -eu
input=$1
output=$2
mode=${3:-honest}
expected="${input%.bit}.expected.json.gz"
[ -f "$expected" ] || expected="$expected.[0-9][0-9]"  # shipped in parts: X.expected.json.gz.00, .01, ...
unpack() { cat $expected | gzip -dc; }
case "$mode" in
  honest)    unpack > "$output" ;;
  crash)     echo "replay.sh: simulated crash" >&2; kill -SEGV $$ ;;
  exit3)     echo "replay.sh: giving up" >&2; exit 3 ;;
  hang)      sleep 987654 & wait ;;  # a child that outlives the shell unless its group is killed
  notjson)   echo "this is not JSON" > "$output" ;;
  nooutput)  : ;;
  truncated) unpack | head -c 1000 > "$output" ;;
  stdout)    unpack ;;
  *)         echo "replay.sh: unknown mode $mode" >&2; exit 2 ;;
esac
