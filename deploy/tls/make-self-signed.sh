#!/bin/bash
# A self-signed certificate for trying the topology on one machine (never for citizens: use the
# certificate of the portal's real name, from the operator's CA, in production).
set -euo pipefail
cd "$(dirname "$0")"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=${1:-localhost}" \
  -keyout tls.key -out tls.crt
