from django.contrib.auth.backends import ModelBackend


class StaffPasswordBackend(ModelBackend):
    """ModelBackend under its own name: a session it created was opened by a password
    (see core/staff.py)."""
