"""``azureml.data.dataset_factory``: the header behaviours of ``Dataset.Tabular.from_delimited_files``."""

from enum import IntEnum


class PromoteHeadersBehavior(IntEnum):
    """Whether the files' first lines are column names (any value but NO_HEADERS means yes here)."""

    NO_HEADERS = 0
    ONLY_FIRST_FILE_HAS_HEADERS = 1
    COMBINE_ALL_FILES_HEADERS = 2
    ALL_FILES_HAVE_SAME_HEADERS = 3
