#!/usr/bin/env bash
# Makes sure what the test suite needs is installed and running: PostgreSQL
# (with a `kw` superuser role for throwaway test databases), Mosquitto and its
# clients, Debian's Chromium, paho for Python, and the Prometheus project's
# Python client (its text-format parser reads /metrics in the tests). Idempotent; installs from
# Debian when run as root, otherwise says what is missing.
set -euo pipefail

need_pkgs=()
command -v mosquitto >/dev/null || need_pkgs+=(mosquitto)
command -v mosquitto_sub >/dev/null || need_pkgs+=(mosquitto-clients)
[ -x /usr/bin/chromium ] || need_pkgs+=(chromium)
/usr/bin/python3 -c 'import paho.mqtt' 2>/dev/null || need_pkgs+=(python3-paho-mqtt)
/usr/bin/python3 -c 'import prometheus_client' 2>/dev/null || need_pkgs+=(python3-prometheus-client)
command -v pg_ctlcluster >/dev/null || need_pkgs+=(postgresql)

if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[test-services] installing ${need_pkgs[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
  else
    echo "[test-services] missing: ${need_pkgs[*]} (install them from Debian: apt-get install -y ${need_pkgs[*]})" >&2
    exit 1
  fi
fi

# Debian starts a system-wide Mosquitto on 1883 after install; the tests run their own brokers.
if command -v systemctl >/dev/null && systemctl is-active --quiet mosquitto 2>/dev/null; then systemctl stop mosquitto || true; fi

if [ -z "${TEST_DATABASE_ADMIN_URL:-}" ]; then
  cluster=$(pg_lsclusters -h 2>/dev/null | awk 'NR==1{print $1" "$2}')
  if [ -z "$cluster" ]; then
    echo "[test-services] no PostgreSQL cluster found; set TEST_DATABASE_ADMIN_URL" >&2
    exit 1
  fi
  if ! pg_lsclusters -h | awk 'NR==1{print $4}' | grep -q online; then
    echo "[test-services] starting PostgreSQL $cluster"
    pg_ctlcluster $cluster start
  fi
  if [ "$(id -u)" = 0 ]; then
    su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='kw'\"" | grep -q 1 ||
      su postgres -c "psql -qc \"CREATE ROLE kw LOGIN SUPERUSER PASSWORD 'kw'\""
  fi
fi
echo "[test-services] ready"
