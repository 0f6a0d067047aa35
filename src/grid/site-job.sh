#!/bin/sh
# gridpkg site job, protocol version 1. The contract is docs/site-job-protocol.md.
#
#   sh site-job.sh REQUEST_FILE REPORT_FILE
#
# Runs inside a grid job on a worker node, under the VO software manager's credentials, and does what the old
# pkgsrc-cmd.sh did, safely. The checklist, top to bottom:
#
#   1. set up: umask 002, C locale, arguments, scratch directory, report file, traps
#   2. read and validate the whole request (nothing on the site is touched before it is found good)
#   3. host facts
#   4. find the VO software area and test that it is writable
#   5. take the site lock (mkdir; a lock whose holder is proven dead is broken) and keep it alive with a heartbeat
#   6. check that pkgsrc is present under the prefix
#   7. fingerprint of the package database before acting; refuse with `stale` if it is not the expected one
#   8. run the actions in order (binary packages from PKG_PATH)
#   9. post-state: installed packages, dependencies, repository contents, vulnerability audit, fingerprint after
#  10. final status; publish the report (atomically, and on stdout between markers); the EXIT trap releases the lock
#
# Safety rules kept throughout: request data is read with `read -r`, split with parameter expansion (never by the
# shell's word splitting), checked token by token with `case` against the protocol's character sets, always
# quoted, never eval'ed. Values read from the site (pkgdb names, PKGPATHs, patterns, tool output) are validated or
# sanitised the same way before they reach the report. Free text only ever comes last on a report line.
# Portable to dash, bash (also --posix) and busybox sh; checked with `shellcheck -s sh`.

# ---------------------------------------------------------------------------------------------------------------
# 1. Set up
# ---------------------------------------------------------------------------------------------------------------

umask 002 # everything in the VO software area stays group-writable
LC_ALL=C
export LC_ALL

BEGIN_MARKER='==== gridpkg-report begin ===='
END_MARKER='==== gridpkg-report end ===='
MAX_TOKEN=1024  # longest token (pkg_install's PKG_PATTERN_MAX)
MAX_JOB_ID=64   # longest job id
MAX_MESSAGE=300 # longest free-text message
MAX_ENDED=32    # most ended-job lines in a request
MAX_KNOWN=16    # most known-listing lines in a request

WORK=           # scratch directory, removed on exit
REPORT_TMP=     # the report being written; moved onto REPORT_FILE at the end
REPORT_FILE=    # where the report goes
published=0     # 1 once the report is in place
lock_dir=       # the lock directory, once known
lock_owner=     # our owner line, while we hold the lock
heartbeat_pid=  # the background heartbeat loop, while it runs

# Prints a minimal report on stdout when not even a scratch file can be written.
emergency_report() {
  printf '%s\n' "$BEGIN_MARKER" 'gridpkg-report 1' "status error $1" 'end' "$END_MARKER"
  exit 1
}

# Stops the heartbeat loop and waits for it, so that no loop outlives the job. Idempotent.
stop_heartbeat() {
  if [ -n "$heartbeat_pid" ]; then
    kill "$heartbeat_pid" 2>/dev/null
    wait "$heartbeat_pid" 2>/dev/null
    heartbeat_pid=''
  fi
}

# Releases the lock (only if it is still ours) and removes scratch files. Idempotent: finish calls it, and the
# EXIT trap calls it again on every way out. The heartbeat stops first, so it cannot recreate a file in a lock
# directory being removed.
cleanup() {
  stop_heartbeat
  if [ -n "$lock_owner" ] && [ -n "$lock_dir" ]; then
    current=''
    IFS= read -r current <"$lock_dir/owner" 2>/dev/null
    if [ "$current" = "$lock_owner" ]; then
      rm -f "$lock_dir/heartbeat" "$lock_dir/heartbeat.new" "$lock_dir/owner"
      rmdir "$lock_dir" 2>/dev/null
    fi
    lock_owner=''
  fi
  if [ "$published" != 1 ] && [ -n "$REPORT_TMP" ]; then rm -f "$REPORT_TMP"; fi
  if [ -n "$WORK" ]; then rm -rf "$WORK"; fi
  WORK=''
}

trap cleanup EXIT
trap 'exit 1' HUP INT TERM # until the report can be written; exit runs the EXIT trap

if [ "$#" -ne 2 ]; then
  emergency_report 'usage: site-job.sh REQUEST_FILE REPORT_FILE'
fi
REQUEST_FILE=$1
REPORT_FILE=$2
# Standard descriptors: nothing is read from stdin; a closed stdout or stderr (seen through /proc where there is
# one) gets /dev/null, or the next file opened would land on it. The job's stdout is then kept as fd 3 for the
# report, because a trap may fire while stdout is redirected to a scratch file.
exec </dev/null
if [ -d "/proc/$$/fd" ]; then
  [ -e "/proc/$$/fd/1" ] || exec >/dev/null
  [ -e "/proc/$$/fd/2" ] || exec 2>/dev/null
fi
exec 3>&1

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gridpkg-job.XXXXXX" 2>/dev/null) || WORK=
if [ -z "$WORK" ]; then
  WORK=${TMPDIR:-/tmp}/gridpkg-job.$$
  mkdir -m 700 "$WORK" 2>/dev/null || {
    WORK=
    emergency_report 'cannot create a scratch directory'
  }
fi

# The report is written next to REPORT_FILE and moved onto it at the end (atomic on one file system). If that
# directory is not writable, the report is still built in scratch space and delivered on stdout.
REPORT_TMP=$REPORT_FILE.tmp.$$
if ! (: >"$REPORT_TMP") 2>/dev/null; then
  REPORT_TMP=$WORK/report
  : >"$REPORT_TMP" || emergency_report 'cannot write the report'
fi

# Appends one line to the report. Callers pass one string: validated tokens, then at most one free text last.
report_line() {
  printf '%s\n' "$1" >>"$REPORT_TMP"
}

# Free text from anywhere (tool output, environment, site files) made safe for the end of a report line: tabs
# and newlines become spaces, every other non-printable or non-ASCII byte goes, runs of spaces collapse, and the
# result is cut to $2 characters.
clean_text() {
  printf '%s' "$1" | clean_stream "$2"
}
clean_stream() {
  tr -d '\000' | awk -v max="$1" '
    { gsub(/[\t\r]/, " "); text = (NR == 1 ? $0 : text " " $0) }
    END {
      gsub(/[^ -~]/, "", text); gsub(/  +/, " ", text); sub(/^ /, "", text); sub(/ $/, "", text)
      print substr(text, 1, max)
    }'
}

# Writes the final lines, publishes the report and exits: 0 for ok, 3 for locked or stale, 1 otherwise.
finish() {
  trap '' HUP INT TERM # the report is written to its end, whatever comes
  # After a signal the last line may be cut short: the status goes on a line of its own all the same.
  case $(tail -c 1 "$REPORT_TMP" | wc -l) in *1*) ;; *) [ ! -s "$REPORT_TMP" ] || printf '\n' >>"$REPORT_TMP" ;; esac
  status_text=$(clean_text "$2" "$MAX_MESSAGE")
  if [ -n "$status_text" ]; then report_line "status $1 $status_text"; else report_line "status $1"; fi
  report_line 'end'
  if [ "$REPORT_TMP" != "$WORK/report" ] && mv -f "$REPORT_TMP" "$REPORT_FILE"; then
    published=1
    shown=$REPORT_FILE
  else
    shown=$REPORT_TMP
  fi
  {
    printf '%s\n' "$BEGIN_MARKER"
    cat "$shown"
    printf '%s\n' "$END_MARKER"
  } >&3
  cleanup
  case $1 in
    ok) exit 0 ;;
    locked | stale) exit 3 ;;
    *) exit 1 ;;
  esac
}

