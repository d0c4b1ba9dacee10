"""fakeecs: an in-memory Huawei Cloud ECS (OpenStack Nova) for tests."""
__version__ = "0.1.0"
