"""The one guarded outbound client (wuhan_pdr/kernel/outbound.py): the address policy, address by
address, and real connections to servers on this machine: one lookup, the connection goes to
the address that was checked, the host name stays in the Host header and in TLS (SNI and the
certificate check), the platform's own addresses are refused, no redirect, no proxy.

DNS cannot be run here, so names other than `localhost` are answered by a resolver given to
the client (the same parameter production leaves to the system's resolver)."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import os
import socket
import ssl
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.services import REPO
from wuhan_pdr.kernel import outbound
from wuhan_pdr.kernel.outbound import Policy, Refused, Unresolvable, refusal

NONE = Policy(networks_setting="AGGREGATION_PULL_ALLOWED_NETWORKS")
LOOPBACK_ON = Policy(networks_setting="X_ALLOWED_NETWORKS", allow_loopback=True)
LISTED = Policy(
    networks_setting="X_ALLOWED_NETWORKS",
    allowed_networks=outbound.parse_networks(
        ["10.20.0.0/16", "100.64.0.0/10", "fd12:3456::/32"], setting="X_ALLOWED_NETWORKS"
    ),
)


def ip(text: str):
    return ipaddress.ip_address(text)


def reason(key: str, setting: str = "AGGREGATION_PULL_ALLOWED_NETWORKS") -> str:
    text = str(outbound.REASONS[key])
    return text % {"setting": setting} if key == "private" else text


# --- the policy, address by address -----------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 (an address to refuse)
        ("0.1.2.3", "unspecified"),
        ("::", "unspecified"),
        ("169.254.169.254", "metadata"),
        ("169.254.170.2", "metadata"),
        ("100.100.100.200", "metadata"),
        ("168.63.129.16", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("255.255.255.255", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("192.0.2.10", "reserved"),
        ("198.18.0.1", "reserved"),
        ("2001:db8::1", "reserved"),
        ("fec0::1", "reserved"),
        ("64:ff9b:1::a00:1", "reserved"),
        ("10.1.2.3", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "private"),
        ("fd12:3456::1", "private"),
        # IPv6 forms that carry a refused IPv4 address are judged as that address.
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "metadata"),
        ("::ffff:100.100.100.200", "metadata"),
        ("::ffff:0.0.0.0", "unspecified"),
        ("::ffff:10.1.2.3", "private"),
        ("::127.0.0.1", "loopback"),
        ("::ffff:0:127.0.0.1", "loopback"),
        ("64:ff9b::127.0.0.1", "loopback"),
        ("64:ff9b::a9fe:a9fe", "metadata"),
        ("2002:7f00:1::1", "loopback"),
        ("2002:a9fe:a9fe::1", "metadata"),
        # Teredo: server 65.54.227.120, client 127.0.0.1 (stored inverted: 0x80fffffe).
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),
    ],
)
def test_forbidden_addresses_are_refused_by_default(address, key):
    assert refusal(ip(address), NONE) == reason(key)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1::1", "2002:5db8:d822::1"])
def test_public_addresses_are_allowed(address):
    assert refusal(ip(address), NONE) is None


def test_private_and_cgnat_ranges_only_inside_the_listed_networks():
    setting = "X_ALLOWED_NETWORKS"
    for inside in ("10.20.3.4", "100.64.9.9", "fd12:3456::1", "::ffff:10.20.3.4"):
        assert refusal(ip(inside), LISTED) is None, inside
    for outside in ("10.21.0.1", "192.168.1.1", "fd99::1", "::ffff:10.21.0.1"):
        assert refusal(ip(outside), LISTED) == reason("private", setting), outside
    # A listed network never opens metadata, loopback or link-local addresses.
    wide = Policy(
        networks_setting=setting,
        allowed_networks=outbound.parse_networks(
            ["0.0.0.0/0", "::/0"], setting="X_ALLOWED_NETWORKS"
        ),
    )
    for address, key in (
        ("100.100.100.200", "metadata"),
        ("127.0.0.1", "loopback"),
        ("169.254.169.254", "metadata"),
        ("fe80::1", "link-local"),
        ("fd00:ec2::254", "metadata"),
    ):
        assert refusal(ip(address), wide) == reason(key, setting), address


def test_loopback_and_own_addresses_only_where_allowed():
    own = frozenset({ip("10.20.0.5")})
    assert refusal(ip("10.20.0.5"), LISTED, own) == reason("platform", "X_ALLOWED_NETWORKS")
    assert refusal(ip("::ffff:10.20.0.5"), LISTED, own) == reason("platform", "X_ALLOWED_NETWORKS")
    assert refusal(ip("127.0.0.1"), LOOPBACK_ON) is None
    assert refusal(ip("::ffff:127.0.0.1"), LOOPBACK_ON) is None
    # Loopback on opens neither metadata nor link-local.
    assert refusal(ip("169.254.169.254"), LOOPBACK_ON) == reason("metadata")


def test_a_bad_network_in_the_setting_is_named():
    with pytest.raises(outbound.OutboundError) as refused:
        outbound.parse_networks(
            ["10.0.0.0/8", "ten.0/8"], setting="AGGREGATION_PULL_ALLOWED_NETWORKS"
        )
    assert "AGGREGATION_PULL_ALLOWED_NETWORKS" in str(refused.value)
    assert "ten.0/8" in str(refused.value)


# --- resolution -----------------------------------------------------------------------------


class CountingResolver:
    """Answers names from a table (in order, one answer per call), counting the calls."""

    def __init__(self, answers: dict[str, list[str]]):
        self.answers = {name: list(a) for name, a in answers.items()}
        self.calls: list[str] = []

    def __call__(self, host, port, *args, **kwargs):
        self.calls.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        address = (
            self.answers[host].pop(0) if len(self.answers[host]) > 1 else self.answers[host][0]
        )
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port or 0))]


def test_a_name_is_refused_if_any_of_its_addresses_is(settings):
    settings.ALLOWED_HOSTS = ["*"]

    def resolver(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::ffff:127.0.0.1", port, 0, 0)),
        ]

    with pytest.raises(Refused) as refused:
        outbound.resolve("both.test", 80, policy=NONE, resolver=resolver)
    assert refused.value.reason == reason("loopback")
    assert refused.value.address.endswith("→ 127.0.0.1")


def test_localhost_is_refused_when_loopback_is_off():
    with pytest.raises(Refused) as refused:
        outbound.resolve("localhost", 80, policy=NONE)
    assert refused.value.reason == reason("loopback")


def test_an_unknown_name_says_so():
    with pytest.raises(Unresolvable) as unknown:
        outbound.resolve("no-such-host.invalid", 80, policy=NONE)
    assert unknown.value.host == "no-such-host.invalid"


def test_the_platforms_own_host_names_and_their_addresses_are_refused(settings):
    settings.ALLOWED_HOSTS = ["data.wuhan.test", ".portal.test"]
    resolver = CountingResolver(
        {
            "data.wuhan.test": ["10.20.0.5"],
            "portal.test": ["10.20.0.6"],
            "agency.test": ["10.20.0.5"],
            "other.test": ["10.20.9.9"],
        }
    )
    for host in ("data.wuhan.test", "api.portal.test", "DATA.WUHAN.TEST."):
        with pytest.raises(Refused) as refused:
            outbound.resolve(host, 80, policy=LISTED, resolver=resolver)
        assert refused.value.reason == reason("platform", "X_ALLOWED_NETWORKS"), host
    # Another name for the same address is the platform too; the address literal as well.
    for host in ("agency.test", "10.20.0.5", "10.20.0.6"):
        with pytest.raises(Refused) as refused:
            outbound.resolve(host, 80, policy=LISTED, resolver=resolver)
        assert refused.value.reason == reason("platform", "X_ALLOWED_NETWORKS"), host
    assert outbound.resolve("other.test", 80, policy=LISTED, resolver=resolver).addresses == (
        ip("10.20.9.9"),
    )


# --- real connections -------------------------------------------------------------------------


class Server:
    """An HTTP(S) server on this machine recording what it saw: Host header, SNI, peer."""

    def __init__(
        self,
        bind: str = "127.0.0.1",
        *,
        port: int = 0,
        body: bytes = b"ok",
        status: int = 200,
        headers: dict | None = None,
        tls: ssl.SSLContext | None = None,
    ):
        self.seen: list[dict] = []
        self.sni: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                server.seen.append(
                    {"host": self.headers.get("Host"), "path": self.path, "local": bind}
                )
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        family = socket.AF_INET6 if ":" in bind else socket.AF_INET

        class HTTPServer(ThreadingHTTPServer):
            address_family = family
            daemon_threads = True

        self.httpd = HTTPServer((bind, port), Handler)
        self.port = self.httpd.server_address[1]
        if tls is not None:
            tls.sni_callback = lambda sock, name, ctx: self.sni.append(name)
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def servers():
    started: list[Server] = []

    def start(*args, **kwargs) -> Server:
        started.append(Server(*args, **kwargs))
        return started[-1]

    yield start
    for server in started:
        server.close()


def get(destination: outbound.Destination, url: str) -> bytes:
    with destination.opener().open(url, timeout=5) as response:
        return response.read()


def test_one_lookup_and_the_connection_goes_to_the_checked_address(settings, servers):
    """A rebinding name: checked as 127.0.0.1, answering 127.0.0.2 afterwards. Every request
    still goes to 127.0.0.1, the name is looked up once, and the Host header keeps the name."""
    settings.ALLOWED_HOSTS = ["*"]
    good = servers("127.0.0.1", body=b"agency rows")
    decoy = servers("127.0.0.2", port=good.port, body=b"someone else")
    resolver = CountingResolver({"rebind.test": ["127.0.0.1", "127.0.0.2"]})
    url = f"http://rebind.test:{good.port}/api?page="

    destination = outbound.resolve_url(url, policy=LOOPBACK_ON, resolver=resolver)
    bodies = [get(destination, url + str(n)) for n in range(3)]

    assert bodies == [b"agency rows"] * 3
    assert resolver.calls == ["rebind.test"]
    assert [s["host"] for s in good.seen] == [f"rebind.test:{good.port}"] * 3
    assert decoy.seen == []


def test_the_opener_reaches_only_its_destination(settings, servers):
    settings.ALLOWED_HOSTS = ["*"]
    one, two = servers(), servers()
    destination = outbound.resolve_url(f"http://127.0.0.1:{one.port}/", policy=LOOPBACK_ON)
    with pytest.raises(Refused):
        get(destination, f"http://127.0.0.1:{two.port}/")
    with pytest.raises(urllib.error.URLError):
        get(destination, "file:///etc/passwd")
    assert two.seen == []


def test_redirects_are_not_followed(settings, servers):
    settings.ALLOWED_HOSTS = ["*"]
    target = servers()
    mover = servers(status=302, headers={"Location": f"http://127.0.0.1:{target.port}/"})
    destination = outbound.resolve_url(f"http://127.0.0.1:{mover.port}/", policy=LOOPBACK_ON)
    with pytest.raises(urllib.error.HTTPError) as moved:
        get(destination, f"http://127.0.0.1:{mover.port}/")
    assert moved.value.code == 302
    assert target.seen == []


def test_proxies_from_the_environment_are_ignored(settings, servers, monkeypatch):
    settings.ALLOWED_HOSTS = ["*"]
    proxy = servers(body=b"proxy")
    target = servers(body=b"direct")
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    url = f"http://127.0.0.1:{target.port}/x"
    assert get(outbound.resolve_url(url, policy=LOOPBACK_ON), url) == b"direct"
    assert proxy.seen == []


def test_a_mapped_ipv6_literal_is_refused_before_any_connection(settings, servers):
    settings.ALLOWED_HOSTS = ["*"]
    server = servers()
    with pytest.raises(Refused) as refused:
        outbound.resolve_url(f"http://[::ffff:127.0.0.1]:{server.port}/", policy=NONE)
    assert refused.value.reason == reason("loopback")
    assert server.seen == []
    # Where loopback is allowed, the mapped form reaches 127.0.0.1 as such.
    destination = outbound.resolve_url(
        f"http://[::ffff:127.0.0.1]:{server.port}/", policy=LOOPBACK_ON
    )
    assert destination.addresses == (ip("127.0.0.1"),)
    assert get(destination, f"http://[::ffff:127.0.0.1]:{server.port}/") == b"ok"


def _own_ipv6_address():
    """An address of this machine's interfaces that is neither loopback nor link-local."""
    for address in sorted(outbound.interface_addresses(), key=str):
        if address.version == 6 and not (address.is_loopback or address.is_link_local):
            try:
                with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
                    probe.bind((str(address), 0))
                return address
            except OSError:
                continue
    return None