# From here on a signal ends the job with a report that says so (status error: the site is then unknown). While
# the lock is being taken (critical=1) it waits for the end of that step, so the lock is never left half-made.
critical=0
signal_pending=''
on_signal() {
  if [ "$critical" = 1 ]; then
    signal_pending=$1
    return
  fi
  finish error "interrupted by signal $1"
}
trap 'on_signal HUP' HUP
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM

# ---------------------------------------------------------------------------------------------------------------
# Token checks: the character sets of the protocol (docs/site-job-protocol.md, "Token character sets"). They
# mirror src/grid/protocol/tokens.ts exactly. No token may be empty, start with '-' or exceed $MAX_TOKEN.
# ---------------------------------------------------------------------------------------------------------------

is_job_id() { # A-Z a-z 0-9 . _ -, 1-64 characters
  case $1 in '' | -* | *[!A-Za-z0-9._-]*) return 1 ;; esac
  [ "${#1}" -le "$MAX_JOB_ID" ]
}

is_vo_name() { # A-Z a-z 0-9 . _ -
  case $1 in '' | -* | *[!A-Za-z0-9._-]*) return 1 ;; esac
  [ "${#1}" -le "$MAX_TOKEN" ]
}

is_abs_path() { # starts with /; A-Z a-z 0-9 . _ - / + ,; no .. component
  case $1 in /*) ;; *) return 1 ;; esac
  case $1 in *[!A-Za-z0-9._/+,-]* | */../* | */..) return 1 ;; esac
  [ "${#1}" -le "$MAX_TOKEN" ]
}

is_url() { # http|https|ftp://HOST[:PORT][PATH]: HOST A-Z a-z 0-9 . - (first a letter or digit); PORT 1-5 digits,
  #          at most 65535; PATH as is_abs_path; so no user@, query, fragment or .. component
  [ "${#1}" -le "$MAX_TOKEN" ] || return 1
  case $1 in http://* | https://* | ftp://*) ;; *) return 1 ;; esac
  url_rest=${1#*://}
  case $url_rest in
    */*) url_auth=${url_rest%%/*} url_path=/${url_rest#*/} ;;
    *) url_auth=$url_rest url_path= ;;
  esac
  case $url_auth in
    *:*:*) return 1 ;;
    *:*)
      url_port=${url_auth#*:} url_auth=${url_auth%:*}
      case $url_port in '' | ??????* | *[!0-9]*) return 1 ;; esac
      [ "$url_port" -le 65535 ] || return 1
      ;;
  esac
  case $url_auth in '' | [!A-Za-z0-9]* | *[!A-Za-z0-9.-]*) return 1 ;; esac
  [ -z "$url_path" ] || is_abs_path "$url_path"
}

is_pkgpath_part() {
  case $1 in '' | . | .. | -* | *[!A-Za-z0-9._+-]*) return 1 ;; esac
}

is_pkgpath() { # category/name: exactly one /, each part A-Z a-z 0-9 . _ - +
  case $1 in */*/* | */) return 1 ;; */*) ;; *) return 1 ;; esac
  is_pkgpath_part "${1%%/*}" && is_pkgpath_part "${1#*/}" && [ "${#1}" -le "$MAX_TOKEN" ]
}

is_pkgname() { # base-version: A-Z a-z 0-9 . _ - +; base not starting with . or -, not ending in -;
  #              the version after the last - starts with a digit
  case $1 in '' | -* | .* | *[!A-Za-z0-9._+-]*) return 1 ;; esac
  case $1 in *-*) ;; *) return 1 ;; esac
  case ${1##*-} in [0-9]*) ;; *) return 1 ;; esac
  case ${1%-*} in '' | *-) return 1 ;; esac
  [ "${#1}" -le "$MAX_TOKEN" ]
}

is_file_name() { # a package file in the repository directory (FILE_NAME): A-Z a-z 0-9 . _ - +, not . or ..
  case $1 in '' | -* | . | .. | *[!A-Za-z0-9._+-]*) return 1 ;; esac
  [ "${#1}" -le "$MAX_TOKEN" ]
}

is_seconds() { # 0-9, 1-9 digits
  case $1 in '' | *[!0-9]*) return 1 ;; esac
  [ "${#1}" -le 9 ]
}

is_fingerprint() { # A-Z a-z 0-9 : -
  case $1 in '' | -* | *[!A-Za-z0-9:-]*) return 1 ;; esac
  [ "${#1}" -le "$MAX_TOKEN" ]
}

is_listing_digest() { # sha256: and 64 lower-case hex digits
  case $1 in sha256:*) ;; *) return 1 ;; esac
  case ${1#sha256:} in *[!0-9a-f]*) return 1 ;; esac
  [ "${#1}" -eq 71 ]
}

is_version() { # the pkg_install version: A-Z a-z 0-9 . _ - +
  case $1 in '' | -* | *[!A-Za-z0-9._+-]*) return 1 ;; esac
  [ "${#1}" -le "$MAX_TOKEN" ]
}

# Splits $1 at single spaces into t1..t4 and sets ntok, without word splitting or globbing. Fails on more than
# four tokens. The caller has already refused leading, trailing and double spaces.
split_tokens() {
  ntok=0 t1='' t2='' t3='' t4=''
  remaining=$1
  while [ -n "$remaining" ]; do
    case $remaining in
      *' '*)
        tok=${remaining%% *}
        remaining=${remaining#* }
        ;;
      *)
        tok=$remaining
        remaining=
        ;;
    esac
    ntok=$((ntok + 1))
    case $ntok in
      1) t1=$tok ;;
      2) t2=$tok ;;
      3) t3=$tok ;;
      4) t4=$tok ;;
      *) return 1 ;;
    esac
  done
}

# ---------------------------------------------------------------------------------------------------------------
# 2. Read and validate the request
# ---------------------------------------------------------------------------------------------------------------

req_job='' req_mode='' req_vo='' req_swdir='' req_prefix='' req_repository='' req_lock_stale='' req_expect=''
req_ended=' '   # job ids of ended-job lines, each followed by a space: " ID1 ID2 "
n_ended=0
req_automatic=' ' # PKGNAMEs of automatic lines, each followed by a space: installs to mark automatic
req_known=' '   # digests of known-listing lines, the same way
n_known=0
req_error=      # set to the reason when the request is refused
n_actions=0     # validated actions are kept in $WORK/actions, one "VERB PKGPATH PKGNAME" per line
first_action=0  # line number of the first action
first_automatic=0 # line number of the first automatic line
: >"$WORK/actions"

# Refuses the request: sets req_error for the current line (quoted back sanitised, as free text).
bad() {
  req_error="invalid request line $lineno: $1: $(clean_text "$line" 120)"
  return 1
}

