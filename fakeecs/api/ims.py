"""Huawei-native APIs (IMS, ECS cloudservers, EVS cloudsnapshots, IAM projects, AK/SK).

``create_app`` loads this module if it exists; the routes live in
:mod:`fakeecs.api.huawei`.
"""

from .huawei import register  # noqa: F401
