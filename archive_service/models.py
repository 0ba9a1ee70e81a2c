"""Imports every model module so that the metadata knows all tables (for Alembic)."""

from archive_service.accounts import models as accounts_models  # noqa: F401
from archive_service.audit import models as audit_models  # noqa: F401
from archive_service.backups import models as backups_models  # noqa: F401
from archive_service.closing import models as closing_models  # noqa: F401
from archive_service.disposition import models as disposition_models  # noqa: F401
from archive_service.fixity import models as fixity_models  # noqa: F401
from archive_service.journals import models as journals_models  # noqa: F401
from archive_service.register import models as register_models  # noqa: F401
from archive_service.rendering import models as rendering_models  # noqa: F401
from archive_service.signatures import models as signatures_models  # noqa: F401
from archive_service.snapshots import models as snapshots_models  # noqa: F401