# Checks one request line ($2, line number $1); on success records what it says, else sets req_error.
request_line() {
  lineno=$1 line=$2
  case $line in
    '') bad 'empty line'; return 1 ;;
    *[!A-Za-z0-9._/+,:\ -]*) bad 'character outside the protocol set'; return 1 ;;
    ' '* | *' ' | *'  '*) bad 'stray space'; return 1 ;;
  esac
  if [ "$lineno" = 1 ]; then
    case $line in
      'gridpkg-request 1') return 0 ;;
      'gridpkg-request '*) bad 'unsupported request version (this script speaks 1)'; return 1 ;;
      *) bad 'not a gridpkg request (first line must be "gridpkg-request 1")'; return 1 ;;
    esac
  fi
  directive=${line%% *}
  case $line in *' '*) args=${line#* } ;; *) args= ;; esac
  split_tokens "$args" || { bad "too many fields for $directive"; return 1; }
  case $directive in
    job | mode | vo | swdir | prefix | repository | lock-stale | expect-fingerprint | ended-job | automatic | known-listing)
      [ "$ntok" = 1 ] || { bad "$directive takes one value"; return 1; }
      ;;
    action)
      [ "$ntok" = 3 ] || [ "$ntok" = 4 ] || { bad 'action takes VERB PKGPATH PKGNAME [FILE]'; return 1; }
      ;;
    end)
      [ "$ntok" = 0 ] || { bad 'end takes no value'; return 1; }
      ;;
    *) bad 'unknown directive'; return 1 ;;
  esac
  case $directive in
    job)
      [ -z "$req_job" ] || { bad 'duplicate job'; return 1; }
      is_job_id "$t1" || { bad 'bad job id'; return 1; }
      req_job=$t1
      ;;
    mode)
      [ -z "$req_mode" ] || { bad 'duplicate mode'; return 1; }
      case $t1 in probe | apply) req_mode=$t1 ;; *) bad 'mode must be probe or apply'; return 1 ;; esac
      ;;
    vo)
      [ -z "$req_vo" ] || { bad 'duplicate vo'; return 1; }
      is_vo_name "$t1" || { bad 'bad VO name'; return 1; }
      req_vo=$t1
      ;;
    swdir)
      [ -z "$req_swdir" ] || { bad 'duplicate swdir'; return 1; }
      is_abs_path "$t1" || { bad 'bad swdir path'; return 1; }
      req_swdir=$t1
      ;;
    prefix)
      [ -z "$req_prefix" ] || { bad 'duplicate prefix'; return 1; }
      is_abs_path "$t1" || { bad 'bad prefix path'; return 1; }
      req_prefix=$t1
      ;;
    repository)
      [ -z "$req_repository" ] || { bad 'duplicate repository'; return 1; }
      is_abs_path "$t1" || is_url "$t1" || { bad 'bad repository path or URL'; return 1; }
      req_repository=$t1
      ;;
    lock-stale)
      [ -z "$req_lock_stale" ] || { bad 'duplicate lock-stale'; return 1; }
      is_seconds "$t1" || { bad 'lock-stale must be 1-9 digits'; return 1; }
      req_lock_stale=$t1
      ;;
    expect-fingerprint)
      [ -z "$req_expect" ] || { bad 'duplicate expect-fingerprint'; return 1; }
      is_fingerprint "$t1" || { bad 'bad fingerprint'; return 1; }
      req_expect=$t1
      ;;
    ended-job)
      [ "$n_ended" -lt "$MAX_ENDED" ] || { bad "more than $MAX_ENDED ended-job lines"; return 1; }
      is_job_id "$t1" || { bad 'bad ended-job id'; return 1; }
      n_ended=$((n_ended + 1))
      req_ended="$req_ended$t1 "
      ;;
    automatic)
      is_pkgname "$t1" || { bad 'bad automatic PKGNAME'; return 1; }
      case $req_automatic in *" $t1 "*) bad 'duplicate automatic'; return 1 ;; esac
      [ "$first_automatic" != 0 ] || first_automatic=$lineno
      req_automatic="$req_automatic$t1 "
      ;;
    known-listing)
      [ "$n_known" -lt "$MAX_KNOWN" ] || { bad "more than $MAX_KNOWN known-listing lines"; return 1; }
      is_listing_digest "$t1" || { bad 'bad known-listing digest'; return 1; }
      n_known=$((n_known + 1))
      req_known="$req_known$t1 "
      ;;
    action)
      case $t1 in install | upgrade | downgrade | remove | upgrade-pkg_install) ;; *) bad 'unknown action verb'; return 1 ;; esac
      is_pkgpath "$t2" || { bad 'bad PKGPATH'; return 1; }
      is_pkgname "$t3" || { bad 'bad PKGNAME'; return 1; }
      # pkgsrc.minPkgInstall: pkg_install upgrades itself, and only as the first action (the rest was planned for
      # the new one).
      if [ "$t1" = upgrade-pkg_install ]; then
        [ "$n_actions" = 0 ] || { bad 'upgrade-pkg_install only as the first action'; return 1; }
        [ "$t2" = pkgtools/pkg_install ] || { bad 'upgrade-pkg_install takes pkgtools/pkg_install'; return 1; }
        case $t3 in pkg_install-[0-9]*) ;; *) bad 'upgrade-pkg_install takes a pkg_install PKGNAME'; return 1 ;; esac
      fi
      # install, upgrade and downgrade add one exact file of the repository (FILE_NAME): no directory listing.
      case $t1 in
        remove) [ "$ntok" = 3 ] || { bad 'remove takes no FILE'; return 1; } ;;
        *)
          [ "$ntok" = 4 ] || { bad "$t1 needs the package FILE"; return 1; }
          is_file_name "$t4" || { bad 'bad FILE'; return 1; }
          ;;
      esac
      n_actions=$((n_actions + 1))
      [ "$first_action" != 0 ] || first_action=$lineno
      printf '%s %s %s%s\n' "$t1" "$t2" "$t3" "${t4:+ $t4}" >>"$WORK/actions"
      ;;
    end)
      seen_end=$lineno
      ;;
  esac
  return 0
}

# Reads the request file line by line (read -r: no backslash processing; IFS=: no trimming).
read_request() {
  lineno=0 seen_end=0
  if [ ! -f "$REQUEST_FILE" ] || [ ! -r "$REQUEST_FILE" ]; then
    req_error='cannot read the request file'
    return 1
  fi
  # Shells drop NUL bytes while reading, so look for them first (as \001, which is refused as well).
  nul_line=$(tr '\000' '\001' <"$REQUEST_FILE" | awk '/\001/ { print NR; exit }')
  if [ -n "$nul_line" ]; then
    req_error="invalid request line $nul_line: control character"
    return 1
  fi
  while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    if [ "$seen_end" != 0 ]; then
      req_error="invalid request line $lineno: text after end"
      return 1
    fi
    request_line "$lineno" "$line" || return 1
  done <"$REQUEST_FILE"
  [ "$lineno" != 0 ] || { req_error='invalid request line 1: empty request'; return 1; }
  [ "$seen_end" != 0 ] || { req_error="invalid request line $lineno: no end line (truncated request)"; return 1; }
  [ -n "$req_job" ] || { req_error="invalid request line $seen_end: no job line"; return 1; }
  [ -n "$req_mode" ] || { req_error="invalid request line $seen_end: no mode line"; return 1; }
  if [ "$req_mode" = probe ]; then
    [ "$n_actions" = 0 ] || { req_error="invalid request line $first_action: a probe carries no actions"; return 1; }
    [ "$first_automatic" = 0 ] || { req_error="invalid request line $first_automatic: a probe carries no automatic lines"; return 1; }
    [ -z "$req_expect" ] || { req_error="invalid request line $seen_end: expect-fingerprint is for apply jobs"; return 1; }
  fi
  return 0
}

read_request

report_line 'gridpkg-report 1'
if [ -z "$req_error" ]; then
  report_line "job $req_job"
  report_line "mode $req_mode"
fi

# ---------------------------------------------------------------------------------------------------------------
# 3. Host facts (free text, sanitised)
# ---------------------------------------------------------------------------------------------------------------

# How this script is being run: bash (also --posix) says so in BASH_VERSION; otherwise the shell's executable.
shell_name() {
  if [ -n "${BASH_VERSION:-}" ]; then
    echo bash
    return
  fi
  exe=$(readlink "/proc/$$/exe" 2>/dev/null) || exe=
  case ${exe##*/} in
    '') echo sh ;;
    busybox*) echo busybox ;;
    *) echo "${exe##*/}" ;;
  esac
}

fact() {
  value=$(clean_text "$2" 200)
  report_line "fact $1 ${value:-unknown}"
}
host=$(uname -n 2>/dev/null)
fact hostname "$host"
fact os "$(uname -s 2>/dev/null)"
fact arch "$(uname -m 2>/dev/null)"
fact shell "$(shell_name)"

if [ -n "$req_error" ]; then
  finish error "$req_error"
fi

