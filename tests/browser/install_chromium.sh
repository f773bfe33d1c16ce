#!/usr/bin/env bash
# Debian's Chromium (and a Chinese font, so zh-CN pages and their failure screenshots show
# characters, not boxes) for the browser tests in tests/browser. Called by `make test`; quick when
# both are there. Playwright drives this browser and never downloads one of its own (that
# download does not work on these machines). A failure here does not stop `make test`: the
# browser tests then fail and say how to install Chromium.
set -uo pipefail
chromium=${CHROMIUM:-/usr/bin/chromium}
font=fonts-wqy-zenhei

missing=()
[ -x "$chromium" ] || missing+=(chromium)
dpkg -s "$font" >/dev/null 2>&1 || missing+=("$font")
[ ${#missing[@]} = 0 ] && exit 0

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi; }

echo "make test: installing ${missing[*]} for the browser tests (apt-get, about a minute)" >&2
as_root apt-get update -qq >/dev/null \
  && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
if [ ! -x "$chromium" ]; then
  cat >&2 <<EOF
make test: could not install chromium; the browser tests (tests/browser) will fail until it is there.
  Install it as root:  apt-get update && apt-get install -y chromium $font
  or point the tests at another Chromium:  CHROMIUM=/path/to/chrome make test
EOF
fi
exit 0
