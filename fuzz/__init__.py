"""The codec fuzzer (``fuzz_codec.py``) and its corpus (``corpus/``), replayed by the tests."""
