"""REDCap exports as a trial dataset: the data dictionary, the records and a mapping file.

REDCap describes a project in its *data dictionary* (one row per field: its name, form, type,
label and choices) and exports the records as one CSV in one of two forms: **raw** (field
names as headers, choice codes as values) or **labels** (field labels as headers, choice
labels as values). A checkbox field exports one column per choice (``field___code``, 1/0 or
Checked/Unchecked). Nightly diaries arrive as a repeating instrument (the columns
``redcap_repeat_instrument`` and ``redcap_repeat_instance``) or as the events of a
longitudinal project (``redcap_event_name``, e.g. ``night_1_arm_1``); both work the same here,
because every part of the dataset is read from the rows where its anchor field has a value:
the diary from the rows with a diary date, the end-of-visit answers from the rows with a
visit date, and so on.

The mapping file (TOML, validated by `RedcapMapping`) says which REDCap field holds what: the
record id, the site, the randomization group (and which group is which sequence of the
protocol), the dates and status, each diary item (with a linear rescaling when the REDCap
scale differs), each side effect, the visit answers, the dose levels and the adverse events.
The planned schedule (``periods``) is not in REDCap: it follows from the protocol, the first
baseline day and the sequence, as the simulator and the live system make it.

Everything wrong is collected as `RedcapProblem` (file, line, record, field, what is wrong) and
raised together as `RedcapError`. Pure: no Django.

What is where, in the order the import runs:

- `problems`: `RedcapProblem`, `RedcapError`, `MAX_PROBLEMS`, and the list problems are
  collected in;
- `files`: a file's text (UTF-8, a byte-order mark dropped) and its CSV rows with their lines;
- `dictionary`: the data dictionary (`read_data_dictionary`): fields, forms, types, choices;
- `records`: the records export (`read_records`), raw or labels, repeating or longitudinal,
  as rows of raw codes;
- `mapping`: the mapping file's model (`RedcapMapping`), `load_mapping`, and `check_mapping`
  against the dictionary and the protocol;
- `values`: a row's mapped fields read as dates, instants, numbers, flags and dataset codes;
- `tables`: the dataset's tables as they are built, each row with its REDCap line, and the
  dataset's own checks traced back to those lines;
- `build`: the dataset itself (`redcap_dataset`, `import_redcap`): participants, schedule,
  diary, visit answers, doses and adverse events.
"""

from diarytrial.interop.redcap.build import (
    RedcapExport,
    import_redcap,
    read_redcap_export,
    redcap_dataset,
)
from diarytrial.interop.redcap.dictionary import DataDictionary, RedcapField, read_data_dictionary
from diarytrial.interop.redcap.mapping import RedcapMapping, check_mapping, load_mapping
from diarytrial.interop.redcap.problems import MAX_PROBLEMS, RedcapError, RedcapProblem
from diarytrial.interop.redcap.records import RecordRow, RedcapRecords, read_records
from diarytrial.interop.redcap.tables import GENERATOR

__all__ = [
    "GENERATOR",
    "MAX_PROBLEMS",
    "DataDictionary",
    "RecordRow",
    "RedcapError",
    "RedcapExport",
    "RedcapField",
    "RedcapMapping",
    "RedcapProblem",
    "RedcapRecords",
    "check_mapping",
    "import_redcap",
    "load_mapping",
    "read_data_dictionary",
    "read_records",
    "read_redcap_export",
    "redcap_dataset",
]