# ---------------------------------------------------------------------------------------------------------------
# 4. The VO software area: `swdir` from the request, else VO_<VO>_SW_DIR (VO from the request or the proxy)
# ---------------------------------------------------------------------------------------------------------------

swdir=$req_swdir
if [ -z "$swdir" ]; then
  vo=$req_vo
  if [ -z "$vo" ] && command -v voms-proxy-info >/dev/null 2>&1; then
    vo=$(voms-proxy-info -vo 2>/dev/null </dev/null 3>&-) || vo=
    is_vo_name "$vo" || finish error 'the request names no swdir or vo, and voms-proxy-info -vo gave no usable VO'
  fi
  [ -n "$vo" ] || finish error 'the request names no swdir or vo, and there is no VOMS proxy to ask'
  # VO upper-cased, . and - turned into _: the variable name is then [A-Z0-9_] only. Read with printenv, no eval.
  sw_var=VO_$(printf '%s' "$vo" | tr 'abcdefghijklmnopqrstuvwxyz.-' 'ABCDEFGHIJKLMNOPQRSTUVWXYZ__')_SW_DIR
  swdir=$(printenv "$sw_var" 2>/dev/null) || swdir=
  [ -n "$swdir" ] || finish error "$sw_var is not set: cannot find the software area of VO $vo"
  is_abs_path "$swdir" || finish error "$sw_var is not a safe absolute path"
fi
report_line "swdir $swdir"

[ -d "$swdir" ] || finish error "software area $swdir is not a directory"
write_test=$swdir/.gridpkg-write-test.$$
if touch "$write_test" 2>/dev/null && rm -f "$write_test"; then :; else
  finish error "software area $swdir is not writable"
fi

prefix=${req_prefix:-$swdir/pkg}
is_abs_path "$prefix" || finish error "prefix $prefix is not a safe absolute path"

# ---------------------------------------------------------------------------------------------------------------
# 5. The site lock: mkdir SWDIR/.gridpkg-lock (atomic), owner file "JOBID HOST PID EPOCH", heartbeat file "EPOCH"
# ---------------------------------------------------------------------------------------------------------------

now_epoch() {
  t=$(date +%s 2>/dev/null)
  case $t in '' | *[!0-9]*) t=$(awk 'BEGIN { srand(); printf "%d\n", srand() }') ;; esac
  printf '%s\n' "$t"
}

is_epoch() { # seconds since 1970: 0-9, at most 12 digits
  case $1 in '' | *[!0-9]*) return 1 ;; esac
  [ "${#1}" -le 12 ]
}

is_pid() { # a process id: 1-10 digits, no leading zero
  case $1 in '' | 0* | *[!0-9]*) return 1 ;; esac
  [ "${#1}" -le 10 ]
}

is_host() { # a host name as the owner line keeps it: A-Z a-z 0-9 . _ -
  case $1 in '' | *[!A-Za-z0-9._-]*) return 1 ;; esac
  [ "${#1}" -le 255 ]
}

# Seconds from epoch $1 to now, never negative (a writer whose clock runs ahead looks fresh, not stale).
age_since() {
  then_epoch=$1
  while :; do # no leading zeros in arithmetic
    case $then_epoch in 0?*) then_epoch=${then_epoch#0} ;; *) break ;; esac
  done
  age=$(($(now_epoch) - then_epoch))
  [ "$age" -ge 0 ] || age=0
  printf '%s\n' "$age"
}

