"""Pure polars transforms: DataFrame in, DataFrame(s) out; no I/O."""