def test_an_address_of_this_machine_is_refused_even_inside_a_listed_network(settings, servers):
    own = _own_ipv6_address()
    if own is None:
        own4 = [a for a in outbound.interface_addresses() if a.version == 4 and not a.is_loopback]
        assert own4, "this machine has no address but loopback"
        own = own4[0]
    settings.ALLOWED_HOSTS = ["*"]
    server = servers(str(own))
    listed = Policy(
        networks_setting="X_ALLOWED_NETWORKS",
        allowed_networks=(ipaddress.ip_network(f"{own}/{own.max_prefixlen}"),),
    )
    host = f"[{own}]" if own.version == 6 else str(own)
    with pytest.raises(Refused) as refused:
        outbound.resolve_url(f"http://{host}:{server.port}/", policy=listed)
    assert refused.value.reason == reason("platform", "X_ALLOWED_NETWORKS")
    assert server.seen == []
    # The same server is reachable where the platform's own machine is allowed (tests).
    destination = outbound.resolve_url(f"http://{host}:{server.port}/", policy=LOOPBACK_ON)
    assert get(destination, f"http://{host}:{server.port}/") == b"ok"


# --- HTTPS: the checked address, the host's name in TLS ---------------------------------------


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def _tls_server(servers, tmp_path, name):
    cert_file, key_file = _certificate(tmp_path, name)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return servers(body=b"secure rows", tls=context), cert_file


