"""Sign-in as one requester, for the tests of auth_flow's services."""

from django.conf import settings

from auth_flow.errors import ChallengeThrottled
from auth_flow.services import SignIn, challenge_issue, challenge_verify
from auth_flow.sms import BaseBackend, ProviderError, SendResult

IP = "203.0.113.7"


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10_000:04d}"


def issue(phone: str, outbox: list, ip: str = IP, **requester: str) -> tuple[str, str]:
    """Ask for a code as one requester: the code from the SMS and the challenge token."""
    issued = challenge_issue(phone=phone, ip=ip, **requester)
    return outbox[-1].code, issued.challenge


def verify(phone: str, code: str, challenge: str, ip: str = IP) -> SignIn:
    return challenge_verify(phone=phone, code=code, challenge=challenge, ip=ip)


class DownBackend(BaseBackend):
    name = "down"

    def send(self, *, phone: str, text: str, code: str) -> SendResult:
        raise ProviderError(self.name, "down")


def fill_the_phones_day(phone: str, outbox: list, age_challenges) -> None:
    """Strangers ask for every code the phone's shared budget allows today."""
    for index in range(settings.OTP_PHONE_DAILY):
        age_challenges(phone, 3600 / settings.OTP_PHONE_HOURLY * 1.01)
        try:
            issue(phone, outbox, ip=f"198.51.100.{index + 1}")
        except ChallengeThrottled as limited:
            assert limited.code == "phone_daily_limit"
            return
    age_challenges(phone, 3600)
