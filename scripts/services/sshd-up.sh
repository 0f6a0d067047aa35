#!/usr/bin/env bash
# Starts a throw-away, key-only OpenSSH server on 127.0.0.1 for the ssh backend's end-to-end tests
# (test/e2e/ssh/). Run as root. Idempotent: a second call leaves a running daemon alone and rewrites the env file.
#
#   scripts/services/sshd-up.sh          # then: CI=true npm run test:e2e -- test/e2e/ssh; scripts/services/sshd-down.sh
#
# Everything lives in $GRIDPKG_SSHD_DIR (default /tmp/gridpkg-sshd); nothing under /etc is changed:
#   sshd_config, ssh_host_ed25519_key(.pub)   the daemon's own config and host key
#   sshd.pid, sshd.log                        stopped by pid by sshd-down.sh
#   client/id_ed25519, client/known_hosts     the controller's key and the pre-filled known_hosts (root only)
#   share/                                    world-readable: what the ssh user must be able to run or read
#   env                                       KEY=VALUE lines the tests read (GRIDPKG_SSH_ENV points at it)
#
# The account: user $GRIDPKG_SSH_USER (default gridpkg-ssh), created if missing, with password '*' (useradd leaves
# '!', a locked account, which sshd rejects under UsePAM no).
#
# The pkgsrc simulator as that user: the simulated sites' wrappers exec `node build/pkgsrc-sim.mjs`, and the job
# runs as the ssh user, so node and the bundle must be readable (and node executable) by it. The repository may
# sit under /root (mode 0700) and node under ~/.nvm: the script checks node as the ssh user and, if the user cannot
# run it, copies the binary into share/bin/node. The bundle is built by the test run (vitest global setup), so
# the tests copy it into share/ themselves, create their simulated sites under share/, and chown them to the user.
set -euo pipefail

S=${GRIDPKG_SSHD_DIR:-/tmp/gridpkg-sshd}
U=${GRIDPKG_SSH_USER:-gridpkg-ssh}
PORT=${GRIDPKG_SSHD_PORT:-2222}

if [ "$(id -u)" -ne 0 ]; then
  echo "sshd-up.sh: must run as root (sshd switches to the test user)" >&2
  exit 1
fi

missing=()
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh >/dev/null && command -v sftp >/dev/null || missing+=(openssh-client)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "sshd-up.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    { apt-get -o DPkg::Lock::Timeout=900 update -qq &&
      apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
fi

install -d -m 0755 "$S" "$S/share" "$S/authorized_keys"
install -d -m 0700 "$S/client"

id "$U" >/dev/null 2>&1 || useradd -m -s /bin/sh "$U"
usermod -p '*' "$U"
user_home=$(getent passwd "$U" | cut -d: -f6)
user_uid=$(id -u "$U")
user_gid=$(id -g "$U")

[ -f "$S/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$S/ssh_host_ed25519_key" -C gridpkg-sshd
[ -f "$S/client/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$S/client/id_ed25519" -C gridpkg-ci
cp "$S/client/id_ed25519.pub" "$S/authorized_keys/$U"
chmod 0644 "$S/authorized_keys/$U"
echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$S/ssh_host_ed25519_key.pub")" >"$S/client/known_hosts"

cat >"$S/sshd_config" <<EOC
# gridpkg test sshd: loopback only, keys only, one user. Written by scripts/services/sshd-up.sh.
Port $PORT
ListenAddress 127.0.0.1
HostKey $S/ssh_host_ed25519_key
PidFile $S/sshd.pid
AuthorizedKeysFile $S/authorized_keys/%u
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers $U
UsePAM no
StrictModes no
PrintMotd no
X11Forwarding no
AllowTcpForwarding no
MaxSessions 64
MaxStartups 64:30:128
Subsystem sftp internal-sftp
LogLevel VERBOSE
EOC

# node for the simulator, as the ssh user sees it.
node_bin=$(command -v node || true)
if [ -z "$node_bin" ]; then
  echo "sshd-up.sh: node is not on PATH" >&2
  exit 1
fi
node_bin=$(readlink -f "$node_bin")
if runuser -u "$U" -- "$node_bin" -e '' 2>/dev/null; then
  ssh_node=$node_bin
else
  echo "sshd-up.sh: $U cannot run $node_bin (a parent directory is private?); copying it into $S/share/bin"
  install -d -m 0755 "$S/share/bin"
  install -m 0755 "$node_bin" "$S/share/bin/node"
  ssh_node=$S/share/bin/node
  runuser -u "$U" -- "$ssh_node" -e '' || { echo "sshd-up.sh: $U cannot run $ssh_node either" >&2; exit 1; }
fi

cat >"$S/env" <<EOE
GRIDPKG_SSH_HOST=127.0.0.1
GRIDPKG_SSH_PORT=$PORT
GRIDPKG_SSH_USER=$U
GRIDPKG_SSH_UID=$user_uid
GRIDPKG_SSH_GID=$user_gid
GRIDPKG_SSH_HOME=$user_home
GRIDPKG_SSH_IDENTITY=$S/client/id_ed25519
GRIDPKG_SSH_KNOWN_HOSTS=$S/client/known_hosts
GRIDPKG_SSH_HOST_PUBKEY=$S/ssh_host_ed25519_key.pub
GRIDPKG_SSHD_CONFIG=$S/sshd_config
GRIDPKG_SSHD_PIDFILE=$S/sshd.pid
GRIDPKG_SSH_NODE=$ssh_node
GRIDPKG_SSH_SHARE=$S/share
EOE

if [ -f "$S/sshd.pid" ] && kill -0 "$(cat "$S/sshd.pid")" 2>/dev/null; then
  echo "sshd-up.sh: sshd already running, pid $(cat "$S/sshd.pid")"
  exit 0
fi

install -d -m 0755 /run/sshd # privilege separation directory, normally made by systemd
/usr/sbin/sshd -t -f "$S/sshd_config"
/usr/sbin/sshd -f "$S/sshd_config" -E "$S/sshd.log" # forks; its pid goes to $S/sshd.pid
for _ in $(seq 200); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "sshd-up.sh: sshd pid $(cat "$S/sshd.pid") on 127.0.0.1:$PORT, user $U; env file $S/env"
    exit 0
  fi
  sleep 0.05
done
echo "sshd-up.sh: sshd did not start listening on 127.0.0.1:$PORT; see $S/sshd.log" >&2
exit 1
