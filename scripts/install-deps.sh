#!/bin/sh
# install-deps.sh — install every Debian 12 package that tenantmail's build,
# tests, demo and benchmarks need. Idempotent: packages already present are
# left alone and the package index is refreshed only when something is missing.
set -eu

PACKAGES="
  build-essential cmake pkg-config git
  libssl-dev openssl
  libboost-program-options-dev
  libmilter-dev libhiredis-dev nlohmann-json3-dev libcurl4-openssl-dev libgmime-3.0-dev libgumbo-dev libhowardhinnant-date-dev tzdata
  libldns-dev nsd
  prometheus-cpp-dev prometheus
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  clang-14 libclang-rt-14-dev llvm-14
  python3 python3-dkim python3-nacl python3-dnspython python3-cryptography
  postfix sasl2-bin libsasl2-modules redis-server swaks libnet-ssleay-perl
  opendkim opendkim-tools postfwd policyd-rate-limit
  procps iproute2 ca-certificates curl nginx-light chromium gpgsm gpg-agent dirmngr
  debhelper devscripts lintian help2man fakeroot dpkg-dev systemd util-linux
"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "install-deps: all packages present"
    exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

echo "install-deps: installing:$missing"
# Postfix asks how it should be configured; the tests run private instances
# with their own config, so the system one is left unconfigured.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