lock_stale=${req_lock_stale:-1800}
while :; do # strip leading zeros: some shells read 010 as octal
  case $lock_stale in 0?*) lock_stale=${lock_stale#0} ;; *) break ;; esac
done
# The holder proves it is alive by rewriting the heartbeat every heartbeat_every seconds: a tenth of lock-stale,
# at least 1 s and at most 10 s. The cap keeps every holder's heartbeat young for any reader, whatever lock-stale
# each was given: at the spec's floor of 60 s a heartbeat is stale only after 50 s more than the holder needs.
heartbeat_every=$((lock_stale / 10))
if [ "$heartbeat_every" -lt 1 ]; then
  heartbeat_every=1
elif [ "$heartbeat_every" -gt 10 ]; then
  heartbeat_every=10
fi
lock_dir=$swdir/.gridpkg-lock
owner_host=$(printf '%s' "$host" | tr -cd 'A-Za-z0-9._-')
owner_host=${owner_host:-unknown}
my_owner="$req_job $owner_host $$ $(now_epoch)"

# Takes the lock: 0 when taken, 1 when it exists. Sets lock_owner while we hold it.
take_lock() {
  mkdir "$lock_dir" 2>/dev/null || return 1
  if printf '%s\n' "$my_owner" >"$lock_dir/owner"; then
    lock_owner=$my_owner
    return 0
  fi
  rmdir "$lock_dir" 2>/dev/null
  finish error "cannot write the lock owner file in $lock_dir"
}

# Is the lock directory still ours (its owner line is ours)?
lock_is_ours() {
  owner_now=''
  IFS= read -r owner_now <"$lock_dir/owner" 2>/dev/null
  [ -n "$lock_owner" ] && [ "$owner_now" = "$lock_owner" ]
}

# One heartbeat: the current epoch, written to a temporary file inside the lock directory and renamed over the
# last one, so that a reader never sees half a line. Readers go by the content, not the mtime: NFS clients cache
# file attributes.
beat() {
  printf '%s\n' "$(now_epoch)" >"$lock_dir/heartbeat.new" 2>/dev/null &&
    mv -f "$lock_dir/heartbeat.new" "$lock_dir/heartbeat" 2>/dev/null
}

# The background heartbeat: beats every heartbeat_every seconds for as long as the job's shell (pid $1) lives and
# the lock is still ours, so it stops by itself when the job is killed. TERM (stop_heartbeat) ends it and its sleep.
heartbeat_loop() {
  sleeper=''
  trap - EXIT HUP INT # never the job's own traps (they would release the lock or write the report)
  trap 'if [ -n "$sleeper" ]; then kill "$sleeper" 2>/dev/null; wait "$sleeper"; fi; exit 0' TERM
  while kill -0 "$1" 2>/dev/null && lock_is_ours; do
    beat
    sleep "$heartbeat_every" &
    sleeper=$!
    wait "$sleeper"
    sleeper=''
  done
}

# Starts the heartbeat: the first beat in the foreground (so there is one before anything else happens), then the
# loop in the background with every descriptor closed or on /dev/null (it must not hold the job's output open).
start_heartbeat() {
  beat
  heartbeat_loop "$$" </dev/null >/dev/null 2>&1 3>&- &
  heartbeat_pid=$!
}

# Between actions: the heartbeat must still be going. A loop that died (killed from outside) leaves a heartbeat
# older than three intervals: it is started again. (A dead child may linger as a zombie, so kill -0 cannot tell.)
keep_heartbeat() {
  last_beat=''
  IFS= read -r last_beat <"$lock_dir/heartbeat" 2>/dev/null
  if ! is_epoch "$last_beat" || [ "$(age_since "$last_beat")" -gt $((3 * heartbeat_every)) ]; then
    stop_heartbeat
    start_heartbeat
  fi
}

# Reads the lock found at lock_dir: its owner line (old_owner) and, when that is a well-formed
# "JOBID HOST PID EPOCH", its fields old_job, old_host, old_pid, old_epoch (else they are empty); old_beat, the
# content of its heartbeat, and beat_age (seconds since that heartbeat; empty without one); lock_age (seconds
# since it was taken; empty when unknown); shown_owner, the owner for the report:
# "JOBID HOST PID EPOCH [heartbeat AGE]", else the line made safe, else "unknown owner".
inspect_lock() {
  old_owner='' old_job='' old_host='' old_pid='' old_epoch='' old_beat='' beat_age='' lock_age=''
  IFS= read -r old_owner <"$lock_dir/owner" 2>/dev/null
  case $old_owner in
    *' '*' '*' '*' '*) ;; # more than four fields
    ?*' '?*' '?*' '?*)
      old_job=${old_owner%% *} owner_rest=${old_owner#* }
      old_host=${owner_rest%% *} owner_rest=${owner_rest#* }
      old_pid=${owner_rest%% *} old_epoch=${owner_rest#* }
      ;;
  esac
  if ! is_job_id "$old_job" || ! is_host "$old_host" || ! is_pid "$old_pid" || ! is_epoch "$old_epoch"; then
    old_job='' old_host='' old_pid='' old_epoch=''
  fi
  IFS= read -r old_beat <"$lock_dir/heartbeat" 2>/dev/null
  if is_epoch "$old_beat"; then beat_age=$(age_since "$old_beat"); fi
  if [ -n "$old_epoch" ]; then lock_age=$(age_since "$old_epoch"); fi
  if [ -n "$old_job" ]; then
    shown_owner="$old_job $old_host $old_pid $old_epoch${beat_age:+ heartbeat $beat_age}"
  else
    shown_owner=$(clean_text "$old_owner" 200)
    shown_owner=${shown_owner:-unknown owner}
  fi
}

# May the lock inspect_lock read be broken? Never while its holder runs on this very host (same host name, its
# pid alive: kill -0, or /proc/PID when the holder runs under another account), whatever its age. Otherwise when
# the controller named its job as ended (break_kind ended), or when its last heartbeat is older than lock-stale
# (break_kind stale). Without a heartbeat (a job that died right after taking the lock, or an older script) the
# owner's EPOCH counts, and without an owner line the age of the directory.
lock_breakable() {
  break_kind='' holder_here=0
  if [ -n "$old_pid" ] && [ "$old_host" = "$owner_host" ]; then
    if kill -0 "$old_pid" 2>/dev/null || [ -d "/proc/$old_pid" ]; then
      holder_here=1
      return 1
    fi
  fi
  if [ -n "$old_job" ]; then
    case $req_ended in *" $old_job "*)
      break_kind=ended
      return 0
      ;;
    esac
  fi
  if [ -n "$beat_age" ]; then
    [ "$beat_age" -gt "$lock_stale" ] || return 1
  elif [ -n "$lock_age" ]; then
    [ "$lock_age" -gt "$lock_stale" ] || return 1
  else
    old=$(find "$lock_dir" -prune -mmin "+$(((lock_stale + 59) / 60))" 2>/dev/null) || old=
    [ -n "$old" ] || return 1
  fi
  break_kind=stale
}

# Why a lock is kept (the status message of a locked job).
busy_reason() {
  if [ "$holder_here" = 1 ]; then
    echo "another job holds the site lock: its process $old_pid is running on this host"
  elif [ -n "$beat_age" ]; then
    echo "another job holds the site lock: its last heartbeat was $beat_age s ago; it is broken after $lock_stale s without one"
  elif [ -n "$lock_age" ]; then
    echo "another job holds the site lock: taken $lock_age s ago, no heartbeat yet; it is broken after $lock_stale s"
  else
    echo "another job holds the site lock; it is broken after $lock_stale s"
  fi
}

critical=1 # until the lock is ours or known to be someone else's
# A lock released between our mkdir and our look at it is simply taken on the second try.
if take_lock || { [ ! -e "$lock_dir" ] && take_lock; }; then
  report_line 'lock acquired'
elif [ ! -e "$lock_dir" ]; then
  finish error "cannot create the lock directory $lock_dir"
else
  inspect_lock
  if lock_breakable; then
    # Rename first, to a name only this job uses: of two jobs breaking the same lock only one rename succeeds.
    broken=$lock_dir.stale.$req_job.$$
    if mv "$lock_dir" "$broken" 2>/dev/null; then
      moved_owner='' moved_beat=''
      IFS= read -r moved_owner <"$broken/owner" 2>/dev/null
      IFS= read -r moved_beat <"$broken/heartbeat" 2>/dev/null
      if [ "$moved_owner" != "$old_owner" ] || [ "$moved_beat" != "$old_beat" ]; then
        # Not the lock that was judged (another job took it afresh), or its holder beat in between: give it back.
        [ -e "$lock_dir" ] || mv "$broken" "$lock_dir" 2>/dev/null
        report_line "lock busy $shown_owner"
        finish locked 'another job took the lock, or its holder showed a heartbeat, while it was being broken'
      fi
      rm -rf "$broken"
    fi
    if take_lock; then
      report_line "lock broken-$break_kind $shown_owner"
    else
      report_line "lock busy $shown_owner"
      finish locked 'another job broke the lock first'
    fi
  else
    report_line "lock busy $shown_owner"
    finish locked "$(busy_reason)"
  fi
fi
start_heartbeat
critical=0
if [ -n "$signal_pending" ]; then on_signal "$signal_pending"; fi

# ---------------------------------------------------------------------------------------------------------------
# 6. pkgsrc under the prefix: the pkg_install tools and the package database
# ---------------------------------------------------------------------------------------------------------------

SBIN=$prefix/sbin
PKG_INFO=$SBIN/pkg_info
PKG_ADD=$SBIN/pkg_add
PKG_DELETE=$SBIN/pkg_delete
PKG_ADMIN=$SBIN/pkg_admin

pkgsrc_absent() {
  report_line "pkgsrc absent $prefix"
  finish error "pkgsrc is not installed under $prefix ($1); bootstrapping is not implemented yet"
}
for tool in "$PKG_INFO" "$PKG_ADD" "$PKG_DELETE" "$PKG_ADMIN"; do
  if [ ! -f "$tool" ] || [ ! -x "$tool" ]; then pkgsrc_absent "no executable ${tool#"$prefix"/}"; fi
done
pkgdb=$("$PKG_ADMIN" config-var PKG_DBDIR 2>/dev/null </dev/null 3>&-) || pkgdb=
is_abs_path "$pkgdb" || pkgsrc_absent 'pkg_admin config-var PKG_DBDIR gave no usable path'

# Is that database this site's? pkg_install has PKG_DBDIR compiled in at bootstrap, so a prefix copied or moved
# elsewhere still reads and writes the original's database. Accepted: a database inside the prefix (where
# `bootstrap --unprivileged` puts it, PREFIX/pkgdb), by its path or physically (symbolic links resolved); or the one
# that PKG_DBDIR in the job's environment names (set on purpose by the site's configuration).
pkgdb_is_sites() {
  case $1 in "$prefix"/*) return 0 ;; esac
  if [ -n "${PKG_DBDIR:-}" ] && [ "$1" = "$PKG_DBDIR" ]; then return 0; fi
  physical_db=$(cd "$1" 2>/dev/null && pwd -P) || return 1
  physical_prefix=$(cd "$prefix" 2>/dev/null && pwd -P) || return 1
  case $physical_db in "$physical_prefix"/*) return 0 ;; esac
  return 1
}
if ! pkgdb_is_sites "$pkgdb"; then
  report_line "pkgsrc foreign-pkgdb $prefix $pkgdb"
  finish error "the package database $pkgdb is not this site's: bootstrap pkgsrc again at $prefix, or set PKG_DBDIR in the job's environment"
fi
[ -d "$pkgdb" ] || pkgsrc_absent "no package database $pkgdb"

# The pkg_install version, from its own registration in the package database.
pkg_install_version=unknown
for entry in "$pkgdb"/pkg_install-*; do
  candidate=${entry##*/pkg_install-}
  if [ -d "$entry" ] && is_version "$candidate"; then pkg_install_version=$candidate; fi
done
report_line "pkgsrc present $prefix $pkg_install_version"

# The software area must stay writable for every pool account the VO's software manager maps to: a real
# `bootstrap --unprivileged` leaves pkgdb/ 0755 and its database files 0644, and a umask does not change what
# exists. Counted: directories of the prefix (and of a database outside it) and the files pkg_add rewrites in place
# (pkgdb.byfile.db, +REQUIRED_BY) that are not group-writable; and whether this job's account can create files in
# the prefix and the database at all (if not, an apply would fail).
area_write=writable
for dir in "$prefix" "$pkgdb"; do
  probe_file=$dir/.gridpkg-write-test.$$
  if (: >"$probe_file") 2>/dev/null; then rm -f "$probe_file"; else area_write=read-only; fi
done
set -- "$prefix"
case $pkgdb in "$prefix"/*) ;; *) set -- "$prefix" "$pkgdb" ;; esac
find "$@" \( -type d -o -name pkgdb.byfile.db -o -name +REQUIRED_BY \) ! -perm -020 -print 2>/dev/null </dev/null 3>&- >"$WORK/unshared"
unshared=$(wc -l <"$WORK/unshared" | tr -cd '0-9')
unshared=${unshared:-0}
first_unshared=
if [ "$unshared" -gt 0 ]; then first_unshared=$(clean_text "$(head -n 1 "$WORK/unshared")" 400); fi
report_line "software-area $area_write $unshared${first_unshared:+ $first_unshared}"

# ---------------------------------------------------------------------------------------------------------------
# 7. Fingerprint before; optimistic concurrency
# ---------------------------------------------------------------------------------------------------------------

# awk functions shared by the programs that read the package database and pkg_summary: the PKGPATH and
# dependency-pattern character sets of the protocol (src/grid/protocol/tokens.ts), checked on the site too.
AWK_TOKEN_CHECKS='
    function pkgpath_ok(p,    c, n) {
      if (length(p) > 1024 || p !~ /^[A-Za-z0-9._+-]+\/[A-Za-z0-9._+-]+$/) return 0
      c = p; sub(/\/.*/, "", c); n = p; sub(/^[^\/]*\//, "", n)
      return c != "." && c != ".." && n != "." && n != ".." && c !~ /^-/ && n !~ /^-/
    }
    function pattern_ok(p,    i, ch, depth) {
      if (length(p) > 1024 || p !~ /^[]A-Za-z0-9._+<>=*?{},[-]+$/ || p ~ /^-/) return 0
      depth = 0
      for (i = 1; i <= length(p); i++) {
        ch = substr(p, i, 1)
        if (ch == "{") depth++
        else if (ch == "}" && --depth < 0) return 0
      }
      return depth == 0
    }
