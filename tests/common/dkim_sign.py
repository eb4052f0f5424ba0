"""Signs a message with dkimpy, an independent DKIM signer, for the tests (tests/common/dkim.rs).

Usage: DKIM_PRIVATE_KEY=<PEM> python3 dkim_sign.py DOMAIN SELECTOR HEADER[:HEADER...] < message
Writes the signed message (the DKIM-Signature header prepended) to stdout: rsa-sha256,
relaxed/relaxed, the given headers, no body length tag. Lines of the new header end like the
message's own (CRLF, or LF when the message has no CR).
"""

import os
import sys

import dkim


def main():
    domain, selector, headers = sys.argv[1], sys.argv[2], sys.argv[3]
    message = sys.stdin.buffer.read()
    linesep = b"\r\n" if b"\r\n" in message else b"\n"
    signature = dkim.sign(
        message,
        selector.encode(),
        domain.encode(),
        os.environ["DKIM_PRIVATE_KEY"].encode(),
        canonicalize=(b"relaxed", b"relaxed"),
        signature_algorithm=b"rsa-sha256",
        include_headers=[h.encode() for h in headers.split(":")],
        linesep=linesep,
    )
    sys.stdout.buffer.write(signature + message)


if __name__ == "__main__":
    main()
