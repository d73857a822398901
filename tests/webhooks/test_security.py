"""Signing secrets are encrypted under a key of their own; messages verify with the
Standard Webhooks verifier; the SSRF guard keeps webhooks off private addresses."""

import socket
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.deploy.conftest import manage, process_env
from webhooks import checks, crypto, sender, signing
from webhooks.models import Endpoint
from webhooks.services import endpoint_create, endpoint_rotate, endpoint_secrets, secrets_rekey
from webhooks.ssrf import EndpointRefused, target_resolve


def test_a_secret_is_whsec_and_stored_encrypted_not_in_clear(db, receiver, settings):
    endpoint, secret = endpoint_create(url=receiver.url, event_types="member.created")
    assert secret.startswith("whsec_") and len(secret) > 40
    stored = Endpoint.objects.get(pk=endpoint.pk).secret_encrypted
    assert secret not in stored and secret.removeprefix("whsec_") not in stored
    assert crypto.secret_decrypt(stored) == secret
    # Under another key (SECRET_KEY, say) the stored value is unreadable.
    settings.WEBHOOK_SECRET_KEY = [settings.SECRET_KEY + "-not-the-webhook-key"]
    with pytest.raises(crypto.SecretUnreadable):
        crypto.secret_decrypt(stored)


def test_the_key_rotates_old_first_then_rekeyed(db, receiver, settings):
    old_key, new_key = "o" * 40, "n" * 40
    settings.WEBHOOK_SECRET_KEY = [old_key]
    endpoint, secret = endpoint_create(url=receiver.url, event_types="*")
    settings.WEBHOOK_SECRET_KEY = [new_key, old_key]
    assert endpoint_secrets(endpoint=Endpoint.objects.get(pk=endpoint.pk)) == [secret]
    assert secrets_rekey() == 1
    settings.WEBHOOK_SECRET_KEY = [new_key]
    assert endpoint_secrets(endpoint=Endpoint.objects.get(pk=endpoint.pk)) == [secret]


def test_a_message_verifies_with_the_standard_webhooks_verifier():
    secret = crypto.secret_generate()
    body = signing.body_render(
        event_type="member.created",
        occurred_at=datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
        data={"member": {"id": 7}},
    )
    headers = signing.headers_sign(msg_id="msg_1", body=body, secrets=[secret])
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(body, headers) == {
        "type": "member.created",
        "timestamp": "2026-12-01T08:00:00Z",
        "data": {"member": {"id": 7}},
    }
    with pytest.raises(WebhookVerificationError):
        Webhook(crypto.secret_generate()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"7", b"8"), headers)


def test_after_a_rotation_both_secrets_verify_for_a_day(db, receiver):
    endpoint, old = endpoint_create(url=receiver.url, event_types="*")
    new = endpoint_rotate(endpoint=endpoint)
    assert new != old
    body = b'{"type":"member.created","timestamp":"2026-12-01T08:00:00Z","data":{}}'
    headers = signing.headers_sign(
        msg_id="m", body=body, secrets=endpoint_secrets(endpoint=endpoint)
    )
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(new).verify(body, headers)
    Webhook(old).verify(body, headers)


# ------------------------------------------------------------------ SSRF guard

