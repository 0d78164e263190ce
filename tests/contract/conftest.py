from sync.conftest import make_world, world  # noqa: F401 - the engine-in-one-line fixtures, for the probe
