"""stream.topics: the partitioner every producer of Amur's must agree with."""

from __future__ import annotations

import pytest
from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from hypothesis import given
from hypothesis import strategies as st

from stream.topics import murmur2, partition_for


# Kafka's own test vectors for its default partitioner's hash
# (clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java, testMurmur2).
@pytest.mark.parametrize(("key", "java_int"), [("21", -973932308), ("foobar", -790332482),
                                               ("a-little-bit-long-string", -985981536), ("abc", 479470107)])
def test_partitioner_matches_kafka(key: str, java_int: int) -> None:
    assert partition_for(key, 1 << 31) == java_int & 0x7FFFFFFF


@given(st.binary(max_size=64))
def test_murmur2_is_the_kafka_clients_own(data: bytes) -> None:
    assert murmur2(data) == aiokafka_murmur2(data) & 0xFFFFFFFF
