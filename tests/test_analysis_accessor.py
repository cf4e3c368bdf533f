"""``df.audit``: the analysis functions as methods an editor can see, on audit-log frames only."""

from __future__ import annotations

import inspect

import pandas as pd
import pytest
from helpers import SAMPLE_ENTRIES, frame

import auditlab.analysis as analysis
from auditlab.analysis.accessor import COLUMNS_READ, AuditAccessor

SAMPLE = frame(SAMPLE_ENTRIES)


@pytest.mark.parametrize("name", analysis.__all__)
def test_every_method_is_defined_on_the_class_with_its_functions_signature(name):
    assert name in vars(AuditAccessor)
    function = getattr(analysis, name)
    method = getattr(SAMPLE.audit, name)
    assert method.__doc__ == function.__doc__
    assert list(inspect.signature(method).parameters) == list(
        inspect.signature(function).parameters
    )[1:]


def test_a_frame_without_the_columns_the_analysis_reads_has_no_audit_attribute():
    other = pd.DataFrame({"created_at": [], "action": []})
    with pytest.raises(AttributeError, match="lacks the columns id, org_id, action_category"):
        other.audit  # noqa: B018
    assert not hasattr(other, "audit")


@pytest.mark.parametrize("name", analysis.__all__)
def test_the_columns_the_accessor_asks_for_are_all_any_method_needs(name):
    narrow = SAMPLE[list(COLUMNS_READ)]
    result, expected = getattr(narrow.audit, name)(), getattr(analysis, name)(SAMPLE)
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(result, expected)
    else:
        assert result.to_json() == expected.to_json()
