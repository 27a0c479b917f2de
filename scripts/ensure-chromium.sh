#!/usr/bin/env bash
# Browser tests drive Debian's chromium (Playwright's own browser downloads are not used).
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" = "0" ]; then
    echo "Installing Debian's chromium for the browser tests..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
    exit 0
fi
cat >&2 <<'MESSAGE'
The browser tests need Debian's chromium at /usr/bin/chromium. Install it with:

    sudo apt-get update && sudo apt-get install -y chromium

then run the command again.
MESSAGE
exit 1
