import pytest

from profiles.models import User


@pytest.fixture
def operator(db: None) -> User:
    """A staff member who gives flags their verdicts."""
    return User.objects.create_user("+79990000001", "a-long-operator-password", is_staff=True)
