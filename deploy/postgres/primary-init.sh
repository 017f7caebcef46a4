#!/bin/bash
# Runs once, when the primary's data folder is first made (docker-entrypoint-initdb.d): a role for the
# standby's replication connection and a slot so the primary keeps the WAL the standby has not read yet.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '${REPLICATION_PASSWORD}';
SELECT pg_create_physical_replication_slot('standby_1');
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
