/**
 * Shell functions that behave the same with GNU coreutils (Linux) and the BSD tools of macOS, where an operator runs the
 * runbook scripts (aws/deploy.sh) from a laptop. One copy each; a script includes those it calls.
 *
 * - Dates: `date -d` (parse a time, or @SECONDS) is GNU only; BSD date has -j -f and -r instead. `date -u +%s` and
 *   `date -u +FORMAT` are common to both. So a UTC time is turned into epoch seconds, and back, by arithmetic in awk
 *   (H. Hinnant's days_from_civil and civil_from_days, "chrono-Compatible Low-Level Date Algorithms"), the same
 *   arithmetic an engine's managed-cluster script does in shell. printf "%.0f" prints the seconds: an older mawk prints a
 *   number past 2^31 in %.6g with a plain print.
 * - sha256: GNU's `sha256sum`; macOS has none but `shasum -a 256` (Perl's), which prints the same "<hex>  -".
 * - base64 decoding: GNU base64 reads -d and --decode; macOS before 13 -D and --decode (its -d is --debug); macOS 13+
 *   -d and --decode; busybox only -d. So `--decode` when it decodes, else `openssl base64 -d -A` (one-line input).
 */

/** `epoch_of TIME`: the epoch seconds of a UTC time YYYY-MM-DDTHH:MM:SS[.fraction]Z; exit 1 (nothing printed) for another shape. `utc_of SECONDS`: back. */
export const PORTABLE_DATE: readonly string[] = [
  '# epoch_of TIME (YYYY-MM-DDTHH:MM:SS[.frac]Z) and utc_of SECONDS, in awk: date -d is GNU only (BSD date has -j -f, -r).',
  'epoch_of() {',
  `  printf '%s\\n' "$1" | awk '/^[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9](\\.[0-9]+)?Z$/ { y = substr($0, 1, 4) + 0; m = substr($0, 6, 2) + 0; d = substr($0, 9, 2) + 0; if (m <= 2) y--; era = int(y / 400); yoe = y - era * 400; doe = yoe * 365 + int(yoe / 4) - int(yoe / 100) + int((153 * ((m + 9) % 12) + 2) / 5) + d - 1; printf "%.0f\\n", (era * 146097 + doe - 719468) * 86400 + substr($0, 12, 2) * 3600 + substr($0, 15, 2) * 60 + substr($0, 18, 2); ok = 1 } END { exit !ok }'`,
  '}',
  'utc_of() {',
  `  awk -v s="$1" 'BEGIN { z = int(s / 86400); r = s - z * 86400; z += 719468; era = int(z / 146097); doe = z - era * 146097; yoe = int((doe - int(doe / 1460) + int(doe / 36524) - int(doe / 146096)) / 365); doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100)); mp = int((5 * doy + 2) / 153); d = doy - int((153 * mp + 2) / 5) + 1; m = mp < 10 ? mp + 3 : mp - 9; printf "%04d-%02d-%02dT%02d:%02d:%02dZ\\n", yoe + era * 400 + (m <= 2), m, d, int(r / 3600), int((r % 3600) / 60), r % 60 }'`,
  '}',
];

/** `sha256_hex`: the sha256 of stdin, in hex. */
export const PORTABLE_SHA256: readonly string[] = [
  '# sha256_hex: the sha256 of stdin in hex (GNU sha256sum; macOS shasum -a 256).',
  'sha256_hex() {',
  '  if command -v sha256sum >/dev/null 2>&1; then sha256sum; else shasum -a 256; fi | cut -d\' \' -f1',
  '}',
];

/** `base64_decode`: stdin decoded from base64. */
export const PORTABLE_BASE64: readonly string[] = [
  '# base64_decode: stdin decoded (base64 --decode on GNU and macOS; else openssl, e.g. busybox whose base64 has -d only).',
  'base64_decode() {',
  `  if [ "$(printf 'YQ==' | base64 --decode 2>/dev/null)" = a ]; then base64 --decode; else openssl base64 -d -A; fi`,
  '}',
];

/**
 * `bounded SECONDS CMD…`: CMD, ended after SECONDS, for a client with no request timeout of its own (a distribution's
 * CLI: its module cites why). coreutils `timeout` (exit 124 when it expires) where there is one; macOS has none (no GNU
 * coreutils), so there a watchdog kills CMD (exit 143, SIGTERM's). The watchdog's output goes to /dev/null, so that a command
 * substitution around `bounded` does not wait for its sleep.
 */
export const PORTABLE_BOUNDED: readonly string[] = [
  '# bounded SECONDS CMD…: CMD ended after SECONDS (coreutils timeout; else, as on macOS, a watchdog that kills it).',
  'bounded() {',
  '  b_s=$1; shift',
  '  if command -v timeout >/dev/null 2>&1; then timeout "$b_s" "$@"; return; fi',
  '  "$@" &',
  '  b_pid=$!',
  '  ( sleep "$b_s"; kill "$b_pid" ) >/dev/null 2>&1 &',
  '  b_dog=$!',
  '  b_rc=0; wait "$b_pid" || b_rc=$?',
  '  kill "$b_dog" 2>/dev/null || true',
  '  return "$b_rc"',
  '}',
];
