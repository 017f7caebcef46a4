"""Operating a running platform from outside it: backups and restores of its database and files."""
