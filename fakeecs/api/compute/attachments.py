"""Nova volume attachments: ``/servers/{id}/os-volume_attachments`` (Queens).

The rules (states, lock, device names, Cinder's status checks) are the storage
room's :meth:`~fakeecs.model.storage.StorageMixin.attach_volume` and
:meth:`~fakeecs.model.storage.StorageMixin.detach_volume`; these views only parse
and render.
"""

import re
import uuid

from flask import Response, g, jsonify
from marshmallow import fields

from ..auth import cloud
from ..jsonbody import json_body
from ..params import int_param, malformed, validated
from . import route
from .validation import NovaError, NovaSchema, NovaString, invalid

#: Nova's ``device`` pattern (schemas/volumes.py), as jsonschema quotes it
DEVICE_PATTERN = "(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$"
TAG_PATTERN = "^[^,/]*$"
#: compute microversions that change this API
SHELVED_ATTACH_VERSION = (2, 20)
TAG_VERSION = (2, 49)


class VolumeId(fields.Field):
    """``volumeId``: a string in jsonschema's ``uuid`` format."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise NovaError(invalid("volumeId", value, f"{value!r} is not of type 'string'"))
        try:
            uuid.UUID(value)
        except ValueError:
            raise NovaError(invalid("volumeId", value, f"{value!r} is not a 'uuid'")) from None
        return value


class Pattern(NovaString):
    """A string (or null) matching a jsonschema ``pattern``."""

    def __init__(self, pattern, **kwargs):
        super().__init__(**kwargs)
        self.pattern = pattern
        self.regex = re.compile(pattern)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if value is not None and not self.regex.search(value):
            raise NovaError(
                invalid(self.data_key or attr, value, f"{value!r} does not match {self.pattern!r}")
            )
        return value


class Attachment(NovaSchema):
    """``volumeAttachment`` of the create request, below 2.49 (no ``tag``)."""

    nova_name = "volumeAttachment"
    nova_required = ("volumeId",)
    volumeId = VolumeId()
    device = Pattern(DEVICE_PATTERN, nullable=True)


class TaggedAttachment(Attachment):
    """From 2.49 an attachment may carry a ``tag`` (1..60 characters, no ``,`` or ``/``)."""

    tag = Pattern(TAG_PATTERN, min_length=1, max_length=60)


class AttachmentBody(NovaSchema):
    nova_name = "body"
    nova_required = ("volumeAttachment",)
    volumeAttachment = fields.Raw()


ATTACHMENT, TAGGED_ATTACHMENT, BODY = Attachment(), TaggedAttachment(), AttachmentBody()


def attachment_view(server_id, entry, *, keep_empty_device=False):
    """Nova's attachment object: ``id`` is the volume id; no empty ``device`` in show/list."""
    body = {"id": entry["volume_id"], "serverId": server_id, "volumeId": entry["volume_id"]}
    if entry.get("device_name") or keep_empty_device:
        body["device"] = entry.get("device_name") or None
    return body


def _allow_shelved():
    return g.version >= SHELVED_ATTACH_VERSION


@route("/servers/<server_id>/os-volume_attachments", methods=["GET"])
def list_volume_attachments(project_id, server_id):
    limit, offset = int_param("limit"), int_param("offset") or 0
    entries = cloud().list_volume_attachments(g.context, server_id)
    entries = entries[offset:] if limit is None else entries[offset : offset + limit]
    return jsonify({"volumeAttachments": [attachment_view(server_id, e) for e in entries]})


@route("/servers/<server_id>/os-volume_attachments/<volume_id>", methods=["GET"])
def show_volume_attachment(project_id, server_id, volume_id):
    entry = cloud().get_volume_attachment(g.context, server_id, volume_id)
    return jsonify({"volumeAttachment": attachment_view(server_id, entry)})


@route("/servers/<server_id>/os-volume_attachments", methods=["POST"])
def attach_volume(project_id, server_id):
    outer = validated(BODY, json_body(malformed))
    schema = TAGGED_ATTACHMENT if g.version >= TAG_VERSION else ATTACHMENT
    spec = validated(schema, outer["volumeAttachment"])
    entry = cloud().attach_volume(
        g.context,
        server_id,
        spec["volumeId"],
        spec.get("device"),
        allow_shelved=_allow_shelved(),
        tag=spec.get("tag"),
    )
    return jsonify({"volumeAttachment": attachment_view(server_id, entry, keep_empty_device=True)})


@route("/servers/<server_id>/os-volume_attachments/<volume_id>", methods=["DELETE"])
def detach_volume(project_id, server_id, volume_id):
    cloud().detach_volume(g.context, server_id, volume_id, allow_shelved=_allow_shelved())
    return Response(status=202)
