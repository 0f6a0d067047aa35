#!/usr/bin/env bash
# Starts a throw-away NorduGrid ARC 6 CE (A-REX with the fork LRMS and the REST interface) on 127.0.0.1 only, for
# the arc backend's end-to-end tests (test/e2e/arc/). Run as root. Grid jobs run as the local account "arcuser",
# to which the test user's certificate DN is mapped. No systemd is needed or used; nothing under /usr or /etc is
# changed. Idempotent: a second call leaves running daemons alone, starts the ones that are not running (the
# outage test stops the REST listener and calls this script to bring it back) and rewrites the env file.
#
#   scripts/services/arc-up.sh      # then: CI=true npm run test:e2e -- test/e2e/arc; scripts/services/arc-down.sh
#
# Everything lives in $GRIDPKG_ARC_DIR (default /tmp/gridpkg-arc):
#   arc.conf                       the CE: hostname localhost, fork LRMS, queue "fork", REST on 127.0.0.1:$PORT
#   certs/ certificates/           a throw-away test CA (arcctl test-ca), host and user certificates, the user's proxy
#   control/ session/              A-REX's job state and the jobs' session directories
#   arcloc/                        ARC_LOCATION overlay with patched copies of ARC's start scripts (see below)
#   run/arex.pid run/arex-ws.pid   the two arched processes, stopped by pid by arc-down.sh
#   log/                           A-REX logs
#   env                            KEY=VALUE lines the tests read (GRIDPKG_ARC_ENV points at it)
#
# Measured facts this relies on (shared/services/README.md): A-REX has no option to bind one address, so the start
# script is patched to listen on 127.0.0.1 only; the info provider runs every ~4 s instead of 60 s and the fork
# scanner every 1 s instead of 10 s, so a tiny job takes ~9 s from arcsub to arcget instead of 30-60 s; and arckill
# kills the job's whole process tree. A-REX answers ~6 s after start.
# shellcheck disable=SC2016 # the sed programs below match literal $names in ARC's scripts
set -euo pipefail

D=${GRIDPKG_ARC_DIR:-/tmp/gridpkg-arc}
PORT=${GRIDPKG_ARC_PORT:-60443}
CE=https://localhost:$PORT/arex

if [ "$(id -u)" -ne 0 ]; then
  echo "arc-up.sh: must run as root (A-REX maps grid users to a local account)" >&2
  exit 1
fi

# --- packages --------------------------------------------------------------------------------------------------
packages=(nordugrid-arc-arex nordugrid-arc-client nordugrid-arc-plugins-needed nordugrid-arc-plugins-arcrest
  nordugrid-arc-arcctl openssl procps)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "arc-up.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    { apt-get -o DPkg::Lock::Timeout=900 update -qq &&
      apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
fi

# --- directories, grid account, configuration ------------------------------------------------------------------
mkdir -p "$D"/{certs,certificates,control,session,log,run,tmp,clienthome,arcloc/share}
chmod 1777 "$D/tmp" # arc-config-check insists on the sticky bit
id arcuser >/dev/null 2>&1 || useradd --create-home --home-dir "$D/home" --shell /bin/sh arcuser

cat >"$D/arc.conf" <<CONF
[common]
hostname = localhost
x509_host_key = $D/certs/hostkey.pem
x509_host_cert = $D/certs/hostcert.pem
x509_cert_dir = $D/certificates

[authgroup:testusers]
file = $D/allowed-subjects

[mapping]
map_to_user = testusers arcuser:arcuser

[lrms]
lrms = fork

[arex]
loglevel = 3
logfile = $D/log/arex.log
joblog = $D/log/arex-jobs.log
helperlog = $D/log/job.helper.errors
pidfile = $D/run/arched-arex.pid
controldir = $D/control
sessiondir = $D/session
tmpdir = $D/tmp
wakeupperiod = 10

[arex/data-staging]
logfile = $D/log/datastaging.log

[arex/ws]
wsurl = $CE
logfile = $D/log/ws-interface.log
pidfile = $D/run/arched-arex-ws.pid

[arex/ws/jobs]
allowaccess = testusers

[infosys]
logfile = $D/log/infoprovider.log

[infosys/glue2]

[infosys/cluster]

[queue:fork]
CONF

# --- throw-away test CA, host and user certificates (kept across restarts) -------------------------------------
cd "$D/certs"
if [ ! -f hostcert.pem ]; then
  arcctl -c "$D/arc.conf" test-ca --ca-id loopback init >/dev/null
  arcctl -c "$D/arc.conf" test-ca --ca-id loopback hostcert -n localhost >/dev/null
  arcctl -c "$D/arc.conf" test-ca --ca-id loopback usercert -n "arc test user" --no-auth >/dev/null
  mv host-localhost-cert.pem hostcert.pem
  mv host-localhost-key.pem hostkey.pem
  mv client-arc-test-user-cert.pem usercert.pem
  mv client-arc-test-user-key.pem userkey.pem
fi
openssl x509 -in usercert.pem -noout -subject -nameopt compat | sed 's/^subject=//; s/.*/"&"/' >"$D/allowed-subjects"
# Pre-made DH parameters: otherwise arc-arex-ws-start runs `openssl dhparam 4096` in the background (minutes of CPU).
[ -f "$D/control/dhparam.pem" ] || (umask 077 && openssl dhparam -dsaparam -out "$D/control/dhparam.pem" 2048 2>/dev/null)

