from dfazoo.data.root import (
    CorruptDatasetError,
    DatasetError,
    DatasetNotFoundError,
    cache_dir,
    data_root,
    is_offline,
    require_files,
)

__all__ = [
    "CorruptDatasetError",
    "DatasetError",
    "DatasetNotFoundError",
    "cache_dir",
    "data_root",
    "is_offline",
    "require_files",
]
