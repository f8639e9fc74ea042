"""The dashboard's data: JSON indexes in `$web` (index.py: `publish_job` is the one entry point the
reconciler calls) and the upload of the static site in dashboard/ (site.py)."""
from .index import DashboardIndex, IndexConflict, publish_changed, publish_job

__all__ = ["DashboardIndex", "IndexConflict", "publish_changed", "publish_job"]
