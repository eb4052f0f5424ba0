#!/usr/bin/env bash
# What the tests with real mail servers need (tests/imap.rs, tests/smtp_harness.rs): Dovecot
# (IMAP and LMTP; the tests start their own private instance on loopback, so no system service
# is started or configured), Python's aiosmtpd for the private SMTP relay that hands mail to
# Dovecot's LMTP (tests/common/smtp_relay.py, run with /usr/bin/python3), openssl for the test
# certificate, Python 3 for the LMTP, SMTP and IMAP clients, and the system's root
# certificates. Also Debian's Chromium and ChromeDriver (/usr/bin/chromium,
# /usr/bin/chromedriver) for the staff board's browser test (tests/board_browser.rs, which
# starts its own chromedriver and a headless Chromium with a fresh profile). Idempotent.
set -euo pipefail

need=()
{ command -v dovecot || [ -x /usr/sbin/dovecot ]; } >/dev/null 2>&1 || need+=(dovecot-imapd dovecot-lmtpd)
{ command -v doveadm || [ -x /usr/bin/doveadm ]; } >/dev/null 2>&1 || need+=(dovecot-core)
[ -x /usr/sbin/dovecot ] && [ ! -e /usr/lib/dovecot/lmtp ] && need+=(dovecot-lmtpd)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
[ -x /usr/bin/python3 ] || need+=(python3)
{ [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import aiosmtpd'; } >/dev/null 2>&1 || need+=(python3-aiosmtpd)
[ -e /etc/ssl/certs/ca-certificates.crt ] || need+=(ca-certificates)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/chromedriver ] || need+=(chromium-driver)

if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
"$(command -v dovecot || echo /usr/sbin/dovecot)" --version
/usr/bin/python3 -c 'import aiosmtpd; print("aiosmtpd", aiosmtpd.__version__)'
/usr/bin/chromedriver --version