'

# Lists the package database in one awk pass: "pkg PKGNAME PKGPATH AUTOMATIC" lines, then "dep PKGNAME PATTERN"
# lines, then "note ..." lines for whatever had to be skipped. Directory names are checked here, file contents
# in awk, with the same rules as the token checks above.
list_pkgdb() {
  unsafe=0
  : >"$WORK/names"
  for entry in "$pkgdb"/*; do
    if [ -d "$entry" ] && [ -f "$entry/+CONTENTS" ]; then
      if is_pkgname "${entry##*/}"; then
        printf '%s\n' "${entry##*/}" >>"$WORK/names"
      else
        unsafe=$((unsafe + 1))
      fi
    fi
  done
  awk -v db="$pkgdb" "$AWK_TOKEN_CHECKS"'
    {
      name = $0; path = "-"; auto = "no"
      f = db "/" name "/+BUILD_INFO"
      while ((getline line < f) > 0) if (substr(line, 1, 8) == "PKGPATH=") path = substr(line, 9)
      close(f)
      if (path != "-" && !pkgpath_ok(path)) { badpath++; path = "-" }
      f = db "/" name "/+INSTALLED_INFO"
      while ((getline line < f) > 0) if (tolower(line) ~ /^automatic=yes[ \t]*$/) auto = "yes"
      close(f)
      print "pkg " name " " path " " auto
      f = db "/" name "/+CONTENTS"
      while ((getline line < f) > 0) {
        if (substr(line, 1, 8) != "@pkgdep ") continue
        p = substr(line, 9)
        if (pattern_ok(p)) deps[++ndeps] = "dep " name " " p
        else baddep++
      }
      close(f)
    }
    END {
      for (i = 1; i <= ndeps; i++) print deps[i]
      if (badpath) print "note " badpath " installed package(s) with an unsafe PKGPATH listed with PKGPATH -"
      if (baddep) print "note " baddep " @pkgdep line(s) with an unsafe pattern skipped"
    }' <"$WORK/names"
  if [ "$unsafe" != 0 ]; then
    echo "note $unsafe package database entr(y/ies) with an unsafe name skipped"
  fi
}

# ALGO:DIGEST of the sorted pkg lines of listing $1. sha256 when sha256sum exists, else POSIX cksum; $2 forces an
# algorithm (the expected fingerprint's, so a site with mixed worker nodes still compares like with like).
fingerprint() {
  algo=${2:-}
  if [ -z "$algo" ]; then
    if command -v sha256sum >/dev/null 2>&1; then algo='sha256'; else algo='cksum'; fi
  fi
  case $algo in
    sha256)
      command -v sha256sum >/dev/null 2>&1 || return 1
      digest=$(grep '^pkg ' "$1" | sed 's/^pkg //' | LC_ALL=C sort | sha256sum | cut -d ' ' -f 1)
      ;;
    cksum)
      digest=$(grep '^pkg ' "$1" | sed 's/^pkg //' | LC_ALL=C sort | cksum | awk '{ print $1 "-" $2 }')
      ;;
    *) return 1 ;;
  esac
  is_fingerprint "$digest" || return 1
  printf '%s:%s\n' "$algo" "$digest"
}

list_pkgdb >"$WORK/before"
expect_algo=
case $req_expect in sha256:* | cksum:*) expect_algo=${req_expect%%:*} ;; esac
fp_before=$(fingerprint "$WORK/before" "$expect_algo") || fp_before=
if [ -z "$fp_before" ]; then
  fp_before=$(fingerprint "$WORK/before") || finish error 'cannot compute the package database fingerprint'
fi
report_line "fingerprint before $fp_before"

stale=0
if [ -n "$req_expect" ] && [ "$req_expect" != "$fp_before" ]; then
  stale=1 # someone changed the site since the plan was made: no action, but the full post-state below
fi

# Fetches URL $1 into file $2 with what the worker node has, in this order: curl, wget, busybox wget, ftp (BSD
# auto-fetch). The URL is always one quoted argument (it was validated by is_url), never eval'd. Sets fetch_how to
# "TOOL exit N" on failure.
fetch_url() {
  fetch_file=$2
  rm -f "$fetch_file"
  if command -v curl >/dev/null 2>&1; then
    set -- curl -fsS --connect-timeout 60 --max-time 600 -o "$2" --url "$1"
  elif command -v wget >/dev/null 2>&1; then
    set -- wget -q -T 60 -t 2 -O "$2" -- "$1"
  elif command -v busybox >/dev/null 2>&1; then
    set -- busybox wget -q -O "$2" -- "$1" # no -T: some busybox builds crash with it on a failed fetch
  elif command -v ftp >/dev/null 2>&1; then
    set -- ftp -o "$2" "$1"
  else
    fetch_how='no curl, wget, busybox or ftp on the node'
    return 1
  fi
  "$@" </dev/null >/dev/null 2>&1 3>&-
  fetch_rc=$?
  [ "$fetch_rc" = 0 ] && [ -f "$fetch_file" ] && return 0
  rm -f "$fetch_file"
  fetch_how="$1 exit $fetch_rc"
  [ "$1" = busybox ] && fetch_how="busybox wget exit $fetch_rc"
  return 1
}

# ---------------------------------------------------------------------------------------------------------------
# 8. Actions, in the order given; a failed one does not stop the others
# ---------------------------------------------------------------------------------------------------------------

