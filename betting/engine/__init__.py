"""The odds engine: pure functions, no Django import, so it can be tested and benchmarked alone."""
