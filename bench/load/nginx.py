"""deploy/nginx/panjereh.conf made runnable on this machine: the load test's own ports, certificate and
upstream web processes, under a main configuration of its own (no system nginx is touched)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SITE_CONF = REPO / "deploy" / "nginx" / "panjereh.conf"
BEGIN = "# upstream-servers:begin"
END = "# upstream-servers:end"


def site(upstreams: list[str], *, http_port: int, https_port: int, tls_dir: Path) -> str:
    """The deployment's site configuration with these upstream servers, ports and certificate folder."""
    text = SITE_CONF.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    servers = "".join(f"    server {address} max_fails=3 fail_timeout=10s;\n" for address in upstreams)
    text = f"{head}{BEGIN}\n{servers}    {END}{tail}"
    # Loopback only, on the run's ports; IPv6 listeners dropped (the machine may have no ::1 route).
    text = re.sub(r"^\s*listen \[::\].*\n", "", text, flags=re.MULTILINE)
    text = text.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    text = text.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    # No access log in a load run (the main configuration turns it off; the deployment's file is root's).
    text = text.replace("access_log /var/log/nginx/access.log panjereh;", "access_log off;")
    return text.replace("/etc/nginx/tls/", f"{tls_dir}/")


def main_conf(prefix: Path, site_file: Path, *, workers: int = 1) -> str:
    """A main nginx.conf whose logs, pid and temporary files all live under `prefix`."""
    temp = {name: prefix / "tmp" / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for folder in temp.values():
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o777)  # nginx's workers drop to an unprivileged user when started as root
    return "\n".join(
        [
            f"worker_processes {workers};",
            f"pid {prefix / 'nginx.pid'};",
            f"error_log {prefix / 'error.log'} warn;",
            "events { worker_connections 4096; }",
            "http {",
            "    access_log off;",
            "    types { text/html html; application/json json; }",
            "    default_type application/octet-stream;",
            f"    client_body_temp_path {temp['client_body']};",
            f"    proxy_temp_path {temp['proxy']};",
            f"    fastcgi_temp_path {temp['fastcgi']};",
            f"    uwsgi_temp_path {temp['uwsgi']};",
            f"    scgi_temp_path {temp['scgi']};",
            f"    include {site_file};",
            "}",
            "",
        ]
    )


def self_signed(folder: Path, name: str = "localhost") -> None:
    """A throw-away certificate for the run (tls.crt, tls.key), made with the platform's own library."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (folder / "tls.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "tls.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