if [ -n "$req_repository" ]; then
  PKG_PATH=$req_repository
  export PKG_PATH
fi

# Runs a pkg tool with its output captured; on failure sets tool_message to a one-line summary.
run_tool() {
  tool_name=${1##*/}
  "$@" </dev/null >"$WORK/tool.out" 2>&1 3>&-
  rc=$?
  tool_message=$(clean_stream "$MAX_MESSAGE" <"$WORK/tool.out")
  if [ "$rc" != 0 ]; then tool_message="$tool_name exit $rc: ${tool_message:-no output}"; fi
  return "$rc"
}

is_installed() {
  "$PKG_INFO" -E "$1" </dev/null >/dev/null 2>&1 3>&-
}

# An install the plan makes only because another package needs it is marked automatic, as pkg_add marks the
# dependencies it pulls in itself (so pkg_info -u and import still tell what the VO asked for).
mark_automatic() {
  case $req_automatic in
    *" $1 "*)
      run_tool "$PKG_ADMIN" set automatic=YES "$1" || message="installed, but not marked automatic: $tool_message"
      ;;
  esac
}

# The prefix binary package file $1 was built for: its first @cwd (`pkg_info -q -p FILE`, one `@cwd PATH` line per
# @cwd). Sets file_prefix; sets file_prefix_problem and fails when it cannot be read or some @cwd differs from it.
read_file_prefix() {
  file_prefix='' file_prefix_problem=''
  "$PKG_INFO" -q -p "$1" </dev/null >"$WORK/cwd.out" 2>&1 3>&-
  cwd_rc=$?
  if [ "$cwd_rc" != 0 ]; then
    file_prefix_problem="pkg_info -q -p exit $cwd_rc: $(clean_stream 200 <"$WORK/cwd.out")"
    return 1
  fi
  file_prefix=$(awk '/^@cwd / { sub(/^@cwd /, ""); if (first == "") first = $0; else if ($0 != first) other = 1 }
    END { if (!other) print first }' "$WORK/cwd.out")
  if ! is_abs_path "$file_prefix"; then
    file_prefix_problem="pkg_info -q -p names no single usable prefix: $(clean_stream 200 <"$WORK/cwd.out")"
    file_prefix=''
    return 1
  fi
}

# Makes repository file $1 (FILE_NAME) ready for pkg_add: the file in a directory repository, or for a URL
# repository a copy fetched to scratch space (so the file checked is the file added). Sets package_file, or
# package_problem and fails.
get_package_file() {
  package_file='' package_problem=''
  case $req_repository in
    '') package_problem='the request names no repository' ;;
    /*)
      package_file=$req_repository/$1
      [ -f "$package_file" ] || package_problem="no package file $package_file"
      ;;
    *)
      mkdir -p "$WORK/packages"
      package_file=$WORK/packages/$1
      fetch_how=
      fetch_url "$req_repository/$1" "$package_file" || package_problem="cannot fetch $req_repository/$1 ($fetch_how)"
      ;;
  esac
  [ -z "$package_problem" ]
}

# Adds exact package file $2 (FILE_NAME) with pkg_add options $1 (`-u` or empty), but only when it was built for
# this site's prefix: a binary package installs into its own @cwd, so one built for another prefix would write into
# another software area. Sets result and message.
add_package_file() {
  if ! get_package_file "$2"; then
    result=failed message=$package_problem
  elif ! read_file_prefix "$package_file"; then
    result=failed message="cannot tell the prefix of $2: $file_prefix_problem; not installed"
  elif [ "$file_prefix" != "$prefix" ]; then
    result=failed message="$2 is built for prefix $file_prefix, not this site's prefix $prefix; not installed (pkg_add would write into $file_prefix)"
  elif [ -n "$1" ]; then
    run_tool "$PKG_ADD" "$1" "$package_file" || result=failed message=$tool_message
  else
    run_tool "$PKG_ADD" "$package_file" || result=failed message=$tool_message
  fi
  [ -z "$package_file" ] || case $package_file in "$WORK"/*) rm -f "$package_file" ;; esac
}

failed=0
index=0
tools_failed=0
if [ "$stale" = 0 ]; then
  while IFS= read -r action; do
    split_tokens "$action" # our own file of validated "VERB PKGPATH PKGNAME [FILE]" lines
    verb=$t1 pkgpath=$t2 pkgname=$t3 file=$t4
    index=$((index + 1))
    # A lock taken from this job (a stopped or suspended job judged dead) means another job may be acting now.
    if ! lock_is_ours; then
      finish error "the site lock was taken from this job: $((index - 1)) of $n_actions action(s) done, the rest not run"
    fi
    keep_heartbeat
    result=ok message=
    # The actions after a failed pkg_install upgrade were planned for the new pkg_install (packages the old one
    # refuses): none of them runs with the old one.
    [ "$tools_failed" = 0 ] || verb="not-run $verb"
    case $verb in
      'not-run '*)
        verb=${verb#not-run } result=failed message='not run: the pkg_install upgrade before it failed'
        ;;
      upgrade-pkg_install)
        if is_installed "$pkgname"; then
          result=skipped message='already installed'
        else
          add_package_file -u "$file"
          [ "$result" != failed ] || tools_failed=1
        fi
        ;;
      install)
        if is_installed "$pkgname"; then
          result=skipped message='already installed'
        else
          add_package_file '' "$file"
          [ "$result" = failed ] || mark_automatic "$pkgname"
        fi
        ;;
      upgrade | downgrade)
        if is_installed "$pkgname"; then
          result=skipped message='already installed'
        else
          add_package_file -u "$file"
        fi
        ;;
      remove)
        if ! is_installed "$pkgname"; then
          result=skipped message='not installed'
        elif ! run_tool "$PKG_DELETE" "$pkgname"; then
          result=failed message=$tool_message
        fi
        ;;
    esac
    [ "$result" != failed ] || failed=$((failed + 1))
    message=$(clean_text "$message" "$MAX_MESSAGE")
    report_line "action $index $verb $pkgpath $pkgname $result${message:+ $message}"
  done <"$WORK/actions"
fi

# ---------------------------------------------------------------------------------------------------------------
# 9. Post-state
# ---------------------------------------------------------------------------------------------------------------

list_pkgdb >"$WORK/after"
{
  grep '^pkg ' "$WORK/after"
  grep '^dep ' "$WORK/after"
  grep '^note ' "$WORK/after"
} >>"$REPORT_TMP"

# What the repository offers, from its pkg_summary (records separated by blank lines): one line per record,
# "avail PKGNAME PKGPATH FILE_NAME PKGTOOLS_VERSION OPSYS MACHINE_ARCH DEPENDS..." (`-` for a value the record
# lacks). A record with any unsafe value is skipped whole: a package listed without one of its DEPENDS would be
# planned as if it needed less than pkg_add will ask for.
list_summary() {
  awk "$AWK_TOKEN_CHECKS"'
    function name_ok(n) {
      return length(n) <= 1024 && n ~ /^[A-Za-z0-9_+]([A-Za-z0-9._+-]*[A-Za-z0-9._+])?-[0-9][A-Za-z0-9._+]*$/
    }
    function word_ok(w) {
      return w == "" || (length(w) <= 1024 && w ~ /^[A-Za-z0-9._+][A-Za-z0-9._+-]*$/ && w != "." && w != "..")
    }
    function dash(w) { return w == "" ? "-" : w }
    function flush(    line, i, ok) {
      if (n != "" || p != "") {
        ok = name_ok(n) && pkgpath_ok(p) && word_ok(f) && word_ok(t) && word_ok(o) && word_ok(a)
        line = "avail " n " " p " " dash(f) " " dash(t) " " dash(o) " " dash(a)
        for (i = 1; i <= nd; i++) { if (!pattern_ok(d[i])) ok = 0; line = line " " d[i] }
        if (ok) print line
        else bad++
      }
      n = ""; p = ""; f = ""; t = ""; o = ""; a = ""; nd = 0
    }
    /^PKGNAME=/ { n = substr($0, 9); next }
    /^PKGPATH=/ { p = substr($0, 9); next }
    /^FILE_NAME=/ { f = substr($0, 11); next }
    /^PKGTOOLS_VERSION=/ { t = substr($0, 18); next }
    /^OPSYS=/ { o = substr($0, 7); next }
    /^MACHINE_ARCH=/ { a = substr($0, 14); next }
    /^DEPENDS=/ { d[++nd] = substr($0, 9); next }
    /^$/ { flush() }
    END {
      flush()
      if (bad) print "note " bad " pkg_summary record(s) with an unsafe PKGNAME, PKGPATH, FILE_NAME, build fact or DEPENDS pattern skipped"
    }' "$1"
}

# sha256:HEX of file $1 with whichever tool the node has: sha256sum (GNU, busybox), shasum -a 256 (perl; BSD,
# macOS) or openssl. No weaker fallback: a listing is trusted by its digest, so without sha256 there is none and
# the listing is always sent.
sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    hex=$(sha256sum <"$1" | cut -d ' ' -f 1)
  elif command -v shasum >/dev/null 2>&1; then
    hex=$(shasum -a 256 <"$1" | cut -d ' ' -f 1)
  elif command -v openssl >/dev/null 2>&1; then
    hex=$(openssl dgst -sha256 <"$1" | awk '{ print $NF }')
  else
    return 1
  fi
  is_listing_digest "sha256:$hex" || return 1
  printf 'sha256:%s\n' "$hex"
}

if [ -n "$req_repository" ]; then
  summary=
  case $req_repository in
    /*)
      if [ -f "$req_repository/pkg_summary.gz" ] && gzip -dc "$req_repository/pkg_summary.gz" >"$WORK/summary" 2>/dev/null; then
        summary=$WORK/summary
      elif [ -f "$req_repository/pkg_summary.bz2" ] && command -v bzip2 >/dev/null 2>&1 &&
        bzip2 -dc "$req_repository/pkg_summary.bz2" >"$WORK/summary" 2>/dev/null; then
        summary=$WORK/summary
      elif [ -f "$req_repository/pkg_summary" ] && [ -r "$req_repository/pkg_summary" ]; then
        summary=$req_repository/pkg_summary
      fi
      summary_problem="no readable pkg_summary in $req_repository"
      ;;
    *)
      fetch_how=
      if fetch_url "$req_repository/pkg_summary.gz" "$WORK/summary.gz" &&
        gzip -dc "$WORK/summary.gz" >"$WORK/summary" 2>/dev/null; then
        summary=$WORK/summary
      elif command -v bzip2 >/dev/null 2>&1 &&
        fetch_url "$req_repository/pkg_summary.bz2" "$WORK/summary.bz2" &&
        bzip2 -dc "$WORK/summary.bz2" >"$WORK/summary" 2>/dev/null; then
        summary=$WORK/summary
      elif fetch_url "$req_repository/pkg_summary" "$WORK/summary"; then
        summary=$WORK/summary
      fi
      summary_problem="no readable pkg_summary at $req_repository (${fetch_how:-not a pkg_summary})"
      ;;
  esac
  if [ -n "$summary" ]; then
    list_summary "$summary" >"$WORK/listing"
    grep '^avail ' "$WORK/listing" >"$WORK/avail"
    # The listing goes back once per digest: one the controller named as known is left out of the report.
    listing_digest=$(sha256_of "$WORK/avail") || listing_digest=
    if [ -z "$listing_digest" ]; then
      cat "$WORK/avail" >>"$REPORT_TMP"
    else
      case $req_known in
        *" $listing_digest "*) report_line "repository-digest $listing_digest known" ;;
        *)
          report_line "repository-digest $listing_digest sent"
          cat "$WORK/avail" >>"$REPORT_TMP"
          ;;
      esac
    fi
    grep '^note ' "$WORK/listing" >>"$REPORT_TMP"
    # The prefix the repository's packages are built for, from one of its files (for a URL: one download): the
    # first record that passed the checks above. A site whose prefix differs cannot install from it: pkg_add would
    # extract into that other prefix.
    first_file=$(awk '$1 == "avail" { if ($4 != "-") print $4; else print $2 ".tgz"; exit }' "$WORK/avail")
    if ! is_file_name "$first_file"; then
      report_line 'note the repository prefix is unknown: pkg_summary names no usable package file'
    elif ! get_package_file "$first_file"; then
      report_line "note the repository prefix is unknown: $(clean_text "$package_problem" 200)"
    elif ! read_file_prefix "$package_file"; then
      report_line "note the repository prefix is unknown: $first_file: $(clean_text "$file_prefix_problem" 200)"
    else
      report_line "repository-prefix $file_prefix"
    fi
    [ -z "$package_file" ] || case $package_file in "$WORK"/*) rm -f "$package_file" ;; esac
  else
    report_line "note $summary_problem"
  fi
fi

# Vulnerability audit. Fetching a fresh list fails on a worker node without network: that is not an error, the
# audit then uses the list already on the site. `pkg_admin audit` exits 1 for findings, for a missing list and for
# a damaged one (`SHA512 hash doesn't match`): findings are told apart by their lines, a missing list by looking
# for the file; anything else means the audit did not run (`skipped`), which is never "no vulnerabilities".
fetch_note=
if ! run_tool "$PKG_ADMIN" fetch-pkg-vulnerabilities; then
  fetch_note="list not refreshed: $tool_message"
fi
run_tool "$PKG_ADMIN" audit
audit_rc=$rc
audit_message=$tool_message
awk '
  $1 == "Package" && $3 == "has" && $4 == "a" && $6 == "vulnerability," && $7 == "see" && NF >= 8 {
    name = $2; type = $5; url = $0; sub(/^.* vulnerability, see /, "", url)
    if (length(name) <= 1024 && name ~ /^[A-Za-z0-9_+]([A-Za-z0-9._+-]*[A-Za-z0-9._+])?-[0-9][A-Za-z0-9._+]*$/ &&
        length(type) <= 1024 && type ~ /^[A-Za-z0-9._+][A-Za-z0-9._+-]*$/ && url ~ /^[!-~][ -~]*$/)
      print "audit " name " " type " " substr(url, 1, 400)
  }' "$WORK/tool.out" >"$WORK/audit"

if [ -s "$WORK/audit" ]; then
  audit_status=vulnerable
elif [ "$audit_rc" = 0 ]; then
  audit_status=clean
else
  vulndir=$("$PKG_ADMIN" config-var PKGVULNDIR 2>/dev/null </dev/null 3>&-) || vulndir=
  if [ -z "$vulndir" ] || [ ! -f "$vulndir/pkg-vulnerabilities" ]; then
    audit_status=no-list fetch_note="no vulnerability list on the site: $audit_message${fetch_note:+; $fetch_note}"
  else
    audit_status=skipped fetch_note="$audit_message${fetch_note:+; $fetch_note}"
  fi
fi
fetch_note=$(clean_text "$fetch_note" "$MAX_MESSAGE")
report_line "audit-status $audit_status${fetch_note:+ $fetch_note}"
cat "$WORK/audit" >>"$REPORT_TMP"

fp_after=$(fingerprint "$WORK/after" "${fp_before%%:*}") || finish error 'cannot compute the package database fingerprint'
report_line "fingerprint after $fp_after"

# ---------------------------------------------------------------------------------------------------------------
# 10. Final status
# ---------------------------------------------------------------------------------------------------------------

if [ "$stale" = 1 ]; then
  finish stale "the package database changed since the plan: fingerprint $fp_before, expected $req_expect"
elif [ "$failed" != 0 ]; then
  finish partial "$failed of $n_actions action(s) failed"
else
  finish ok ''
fi
