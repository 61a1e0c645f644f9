#!/bin/sh
# One-shot (service namespace): waits until the frontend answers, then creates the
# namespace the workers use unless it exists. Safe to re-run.
set -eu
: "${TEMPORAL_ADDRESS:?set TEMPORAL_ADDRESS}"
: "${TEMPORAL_NAMESPACE:?set TEMPORAL_NAMESPACE}"

attempt=1
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; do
  [ "$attempt" -lt 60 ] || { echo "Temporal at $TEMPORAL_ADDRESS is not healthy after $attempt attempts" >&2; exit 1; }
  attempt=$((attempt + 1))
  sleep 2
done

if temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
  echo "namespace $TEMPORAL_NAMESPACE exists"
else
  temporal operator namespace create --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE" --retention "${NAMESPACE_RETENTION:-72h}"
  echo "namespace $TEMPORAL_NAMESPACE created"
fi
