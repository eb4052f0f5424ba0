"""A private SMTP submission server for the integration tests (see tests/common/smtp.rs).

It takes mail as a department's submission server would, with TLS (STARTTLS on a submission
port, or implicit TLS) and AUTH PLAIN / LOGIN for one account, and hands every accepted message
to the tests' private Dovecot over LMTP, one LMTP transaction per recipient, answering the
SMTP client with Dovecot's verdict:

- RCPT: the recipient is checked with Dovecot (LMTP MAIL + RCPT + RSET); a recipient Dovecot
  refuses permanently (no such mailbox) gets 550, one it refuses for now 451, and an
  unreachable Dovecot 451.
- DATA: the message is delivered to each recipient; 250 when every recipient has it, 550 when
  Dovecot refused one permanently, 451 otherwise (Dovecot unreachable, or refused for now).

Each message delivered to at least one mailbox appends one JSON line to the log file:
{"message_id": ..., "rcpt": [delivered...], "mail_from": ..., "bytes": n}, plus
"refused": {rcpt: "code text"} when some recipient did not get it.

Run with Debian's /usr/bin/python3 and python3-aiosmtpd. Prints nothing; aiosmtpd's own
warnings go to stderr, which the harness sends to a file. Exits 0 on SIGTERM or SIGINT.
"""

import argparse
import asyncio
import email.parser
import email.policy
import json
import logging
import signal
import smtplib
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

# Never ask the resolver for this machine's name (socket.getfqdn() may wait on DNS).
HOSTNAME = "localhost"


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--lmtp-port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password-file", required=True)
    p.add_argument("--mode", choices=["starttls", "tls"], required=True)
    p.add_argument("--log", required=True)
    return p.parse_args()


class Verdict(Exception):
    """An SMTP reply line for the client."""


def lmtp_options(lmtp, options):
    """The client's MAIL options that Dovecot's LMTP also supports (SIZE is Dovecot's own)."""
    kept = []
    for opt in options:
        keyword = opt.split("=", 1)[0].lower()
        if keyword in ("body", "smtputf8") and lmtp.has_extn(
            "8bitmime" if keyword == "body" else "smtputf8"
        ):
            kept.append(opt)
    return kept


