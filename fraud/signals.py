"""What the fraud room tells the rooms above it (rewards) without importing them."""

from django.dispatch import Signal

# Flags raised or opened again, sent inside flags_refresh's transaction with
# `touched`: a set of (inviter id, referral id or None).
flags_opened = Signal()
# Staff's verdict, sent inside flag_review's transaction with `flag`, `status`, `by`.
flag_reviewed = Signal()
