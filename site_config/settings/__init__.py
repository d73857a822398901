"""Settings for the referral service, one module per concern, read from the environment.

`site_config.settings` stays the entry Django loads; each module below reads its
own variables (every one is listed in .env.example, and a test keeps it so).
"""

from site_config.settings.api import *  # noqa: F403
from site_config.settings.base import *  # noqa: F403, I001 - the order matters
from site_config.settings.database import *  # noqa: F403
from site_config.settings.environment import *  # noqa: F403
from site_config.settings.fraud import *  # noqa: F403
from site_config.settings.members import *  # noqa: F403
from site_config.settings.metrics import *  # noqa: F403
from site_config.settings.queue import *  # noqa: F403
from site_config.settings.security import *  # noqa: F403
from site_config.settings.sign_in import *  # noqa: F403
from site_config.settings.webhooks import *  # noqa: F403
