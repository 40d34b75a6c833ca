from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from companion.errors import S3LocationError
from companion.s3uri import S3Location, key_segment, parse_s3_uri


def test_a_uri_in_the_bucket_and_prefix_parses() -> None:
    location = parse_s3_uri("s3://my-bucket/offload/responses/x.json", where="f", bucket="my-bucket", prefix="offload/")
    assert location == S3Location("my-bucket", "offload/responses/x.json")
    assert location.uri == "s3://my-bucket/offload/responses/x.json"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "expected an s3://bucket/key URI"),
        (42, "expected an s3://bucket/key URI"),
        ("https://my-bucket.s3.amazonaws.com/offload/x", "expected an s3://bucket/key URI"),
        ("s3://my-bucket", "malformed"),
        ("s3://My_Bucket/offload/x", "malformed"),
        ("s3://other-bucket/offload/x.json", "outside the configured bucket"),
        ("s3://my-bucket/private/x.json", "outside the allowed prefix"),
        ("s3://my-bucket/offload/../private/x.json", "outside the allowed prefix"),
    ],
)
def test_uris_elsewhere_are_refused_before_any_request(value: object, reason: str) -> None:
    with pytest.raises(S3LocationError, match=reason) as caught:
        parse_s3_uri(value, where="output_s3_uri", bucket="my-bucket", prefix="offload/")
    assert str(caught.value).startswith("output_s3_uri: ")


def test_safe_names_are_kept_as_they_are() -> None:
    assert key_segment("chain-2026_11.25") == "chain-2026_11.25"


@given(st.text(min_size=1, max_size=80), st.text(min_size=1, max_size=80))
def test_distinct_names_never_share_a_segment(first: str, second: str) -> None:
    # Distinct execution or step names must map to distinct keys, or one execution would overwrite another's body.
    if first != second:
        assert key_segment(first) != key_segment(second)
    for segment in (key_segment(first), key_segment(second)):
        assert "/" not in segment
        assert segment not in {".", ".."}
