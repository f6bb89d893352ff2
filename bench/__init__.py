"""The performance benchmark: data generator, baseline app and the runner (see README.md)."""