# --- ARC_LOCATION overlay: patched copies of ARC's start and fork-LRMS scripts ---------------------------------
L=$D/arcloc
S=$L/share/arc
ln -sfn /usr/sbin "$L/sbin"
ln -sfn /usr/bin "$L/bin"
ln -sfn /usr/lib "$L/lib"
rm -rf "$S"
cp -a /usr/share/arc "$S"
# (a) required: the HTTPS listener on 127.0.0.1 only (the stock script listens on every address)
sed -i 's#<tcp:Listen><tcp:Port>\$arex_port</tcp:Port></tcp:Listen>#<tcp:Listen><tcp:Interface>127.0.0.1</tcp:Interface><tcp:Port>$arex_port</tcp:Port></tcp:Listen>#' "$S/arc-arex-ws-start"
# (b) the info provider (where arcstat's states come from) every ~4 s instead of 60 s
sed -i 's#<arex:gmconfig>\$ARC_RUNTIME_CONFIG</arex:gmconfig>#&\n      <arex:InfoproviderWakeupPeriod>30</arex:InfoproviderWakeupPeriod>#' "$S/arc-arex-start"
# (c) the fork LRMS scanner every 1 s instead of 10 s
sed -i 's/^sleep 10$/sleep 1/' "$S/scan-fork-job"
# (d) arckill kills the job's whole process tree (the stock script leaves the payload running)
sed -i -e 's/^        kill -TERM \$joboption_jobid$/        killtree() { for c in $(ps -o pid= --ppid "$1"); do killtree "$c" "$2"; done; kill "$2" "$1" 2>\/dev\/null; }\n        killtree $joboption_jobid -TERM/' \
  -e 's/^        kill -KILL \$joboption_jobid$/        killtree $joboption_jobid -KILL/' "$S/cancel-fork-job"
patched() { [ "$(grep -c "$1" "$2")" = "$3" ] || { echo "arc-up.sh: patch of $2 did not apply ($1)" >&2; exit 1; }; }
patched '<tcp:Interface>127.0.0.1</tcp:Interface>' "$S/arc-arex-ws-start" 2
patched InfoproviderWakeupPeriod "$S/arc-arex-start" 1
patched '^sleep 1$' "$S/scan-fork-job" 1
patched killtree "$S/cancel-fork-job" 3

# --- start the two arched processes that are not running -------------------------------------------------------
running() { local p; p=$(cat "$D/run/$1.pid" 2>/dev/null) && [ "$(ps -o comm= -p "$p" 2>/dev/null)" = arched ]; }
start() { # NAME SCRIPT: foreground mode, own session, pid remembered
  running "$1" && return 0
  ARC_LOCATION=$L ARC_CONFIG=$D/arc.conf setsid "$S/$2" -f >"$D/log/$1.stdout" 2>&1 </dev/null &
  echo $! >"$D/run/$1.pid"
}
start arex arc-arex-start      # the job manager (no network port)
start arex-ws arc-arex-ws-start # HTTPS on 127.0.0.1:$PORT (REST + EMI-ES)

# --- client environment and proxy ------------------------------------------------------------------------------
cat >"$D/env" <<ENV
GRIDPKG_ARC_DIR=$D
GRIDPKG_ARC_CE=$CE
GRIDPKG_ARC_HOME=$D/clienthome
GRIDPKG_ARC_USER_CERT=$D/certs/usercert.pem
GRIDPKG_ARC_USER_KEY=$D/certs/userkey.pem
GRIDPKG_ARC_PROXY=$D/certs/userproxy.pem
GRIDPKG_ARC_CERT_DIR=$D/certificates
GRIDPKG_ARC_AREX_PIDFILE=$D/run/arex.pid
GRIDPKG_ARC_AREX_WS_PIDFILE=$D/run/arex-ws.pid
GRIDPKG_ARC_SESSION_DIR=$D/session
GRIDPKG_ARC_JOB_USER=arcuser
ENV
export HOME=$D/clienthome X509_USER_CERT=$D/certs/usercert.pem X509_USER_KEY=$D/certs/userkey.pem \
  X509_USER_PROXY=$D/certs/userproxy.pem X509_CERT_DIR=$D/certificates
# A fresh 12-hour proxy unless the one there is good for another hour.
arcproxy -I 2>/dev/null | grep -q '^Time left for proxy: [1-9][0-9]* hours' || arcproxy >/dev/null

# --- wait until the CE answers -----------------------------------------------------------------------------------
for _ in $(seq 1 120); do
  arcinfo -t 5 -c "$CE" >/dev/null 2>&1 && break
  sleep 1
done
arcinfo -t 5 -c "$CE" >/dev/null || { echo "arc-up.sh: A-REX does not answer on $CE; see $D/log" >&2; exit 1; }
running arex && running arex-ws
echo "arc-up.sh: A-REX up on $CE (pids $(cat "$D/run/arex.pid") $(cat "$D/run/arex-ws.pid")); env file $D/env"
