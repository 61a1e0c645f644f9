#!/bin/sh
# One-shot (service search-attributes): registers the rollout's search attributes in the
# workers' namespace before any worker starts (a worker refuses to start without them, and a
# rollout upserting an unknown one stops moving). MRCD_SEARCH_ATTRIBUTES lists them as
# Name=Type; test/integration/compose.test.ts checks that list against
# workflows/search-attributes.ts. Creates only the missing ones, then checks all are there:
# safe to re-run (`docker compose run --rm search-attributes`).
set -eu
: "${TEMPORAL_ADDRESS:?set TEMPORAL_ADDRESS}"
: "${TEMPORAL_NAMESPACE:?set TEMPORAL_NAMESPACE}"
: "${MRCD_SEARCH_ATTRIBUTES:?set MRCD_SEARCH_ATTRIBUTES to Name=Type pairs}"

# A namespace created a moment ago may not be known to every part of the server yet.
retry() {
  n=1
  until "$@"; do
    [ "$n" -lt 30 ] || return 1
    n=$((n + 1))
    sleep 2
  done
}
existing() {
  temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE"
}
# Creates one unless it exists (also after a create whose answer was lost).
ensure() {
  if existing | grep -qw -- "$1"; then
    echo "search attribute $1 exists"
  else
    temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" --name "$1" --type "$2" &&
      echo "search attribute $1 ($2) created"
  fi
}

for pair in $MRCD_SEARCH_ATTRIBUTES; do
  retry ensure "${pair%%=*}" "${pair#*=}"
done

have=$(retry existing)
missing=
for pair in $MRCD_SEARCH_ATTRIBUTES; do
  printf '%s\n' "$have" | grep -qw -- "${pair%%=*}" || missing="$missing ${pair%%=*}"
done
[ -z "$missing" ] || { echo "search attributes still missing in $TEMPORAL_NAMESPACE:$missing" >&2; exit 1; }
echo "search attributes registered in namespace $TEMPORAL_NAMESPACE"
