#!/bin/sh
# One-shot (service temporal-schema): creates Temporal's two databases on PostgreSQL and
# brings their schemas to the version of this admin-tools image, which matches the server's.
# Safe at every `docker compose up`: creating an existing database and setting up an
# existing schema are no-ops for postgres12, and update-schema applies only newer versions.
set -eu
: "${POSTGRES_SEEDS:?set POSTGRES_SEEDS to the PostgreSQL host}"
: "${POSTGRES_USER:?set POSTGRES_USER}"
: "${SQL_PASSWORD:?set SQL_PASSWORD (temporal-sql-tool reads the password from it)}"

schema() {
  db=$1
  dir=/etc/temporal/schema/postgresql/v12/$2/versioned
  set -- --plugin postgres12 --ep "$POSTGRES_SEEDS" -u "$POSTGRES_USER" -p "${DB_PORT:-5432}" --db "$db"
  temporal-sql-tool "$@" create
  temporal-sql-tool "$@" setup-schema -v 0.0
  temporal-sql-tool "$@" update-schema -d "$dir"
  echo "schema of $db is current"
}

schema "${DBNAME:-temporal}" temporal
schema "${VISIBILITY_DBNAME:-temporal_visibility}" visibility
