"""Model folders a user brings: find, fetch, verify and size the official Jukebox files. Qt-free.

See docs/MODELS.md for the folder layout and the manifest schema.
"""

from studio.modelstore.catalog import DEFAULT_BASE_URL, IDS_BASE_URL, FileSpec, official_files
from studio.modelstore.download import (
    DownloadProgress, DownloadResult, accept_licence, download_model, licence_accepted,
)
from studio.modelstore.errors import (
    ChecksumError, DiskSpaceError, DownloadCancelled, DownloadError, DownloadInterrupted, InsufficientMemoryError,
    LicenceNotAccepted, ManifestError, ModelStoreError, OfflineError, UnknownModelError,
)
from studio.modelstore.licence import LICENCE_TEXT, LICENCE_URL
from studio.modelstore.manifest import FileEntry, Manifest, ModelCheck, Status, check_folder
from studio.modelstore.store import (
    ENV_VAR, ModelEntry, Settings, default_models_dir, discover, find_model, repo_models_dir, set_mirror,
)
from studio.modelstore.transfer import FetchResult, fetch_file

__all__ = [
    "DEFAULT_BASE_URL", "IDS_BASE_URL", "FileSpec", "official_files", "DownloadProgress", "DownloadResult",
    "accept_licence", "download_model", "licence_accepted", "ChecksumError", "DiskSpaceError", "DownloadCancelled",
    "DownloadError", "DownloadInterrupted", "InsufficientMemoryError", "LicenceNotAccepted", "ManifestError",
    "ModelStoreError", "OfflineError", "UnknownModelError", "LICENCE_TEXT", "LICENCE_URL", "FileEntry", "Manifest",
    "ModelCheck", "Status", "check_folder", "ENV_VAR", "ModelEntry", "Settings", "default_models_dir", "discover",
    "find_model", "repo_models_dir", "set_mirror", "FetchResult", "fetch_file",
]
