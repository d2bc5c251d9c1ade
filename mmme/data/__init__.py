"""The data model: annotations, streams, clocks and the on-disk store."""
