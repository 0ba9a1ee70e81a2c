"""Settings, read from the environment once.

``ARCHIVE_HOME`` (default ``./var``) holds the embedded defaults: the SQLite database
``archive.sqlite3`` and the content-addressed file store ``objects/``.
``ARCHIVE_DATABASE_URL`` switches to PostgreSQL (``postgresql+psycopg://…``) and
``ARCHIVE_STORAGE_URL`` to S3 (``s3://bucket/prefix?endpoint=http://127.0.0.1:8333``;
credentials come from the usual ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``).
``ARCHIVE_SECRET_KEY`` signs the web session cookies (default: a random key kept in
``ARCHIVE_HOME/secret_key``); cookies are ``Secure`` unless ``ARCHIVE_INSECURE_COOKIES=1``
(plain-HTTP development on loopback). ``ARCHIVE_TSA_PASSPHRASE`` opens the school TSA key.
``ARCHIVE_TSA_URL`` sends timestamp requests to an external RFC 3161 service instead of the
school's own TSA (its root must then be trusted by whoever verifies).
``ARCHIVE_VERIFY_MAX_AGE_HOURS`` (default 24): the document page shows a verification of
the document's current bytes up to this old instead of verifying again (0: every view).
``ARCHIVE_RETENTION_JOURNAL_YEARS`` (default 5) and ``ARCHIVE_RETENTION_SUMMARY_YEARS``
(default 75): the school's terms for full journal copies and summary sheets (seed 004, 4.2;
other schools' regulations give e.g. 25 years for the summary sheets).
``ARCHIVE_FIXITY_CYCLE_DAYS`` (default 14): every stored object re-hashed within this cycle.
``ARCHIVE_IMPORT_ROOT``: the folder where each school's e-journal drops its exports, one
sub-folder per school code (``archive close-period`` imports from there first; a school's own
``import_source`` setting overrides it). ``ARCHIVE_BACKUP_TARGET`` (default
``ARCHIVE_HOME/backups``): where a close and the daily schedule make the encrypted backup.
``ARCHIVE_WORKER_HEARTBEAT_SECONDS`` (default 10): how often a worker reports it is alive; a
worker silent for three heartbeats is taken as dead and its task goes to another worker.
``ARCHIVE_WEB_DISPATCH`` (default ``inline``): who does the snapshot and render work a
person starts in the web — ``inline``: a background thread of the web process that took the
request (the embedded default, one school); ``queue``: the PostgreSQL task queue of the
``archive worker`` processes (a region).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Resolved configuration of one service instance."""

    home: Path
    database_url: str
    storage_url: str
    tsa_url: str | None = None
    tsa_passphrase: str | None = None
    secret_key: str | None = None
    secure_cookies: bool = True
    verify_max_age_hours: float = 24.0
    retention_journal_years: int = 5
    retention_summary_years: int = 75
    fixity_cycle_days: int = 14
    import_root: Path | None = None
    backup_target: str | None = None
    worker_heartbeat_seconds: float = 10.0
    web_dispatch: str = "inline"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Build settings from environment variables, applying the embedded defaults."""
        env = dict(os.environ if env is None else env)
        home = Path(env.get("ARCHIVE_HOME", "./var")).resolve()
        database_url = env.get("ARCHIVE_DATABASE_URL") or f"sqlite:///{home / 'archive.sqlite3'}"
        storage_url = env.get("ARCHIVE_STORAGE_URL") or f"file://{home / 'objects'}"
        return cls(home=home, database_url=database_url, storage_url=storage_url,
                   tsa_url=env.get("ARCHIVE_TSA_URL") or None,
                   tsa_passphrase=env.get("ARCHIVE_TSA_PASSPHRASE") or None,
                   secret_key=env.get("ARCHIVE_SECRET_KEY") or None,
                   secure_cookies=env.get("ARCHIVE_INSECURE_COOKIES") != "1",
                   verify_max_age_hours=_hours(env, "ARCHIVE_VERIFY_MAX_AGE_HOURS", 24.0),
                   retention_journal_years=_years(env, "ARCHIVE_RETENTION_JOURNAL_YEARS", 5),
                   retention_summary_years=_years(env, "ARCHIVE_RETENTION_SUMMARY_YEARS", 75),
                   fixity_cycle_days=_years(env, "ARCHIVE_FIXITY_CYCLE_DAYS", 14),
                   import_root=Path(env["ARCHIVE_IMPORT_ROOT"]).resolve()
                   if env.get("ARCHIVE_IMPORT_ROOT") else None,
                   backup_target=env.get("ARCHIVE_BACKUP_TARGET") or None,
                   worker_heartbeat_seconds=_hours(env, "ARCHIVE_WORKER_HEARTBEAT_SECONDS", 10.0,
                                                   "секунд"),
                   web_dispatch=_choice(env, "ARCHIVE_WEB_DISPATCH", ("inline", "queue")))

    def ensure_home(self) -> None:
        """Create ARCHIVE_HOME when the embedded SQLite database lives there."""
        if self.database_url.startswith("sqlite:///") or self.storage_url.startswith("file://"):
            self.home.mkdir(parents=True, exist_ok=True)


def _choice(env: dict[str, str], name: str, choices: tuple[str, ...]) -> str:
    raw = env.get(name) or choices[0]
    if raw not in choices:
        from archive_service.errors import ConfigError

        raise ConfigError(f"{name}={raw!r}: допустимо {' или '.join(choices)}.")
    return raw


def _hours(env: dict[str, str], name: str, default: float, unit: str = "часов") -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        from archive_service.errors import ConfigError

        raise ConfigError(f"{name} должно быть числом {unit} не меньше 0, а не «{raw}».")
    return value


def _years(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        from archive_service.errors import ConfigError

        raise ConfigError(f"{name}={raw!r}: ожидается целое положительное число (например 5).")
    return int(raw)
