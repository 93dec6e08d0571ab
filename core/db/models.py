"""Imports every domain's models so Base.metadata is complete (for Alembic and tests)."""

from core.accounts import models as accounts_models  # noqa: F401
from core.audit import models as audit_models  # noqa: F401
from core.backups import models as backups_models  # noqa: F401
from core.auth import models as auth_models  # noqa: F401
from core.mail import models as mail_models  # noqa: F401
from core.tickets import models as tickets_models  # noqa: F401
from core.monitoring import models as monitoring_models  # noqa: F401
from core.sla import models as sla_models  # noqa: F401
from core.feedback import models as feedback_models  # noqa: F401
from core.flags import models as flags_models  # noqa: F401
from core.channels import models as channels_models  # noqa: F401
from core.releases import models as releases_models  # noqa: F401
from core.loop import models as loop_models  # noqa: F401
from core.rollups import models as rollups_models  # noqa: F401