PRIVATE_URLS = [
    "http://127.0.0.1/hooks",
    "http://10.0.0.1/hooks",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/hooks",
    "http://localhost:8000/hooks",  # a name that resolves to 127.0.0.1 / ::1
    "http://[::ffff:127.0.0.1]/hooks",
    "http://0.0.0.0/hooks",
    "http://100.64.0.1/hooks",  # carrier-grade NAT: not global
]


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_private_addresses_are_refused_when_saved(db, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(EndpointRefused):
        endpoint_create(url=url, event_types="*")
    assert not Endpoint.objects.exists()


def test_a_public_address_passes(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    target = target_resolve("https://93.184.215.14:8443/in?x=1")
    assert (target.address, target.port, target.path) == ("93.184.215.14", 8443, "/in?x=1")


def test_a_name_that_turns_private_after_saving_is_refused_when_sent(
    settings, receiver, monkeypatch
):
    """DNS rebinding: the check runs again at send time, and nothing reaches the host."""
    settings.WEBHOOK_ALLOW_PRIVATE = False
    real = socket.getaddrinfo
    answers = iter(["93.184.215.14", "127.0.0.1"])

    def resolver(host, port, *args, **kwargs):
        if host == "hooks.example.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    url = f"http://hooks.example.test:{receiver.port}/hooks"
    target_resolve(url)  # saved: public then
    outcome = sender.http_post(url=url, body=b"{}", headers={})
    assert outcome.status_code is None and outcome.error.startswith("refused")
    assert receiver.received == []


def test_the_sender_connects_to_the_address_it_checked(receiver, monkeypatch):
    """The name is resolved once, by the guard; the request goes to that address with
    the URL's host in the Host header (no second lookup a rebinding could change)."""
    real = socket.getaddrinfo
    lookups = []

    def resolver(host, port, *args, **kwargs):
        if host == "hooks.example.test":
            lookups.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    outcome = sender.http_post(
        url=f"http://hooks.example.test:{receiver.port}/hooks?a=1", body=b"{}", headers={}
    )
    assert outcome.succeeded, outcome
    assert lookups == ["hooks.example.test"]
    (delivery,) = receiver.received
    assert delivery.headers["host"] == f"hooks.example.test:{receiver.port}"
    assert delivery.path == "/hooks?a=1"


def test_redirects_are_not_followed(receiver):
    receiver.plan = ["redirect"]
    outcome = sender.http_post(url=receiver.url, body=b"{}", headers={})
    assert outcome.status_code == 302 and not outcome.succeeded
    assert len(receiver.received) == 1


def test_a_huge_answer_is_read_up_to_the_cap_and_logged_to_1_kb(receiver):
    receiver.default = "big"
    outcome = sender.http_post(url=receiver.url, body=b"{}", headers={})
    assert outcome.succeeded
    assert len(outcome.excerpt) == 1024


def test_a_bad_webhook_key_stops_production_at_start_up():
    short = manage("check", env=process_env(WEBHOOK_SECRET_KEY="short"))
    assert short.returncode != 0 and "shorter than 32" in short.stderr
    same = manage("check", env=process_env(WEBHOOK_SECRET_KEY=process_env()["SECRET_KEY"]))
    assert same.returncode != 0 and "must not be SECRET_KEY" in same.stderr


def test_without_the_key_production_serves_but_webhooks_say_what_is_missing(db, settings):
    """No key: nothing to sign yet, so the deploy starts; adding an endpoint says why
    not, and once endpoints exist the start-up check (migrate) refuses."""
    assert manage("check", "--deploy", env=process_env(WEBHOOK_SECRET_KEY="")).returncode == 0
    settings.WEBHOOK_SECRET_KEY = []
    with pytest.raises(crypto.WebhooksNotConfigured, match="WEBHOOK_SECRET_KEY"):
        endpoint_create(url="http://127.0.0.1:9/x", event_types="*")
    assert checks.key_missing_with_endpoints() is None
    Endpoint.objects.create(url="http://127.0.0.1:9/x", event_types=["*"], secret_encrypted="x")
    (error,) = checks.webhook_key_present()
    assert error.id == "webhooks.E001" and "WEBHOOK_SECRET_KEY is not set" in error.msg


@pytest.mark.parametrize("url", ["http://169.254.169.254/", "http://[::1]:9/x"])
def test_production_settings_refuse_a_private_endpoint(url):
    """WEBHOOK_ALLOW_PRIVATE is off unless set: production settings keep the guard on."""
    result = manage("webhook_endpoint", "add", url, "--events", "*", env=process_env())
    assert result.returncode != 0
    assert "public addresses only" in result.stderr


def _tls_receiver(tmp_path, host: str):
    """A local HTTPS receiver whose certificate names `host`; returns (port, cert, stop)."""
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    key, cert = tmp_path / f"{host}.key", tmp_path / f"{host}.pem"
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.handle_error = lambda *args: None  # a refused handshake is the point
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1], cert, server.shutdown


def test_https_checks_the_urls_host_while_connecting_to_the_checked_address(tmp_path, monkeypatch):
    port, cert, stop = _tls_receiver(tmp_path, "localhost")
    try:
        url = f"https://localhost:{port}/hooks"
        untrusted = sender.http_post(url=url, body=b"{}", headers={})
        assert untrusted.status_code is None and "CERTIFICATE_VERIFY_FAILED" in untrusted.error
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust this receiver's certificate
        assert sender.http_post(url=url, body=b"{}", headers={}).status_code == 204
    finally:
        stop()
    port, cert, stop = _tls_receiver(tmp_path, "other.example")
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        outcome = sender.http_post(url=f"https://localhost:{port}/hooks", body=b"{}", headers={})
        assert outcome.status_code is None and "doesn't match" in outcome.error
    finally:
        stop()
