from dfazoo.data.root import DatasetNotFoundError, cache_dir, data_root, is_offline, require_files

__all__ = ["DatasetNotFoundError", "cache_dir", "data_root", "is_offline", "require_files"]