def reply_for(code, text):
    """Our reply for Dovecot's refusal: 550 when permanent, 451 otherwise."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = " ".join(str(text).split())
    if 500 <= code <= 599:
        return f"550 {text or '5.0.0 refused by the mailbox server'}"
    return f"451 {text or '4.0.0 refused for now by the mailbox server'}"


class Relay:
    def __init__(self, lmtp_port, log_path):
        self.lmtp_port = lmtp_port
        self.log_path = log_path

    def connect(self):
        try:
            lmtp = smtplib.LMTP("127.0.0.1", self.lmtp_port, local_hostname=HOSTNAME, timeout=10)
            lmtp.ehlo_or_helo_if_needed()
            return lmtp
        except (OSError, smtplib.SMTPException) as e:
            raise Verdict(f"451 4.4.1 mailbox server unreachable: {e}")

    def check(self, mail_from, options, rcpt):
        """None when Dovecot would take mail for rcpt, else our refusal."""
        lmtp = self.connect()
        try:
            code, text = lmtp.mail(mail_from, lmtp_options(lmtp, options))
            if code != 250:
                return reply_for(code, text)
            code, text = lmtp.rcpt(rcpt)
            if code not in (250, 251):
                return reply_for(code, text)
            return None
        except (OSError, smtplib.SMTPException) as e:
            return f"451 4.4.1 mailbox server unreachable: {e}"
        finally:
            try:
                lmtp.quit()
            except (OSError, smtplib.SMTPException):
                lmtp.close()

    def deliver(self, mail_from, options, rcpts, content):
        """(delivered, {rcpt: refusal}) after one LMTP transaction per recipient."""
        delivered, refused = [], {}
        try:
            lmtp = self.connect()
        except Verdict as v:
            return [], {r: str(v) for r in rcpts}
        try:
            opts = lmtp_options(lmtp, options)
            for i, rcpt in enumerate(rcpts):
                try:
                    lmtp.sendmail(mail_from, [rcpt], content, mail_options=opts)
                    delivered.append(rcpt)
                except smtplib.SMTPRecipientsRefused as e:
                    code, text = e.recipients[rcpt]
                    refused[rcpt] = reply_for(code, text)
                except smtplib.SMTPResponseException as e:
                    refused[rcpt] = reply_for(e.smtp_code, e.smtp_error)
                    try:
                        lmtp.rset()
                    except (OSError, smtplib.SMTPException):
                        pass
                except (OSError, smtplib.SMTPException) as e:
                    for r in rcpts[i:]:
                        refused[r] = f"451 4.4.1 mailbox server unreachable: {e}"
                    break
        finally:
            try:
                lmtp.quit()
            except (OSError, smtplib.SMTPException):
                lmtp.close()
        return delivered, refused

    # aiosmtpd handler hooks

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        loop = asyncio.get_running_loop()
        try:
            refusal = await loop.run_in_executor(
                None, self.check, envelope.mail_from or "", envelope.mail_options, address
            )
        except Verdict as v:
            return str(v)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        loop = asyncio.get_running_loop()
        delivered, refused = await loop.run_in_executor(
            None,
            self.deliver,
            envelope.mail_from or "",
            envelope.mail_options,
            list(envelope.rcpt_tos),
            content,
        )
        if delivered:
            headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(
                content
            )
            message_id = headers.get("Message-ID")
            line = {
                "message_id": " ".join(str(message_id).split()) if message_id else None,
                "rcpt": delivered,
                "mail_from": envelope.mail_from,
                "bytes": len(content),
            }
            if refused:
                line["refused"] = refused
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(line, ensure_ascii=False) + "\n")
        if not refused:
            return f"250 2.0.0 OK: delivered to {len(delivered)} mailbox(es)"
        permanent = [v for v in refused.values() if v.startswith("5")]
        return permanent[0] if permanent else next(iter(refused.values()))


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        if (
            mechanism in ("PLAIN", "LOGIN")
            and isinstance(auth_data, LoginPassword)
            and auth_data.login == user
            and auth_data.password == password
        ):
            return AuthResult(success=True, auth_data=auth_data)
        # handled=False: aiosmtpd answers 535 itself (handled=True would leave the client
        # waiting for a reply that never comes).
        return AuthResult(success=False, handled=False)

    return check


async def main():
    args = parse_args()
    # aiosmtpd 1.4 warns about its own use of the deprecated Session.login_data at every AUTH.
    logging.getLogger("mail.log").addFilter(
        lambda record: "login_data is deprecated" not in record.getMessage()
    )
    with open(args.password_file, "rb") as f:
        password = f.read().splitlines()[0]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    relay = Relay(args.lmtp_port, args.log)
    check = authenticator(args.user.encode("utf-8"), password)
    starttls = args.mode == "starttls"

    def factory():
        return SMTP(
            relay,
            hostname=HOSTNAME,
            ident="intake test relay",
            enable_SMTPUTF8=True,
            # STARTTLS mode: TLS before anything but EHLO/STARTTLS/QUIT, then AUTH before MAIL.
            tls_context=context if starttls else None,
            require_starttls=starttls,
            auth_required=True,
            # Implicit TLS: aiosmtpd does not see the listener's TLS, so it must not demand it.
            auth_require_tls=starttls,
            authenticator=check,
            timeout=60,
        )

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        factory,
        host="127.0.0.1",
        port=args.port,
        ssl=None if starttls else context,
        reuse_address=True,
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except OSError as e:
        # The port is taken (e.g. still busy right after a stop): the harness tries again.
        print(f"smtp_relay: {e}", file=sys.stderr)
        sys.exit(3)
    sys.exit(0)
