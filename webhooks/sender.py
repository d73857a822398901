"""One HTTP POST of a signed message, to the address the SSRF guard checked.

No redirect is followed (a 3xx is a failure), the answer counts only if a 2xx
arrives within WEBHOOK_TIMEOUT_SECONDS of the start, and at most
RESPONSE_READ_CAP bytes of the body are read (the first 1 KB is logged).
"""

import time
from dataclasses import dataclass

import urllib3
from urllib3.exceptions import HTTPError

from core.admission import admission_leave
from webhooks.models import RESPONSE_EXCERPT_BYTES
from webhooks.ssrf import EndpointRefused, target_resolve

TIMEOUT_SECONDS = 10.0
RESPONSE_READ_CAP = 64 * 1024
USER_AGENT = "referral-webhooks/1"


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    latency_ms: int
    excerpt: str
    error: str

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300 and not self.error


def _pool(target_scheme: str, address: str, port: int, host: str, timeout: urllib3.Timeout):
    if target_scheme == "https":
        # Connect to the checked address; verify the certificate for the URL's host.
        return urllib3.HTTPSConnectionPool(
            address,
            port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            server_hostname=host,
            assert_hostname=host,
            cert_reqs="CERT_REQUIRED",
        )
    return urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False, maxsize=1)


def http_post(*, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    # Up to seconds waiting on someone else's server: a web request's turn goes to
    # the next in line meanwhile (core/admission.py; a no-op in the queue's workers).
    admission_leave()
    started = time.monotonic()

    def elapsed_ms() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = target_resolve(url)
    except EndpointRefused as error:
        return Outcome(None, elapsed_ms(), "", f"refused: {error.message}")
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if ":" not in target.host else f"[{target.host}]"
    if target.port != default_port:
        host_header = f"{host_header}:{target.port}"
    timeout = urllib3.Timeout(connect=min(5.0, TIMEOUT_SECONDS), read=TIMEOUT_SECONDS)
    pool = _pool(target.scheme, target.address, target.port, target.host, timeout)
    response = None
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={
                **headers,
                "Host": host_header,
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
            },
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        status = response.status
        content = b""
        deadline = started + TIMEOUT_SECONDS
        while len(content) < RESPONSE_READ_CAP and time.monotonic() < deadline:
            chunk = response.read(min(8192, RESPONSE_READ_CAP - len(content)))
            if not chunk:
                break
            content += chunk
        excerpt = content[:RESPONSE_EXCERPT_BYTES].decode("utf-8", errors="replace")
        if time.monotonic() > deadline:
            return Outcome(status, elapsed_ms(), excerpt, "timeout: no full answer in 10 s")
        error = ""
        if 300 <= status < 400:
            error = "redirect not followed"
        return Outcome(status, elapsed_ms(), excerpt, error)
    except (HTTPError, OSError) as error:
        kind = "timeout" if "timed out" in str(error).lower() else "connection"
        return Outcome(None, elapsed_ms(), "", f"{kind}: {type(error).__name__}: {error}"[:300])
    finally:
        if response is not None:
            response.release_conn()
            response.close()
        pool.close()
