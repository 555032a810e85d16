"""A self-signed certificate for 127.0.0.1, made with the openssl command line."""

from __future__ import annotations

import subprocess
from pathlib import Path


def self_signed(folder: Path) -> tuple[Path, Path]:
    """(certificate, key) in ``folder``, valid for IP 127.0.0.1 and localhost for two days."""
    cert, key = folder / "arm-cert.pem", folder / "arm-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


def bundle_with(cert: Path, folder: Path, existing: str | None) -> Path:
    """A CA bundle trusting ``cert`` besides what ``existing`` (the current REQUESTS_CA_BUNDLE) trusts: pointing
    requests at the certificate alone would break every other https call of the process."""
    bundle = folder / "ca-bundle.pem"
    parts = []
    if existing and Path(existing).is_file():
        parts.append(Path(existing).read_text())
    else:
        import certifi

        parts.append(Path(certifi.where()).read_text())
    parts.append(cert.read_text())
    bundle.write_text("\n".join(parts))
    return bundle