def test_https_sends_the_host_name_and_checks_the_certificate_for_it(settings, servers, tmp_path):
    settings.ALLOWED_HOSTS = ["*"]
    server, cert_file = _tls_server(servers, tmp_path, "api.agency.test")
    trust = ssl.create_default_context(cafile=str(cert_file))
    resolver = CountingResolver(
        {"api.agency.test": ["127.0.0.1"], "other.agency.test": ["127.0.0.1"]}
    )
    url = f"https://api.agency.test:{server.port}/rows"

    destination = outbound.resolve_url(
        url, policy=LOOPBACK_ON, resolver=resolver, ssl_context=trust
    )
    assert get(destination, url) == b"secure rows"
    assert server.sni == ["api.agency.test"]
    assert server.seen[0]["host"] == f"api.agency.test:{server.port}"

    # A certificate for another name is refused, though the address is the same.
    wrong = f"https://other.agency.test:{server.port}/rows"
    destination = outbound.resolve_url(
        wrong, policy=LOOPBACK_ON, resolver=resolver, ssl_context=trust
    )
    with pytest.raises(urllib.error.URLError) as refused:
        get(destination, wrong)
    assert isinstance(refused.value.reason, ssl.SSLCertVerificationError)
    assert len(server.seen) == 1
    assert resolver.calls == ["api.agency.test", "other.agency.test"]


