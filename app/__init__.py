"""IQT Records API: the service of record for NHS Wales' Improving Quality Together programme."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("iqt-records-api")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"
