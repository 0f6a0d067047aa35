#!/usr/bin/env bash
# Starts a throw-away single-node Slurm (slurmctld + slurmd, munge for authentication) on 127.0.0.1 for the slurm
# backend's end-to-end tests (test/e2e/slurm/). Run as root; jobs run as the submitting user (root in the tests).
# Idempotent: a second call leaves running daemons alone and rewrites the env file. No systemd is needed or used.
#
#   scripts/services/slurm-up.sh     # then: CI=true npm run test:e2e -- test/e2e/slurm; scripts/services/slurm-down.sh
#
# Everything lives in $GRIDPKG_SLURM_DIR (default /tmp/gridpkg-slurm); nothing under /etc/slurm is changed:
#   slurm.conf                      the cluster: one node "localhost", partition $GRIDPKG_SLURM_PARTITION (gridpkg)
#   state/ spool/                   slurmctld's saved state (kept across a restart), slurmd's spool
#   slurmctld.pid slurmd.pid        stopped by pid by slurm-down.sh (munged too, if this script started it)
#   slurmctld.log slurmd.log
#   jobcomp.log                     jobcomp/filetxt: what `sacct -c` reads once a job has left squeue
#   env                             KEY=VALUE lines the tests read (GRIDPKG_SLURM_ENV points at it)
#
# No slurmdbd: accounting storage is disabled, so the backend reads finished jobs from the jobcomp log.
# SchedulerParameters=batch_sched_delay=0,sched_min_interval=0 starts a tiny job within ~0.5 s instead of ~3 s.
# GRIDPKG_SLURM_MIN_JOB_AGE (default 300) is how long squeue keeps finished jobs.
set -euo pipefail

D=${GRIDPKG_SLURM_DIR:-/tmp/gridpkg-slurm}
PARTITION=${GRIDPKG_SLURM_PARTITION:-gridpkg}
MIN_JOB_AGE=${GRIDPKG_SLURM_MIN_JOB_AGE:-300}
CONF=$D/slurm.conf
export SLURM_CONF=$CONF

if [ "$(id -u)" -ne 0 ]; then
  echo "slurm-up.sh: must run as root (slurmd starts jobs as their users; munged runs as user munge)" >&2
  exit 1
fi

missing=()
command -v slurmctld >/dev/null || missing+=(slurmctld)
command -v slurmd >/dev/null || missing+=(slurmd)
command -v sbatch >/dev/null || missing+=(slurm-client)
command -v munged >/dev/null || [ -x /usr/sbin/munged ] || missing+=(munge)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "slurm-up.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    { apt-get -o DPkg::Lock::Timeout=900 update -qq &&
      apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
fi

install -d -m 0755 "$D" "$D/state" "$D/spool"

# --- munge: authentication between the Slurm commands and daemons ---------------------------------------------
if [ ! -s /etc/munge/munge.key ]; then
  mungekey -c -f
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
fi
install -d -o munge -g munge -m 0755 /run/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged # forks; its pid goes to /run/munge/munged.pid
  cp /run/munge/munged.pid "$D/munged.pid" # ours: slurm-down.sh stops it (a munged we found running, never)
  for _ in $(seq 100); do
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
    sleep 0.1
  done
fi
munge -n | unmunge >/dev/null || { echo "slurm-up.sh: munge does not work" >&2; exit 1; }

cat >"$CONF" <<EOC
# gridpkg test cluster: one node on loopback. Written by scripts/services/slurm-up.sh.
ClusterName=gridpkg-ci
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
SlurmctldPort=${GRIDPKG_SLURMCTLD_PORT:-6817}
SlurmdPort=${GRIDPKG_SLURMD_PORT:-6818}
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/slurmctld.log
SlurmdLogFile=$D/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$D/jobcomp.log
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MinJobAge=$MIN_JOB_AGE
KillWait=5
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=$PARTITION Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOC

cat >"$D/env" <<EOE
GRIDPKG_SLURM_DIR=$D
GRIDPKG_SLURM_CONF=$CONF
GRIDPKG_SLURM_JOBCOMP=$D/jobcomp.log
GRIDPKG_SLURM_PARTITION=$PARTITION
GRIDPKG_SLURMCTLD_PIDFILE=$D/slurmctld.pid
GRIDPKG_SLURMD_PIDFILE=$D/slurmd.pid
GRIDPKG_SLURM_MIN_JOB_AGE=$MIN_JOB_AGE
EOE

running() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
if running "$D/slurmctld.pid" && running "$D/slurmd.pid"; then
  echo "slurm-up.sh: slurmctld pid $(cat "$D/slurmctld.pid") and slurmd pid $(cat "$D/slurmd.pid") already running"
  exit 0
fi
# -c: start from a clean state (job ids from 1); a restart inside a test keeps the state (no -c).
running "$D/slurmctld.pid" || slurmctld -f "$CONF" -c # forks; pid in $D/slurmctld.pid
running "$D/slurmd.pid" || slurmd -f "$CONF" -N localhost
for _ in $(seq 300); do
  if [ "$(sinfo -h -p "$PARTITION" -o %T 2>/dev/null)" = idle ]; then
    echo "slurm-up.sh: slurmctld pid $(cat "$D/slurmctld.pid"), slurmd pid $(cat "$D/slurmd.pid"), partition" \
      "$PARTITION idle; env file $D/env"
    exit 0
  fi
  sleep 0.1
done
echo "slurm-up.sh: the node did not become idle; see $D/slurmctld.log and $D/slurmd.log" >&2
sinfo >&2 || true
exit 1