def test_https_without_a_trusted_certificate_is_refused(settings, servers, tmp_path):
    settings.ALLOWED_HOSTS = ["*"]
    server, _cert = _tls_server(servers, tmp_path, "localhost")
    url = f"https://127.0.0.1:{server.port}/"
    with pytest.raises(urllib.error.URLError) as refused:
        get(outbound.resolve_url(url, policy=LOOPBACK_ON), url)
    assert isinstance(refused.value.reason, ssl.SSLCertVerificationError)
    assert server.seen == []


# --- production settings ------------------------------------------------------------------------


def test_production_settings_force_loopback_and_the_platform_database_off():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "wuhan_pdr.settings.production",
        "DJANGO_SECRET_KEY": "x" * 60,
        "FIELD_ENCRYPTION_KEY": "A" * 43 + "=",
        "MASKING_HMAC_KEY": "masking-" + "m" * 40,
        "LEDGER_SIGNING_KEY": base64.b64encode(os.urandom(32)).decode(),
        "BACKUP_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="),
        "DJANGO_ALLOWED_HOSTS": "data.wuhan.gov.cn",
        "AGGREGATION_PULL_ALLOW_LOOPBACK": "true",
        "AGGREGATION_EXTRACT_ALLOW_LOOPBACK": "true",
        "AGGREGATION_EXTRACT_ALLOW_PLATFORM_DB": "true",
        "AGGREGATION_PULL_ALLOWED_NETWORKS": "10.20.0.0/16,fd12::/48",
        "DJANGO_DEBUG": "true",
    }
    env.pop("AGGREGATION_EXTRACT_ALLOWED_NETWORKS", None)
    code = (
        "from django.conf import settings as s; "
        "print(s.AGGREGATION_PULL_ALLOW_LOOPBACK, s.AGGREGATION_EXTRACT_ALLOW_LOOPBACK, "
        "s.AGGREGATION_EXTRACT_ALLOW_PLATFORM_DB, s.AGGREGATION_PULL_ALLOWED_NETWORKS, "
        "s.AGGREGATION_EXTRACT_ALLOWED_NETWORKS)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    nets = "['10.20.0.0/16', 'fd12::/48']"
    assert out == f"False False False {nets} {nets}"
    del env["AGGREGATION_PULL_ALLOWED_NETWORKS"]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "False False False [] []"
