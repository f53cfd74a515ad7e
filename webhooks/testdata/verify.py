# Runs the Python verifier of docs/webhooks.md (the code between the markers is that
# example, verbatim) on the relm-signature header in argv[1], the secret in argv[2] and
# the raw body from stdin. Prints "ok", or the error and exits 1. Used by
# verifiers_test.go.
import sys

# --- begin docs/webhooks.md ---
import hashlib
import hmac
import time


def verify_relm_signature(header, raw_body, secret, tolerance=300):
    """Raise ValueError unless header (the relm-signature value) signs raw_body (bytes,
    exactly as received) with secret, within tolerance seconds of now."""
    t, signatures = None, []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            t = value
        elif key == "v1":
            signatures.append(value.encode())
    if t is None or not (t.isascii() and t.isdigit()) or not signatures:
        raise ValueError("malformed relm-signature header")
    expected = hmac.new(secret.encode(), t.encode() + b"." + raw_body, hashlib.sha256).hexdigest().encode()
    # Check every v1 entry: during a secret rotation the header carries one per secret.
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise ValueError("no matching signature")
    if abs(time.time() - int(t)) > tolerance:
        raise ValueError("timestamp outside tolerance")
# --- end docs/webhooks.md ---


if __name__ == "__main__":
    try:
        verify_relm_signature(sys.argv[1], sys.stdin.buffer.read(), sys.argv[2])
    except ValueError as err:
        print(err)
        sys.exit(1)
    print("ok")
