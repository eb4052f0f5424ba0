#!/usr/bin/env bash
# What the tests with real mail servers need (tests/imap.rs, tests/smtp_harness.rs): Dovecot
# (IMAP and LMTP; the tests start their own private instance on loopback, so no system service
# is started or configured), Python's aiosmtpd for the private SMTP relay that hands mail to
# Dovecot's LMTP (tests/common/smtp_relay.py, run with /usr/bin/python3), openssl for the test
# certificate, Python 3 for the LMTP, SMTP and IMAP clients, and the system's root
# certificates. Also Debian's Chromium and ChromeDriver (/usr/bin/chromium,
# /usr/bin/chromedriver) for the staff board's browser test (tests/board_browser.rs, which
# starts its own chromedriver and a headless Chromium with a fresh profile). For the sender
# authentication tests (tests/dns_harness.rs and the DKIM/DMARC tests): dnsmasq (Debian's
# dnsmasq-base, the binary only, no service; the tests start a private instance on a loopback
# port serving DKIM keys and DMARC policies) and PyPI's dkimpy 1.1.8, an independent DKIM signer
# (tests/common/dkim.rs runs it with whichever of python3 on PATH or /usr/bin/python3 has it;
# pip is told to override Debian's externally-managed marker only when it refuses). For the
# consolidated workbook's print test (tests/export_render.rs): LibreOffice Calc without its
# GUI (soffice --headless converts the workbook to PDF with a fresh profile per run) and
# poppler-utils (pdfinfo, pdftotext read the PDF back). For the marked-copy tests
# (tests/marked_copy.rs, which has python3 write workbooks as other writers do): PyPI's
# openpyxl 3.1.5 and XlsxWriter 3.3.1. Idempotent.
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
[ -x /usr/sbin/dnsmasq ] || need+=(dnsmasq-base)
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-calc-nogui)
{ command -v pdftotext && command -v pdfinfo; } >/dev/null 2>&1 || need+=(poppler-utils)
has_dkimpy() { { python3 -c 'import dkim' || /usr/bin/python3 -c 'import dkim'; } >/dev/null 2>&1; }
has_dkimpy || python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)
has_writers() { python3 -c 'import openpyxl, xlsxwriter' >/dev/null 2>&1; }
has_writers || python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)

if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
if ! has_dkimpy; then
  python3 -m pip install --quiet dkimpy==1.1.8 \
    || python3 -m pip install --quiet --break-system-packages dkimpy==1.1.8
fi
has_dkimpy || { echo "dkimpy is still missing for python3 and /usr/bin/python3" >&2; exit 1; }
if ! has_writers; then
  python3 -m pip install --quiet openpyxl==3.1.5 XlsxWriter==3.3.1 \
    || python3 -m pip install --quiet --break-system-packages openpyxl==3.1.5 XlsxWriter==3.3.1
fi
python3 -c 'import openpyxl, xlsxwriter; print("openpyxl", openpyxl.__version__, "XlsxWriter", xlsxwriter.__version__)'
"$(command -v dovecot || echo /usr/sbin/dovecot)" --version
/usr/bin/python3 -c 'import aiosmtpd; print("aiosmtpd", aiosmtpd.__version__)'
/usr/bin/chromedriver --version
/usr/sbin/dnsmasq --version | sed -n 1p
soffice --version
pdftotext -v 2>&1 | sed -n 1p
for py in python3 /usr/bin/python3; do
  if "$py" -c 'import dkim' >/dev/null 2>&1; then
    "$py" -c 'import importlib.metadata as m, sys; print("dkimpy", m.version("dkimpy"), "for", sys.executable)'
    break
  fi
done
