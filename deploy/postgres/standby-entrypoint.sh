#!/bin/bash
# The standby: on its first start a base backup of the primary (streaming the WAL it needs, writing
# standby.signal and primary_conninfo with -R), then PostgreSQL as a hot standby that follows it.
set -euo pipefail
export PGDATA=/var/lib/postgresql/data
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h postgres-primary -p 5432 -q; do sleep 1; done
  pg_basebackup -h postgres-primary -p 5432 -U replicator -D "$PGDATA" \
    --wal-method=stream --slot=standby_1 --write-recovery-conf --progress
  chmod 0700 "$PGDATA"
fi
exec postgres -c hot_standby=on
