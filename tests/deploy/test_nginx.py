"""`nginx -t` on both sites (compose and bare metal), in a throwaway prefix: the sites' paths
(snippets, certificates, logs) are mapped into it and a self-signed pair stands in for the
real one. Needs Debian's nginx (.ci/run installs it); skipped on a machine without it, except
in CI where a missing nginx is a failure."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITES = {"compose": ROOT / "docker" / "nginx.conf", "bare-metal": ROOT / "deploy" / "nginx" / "oddstream.conf"}
SNIPPETS = ROOT / "deploy" / "nginx" / "snippets"


def nginx_binary() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("nginx is missing: .ci/run installs Debian's nginx")
    pytest.skip("nginx is not installed (apt-get install nginx-light): site configs not checked")


@pytest.fixture(scope="module")
def prefix(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("nginx")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", directory / "tls.key", "-out", directory / "tls.crt"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return directory


def config_under_test(site: Path, prefix: Path) -> Path:
    """The site inside a minimal main config, with its absolute paths mapped into `prefix`."""
    text = site.read_text().replace("/etc/nginx/snippets/", f"{SNIPPETS}/")
    text = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {prefix}/tls.crt;", text)
    text = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {prefix}/tls.key;", text)
    text = re.sub(r"access_log\s+/var/log/nginx/\S+", f"access_log {prefix}/access.log", text)
    main = prefix / f"{site.stem}-test.conf"
    main.write_text(f"pid {prefix}/nginx.pid;\nevents {{}}\nhttp {{\n{text}\n}}\n")
    return main


def nginx_test(main: Path, prefix: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [nginx_binary(), "-t", "-p", f"{prefix}/", "-e", f"{prefix}/error.log", "-c", str(main)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize("name", sorted(SITES))
def test_nginx_accepts_the_site(name, prefix) -> None:
    result = nginx_test(config_under_test(SITES[name], prefix), prefix)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_nginx_check_catches_a_broken_site(prefix, tmp_path) -> None:
    broken = tmp_path / "broken.conf"
    broken.write_text(SITES["compose"].read_text().replace("proxy_read_timeout 120s;", "proxy_read_timeout;"))
    assert nginx_test(config_under_test(broken, prefix), prefix).returncode != 0


@pytest.mark.parametrize("name", sorted(SITES))
def test_site_terminates_tls_and_keeps_tokens_out_of_the_log(name) -> None:
    text = SITES[name].read_text() + "".join(p.read_text() for p in SNIPPETS.glob("*.conf"))
    assert re.search(r"listen 443 ssl", text)
    assert "return 301 https://$host$request_uri" in text
    assert "Strict-Transport-Security" in text
    # The log format names $uri (no query string), never $request or $request_uri.
    log_format = re.search(r"log_format oddstream(.*?);", text, re.S)
    assert log_format and "$uri" in log_format.group(1)
    assert "$request " not in log_format.group(1) and "$request_uri" not in log_format.group(1)
    for line in re.findall(r"access_log\s+[^;]+;", SITES[name].read_text()):
        assert line.endswith(" oddstream;") or " off;" in line
    assert "location = /metrics" in text
    assert "X-Forwarded-Proto $oddstream_forwarded_proto" in text
    assert re.search(r"location /ws/ \{[^}]*proxy_pass http://\$?oddstream_ws", SITES[name].read_text())


@pytest.mark.parametrize("name", sorted(SITES))
def test_flowers_unauthenticated_endpoints_are_not_proxied(name) -> None:
    """Flower's basic auth leaves /metrics and /healthcheck open (task names, worker hosts)."""
    text = SITES[name].read_text()
    blocked = re.search(r"location ~ \^/flower/\(metrics\|healthcheck\) \{\s*return 404;", text)
    assert blocked and text.index(blocked.group(0)) < text.index("location /flower/ {")
