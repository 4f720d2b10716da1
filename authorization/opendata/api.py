"""The anonymous open-data API under /api/v1/open/: the list (search and filters as the
page), a resource with its public items, licence and files, and the downloads. Throttled per
client address with a rate of its own (`open_data`, API_THROTTLE_OPEN_DATA)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import CatalogEntry
from wuhan_pdr.kernel.throttling import AnonRateThrottle, client_ip

from . import selectors
from .forms import OpenSearchForm
from .views import file_response


class OpenDataThrottle(AnonRateThrottle):
    """Every caller of the open-data API, signed in or not, per client address."""

    scope = "open_data"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request) or "unknown"}


class OpenAPIView:
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    throttle_classes = [OpenDataThrottle]


class LicenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    url = serializers.CharField()


class FileSerializer(serializers.Serializer):
    format = serializers.CharField()
    rows = serializers.IntegerField()
    size = serializers.IntegerField()
    built_at = serializers.DateTimeField()
    downloads = serializers.IntegerField()
    url = serializers.SerializerMethodField()

    def get_url(self, obj) -> str:
        return f"/api/v1/open/resources/{obj.dataset.resource_id}/download/{obj.format}/"


class OpenEntrySerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="resource_id")
    provider = serializers.CharField(source="provider_name")
    classification = serializers.CharField(source="classification.name")
    format = serializers.CharField(source="version.format")
    licence = serializers.SerializerMethodField()

    class Meta:
        model = CatalogEntry
        fields = ["id", "code", "name", "summary", "provider", "classification", "format"]
        fields += ["update_cycle", "published_at", "licence"]

    def get_licence(self, obj) -> dict | None:
        dataset = getattr(obj.resource, "open_dataset", None)
        return LicenceSerializer(dataset.licence).data if dataset else None


@extend_schema(
    parameters=[
        OpenApiParameter("q", str, description="Search text"),
        OpenApiParameter("provider", int),
        OpenApiParameter("classification", int),
        OpenApiParameter("resource_format", str),
        OpenApiParameter("licence", int),
    ]
)
class OpenResourceList(OpenAPIView, generics.ListAPIView):
    """Open-data resources (open unconditionally, data loaded), best match first."""

    serializer_class = OpenEntrySerializer
    filter_backends: list = []

    def get_queryset(self):
        form = OpenSearchForm(self.request.query_params or None)
        return selectors.open_entry_rows(selectors.open_entries(form.to_query()))


class OpenResourceDetail(OpenAPIView, APIView):
    """An open-data resource: its public items, licence and files."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk: int):
        resource = selectors.open_resource(pk)
        version = resource.published_version
        dataset = getattr(resource, "open_dataset", None)
        return Response(
            {
                "id": resource.pk,
                "code": resource.code,
                "name": version.name,
                "summary": version.summary,
                "provider": resource.provider.name,
                "update_cycle": version.update_cycle,
                "items": [
                    {"name": i.name, "column": i.english_name, "data_type": i.data_type}
                    for i in selectors.open_items(resource)
                ],
                "licence": LicenceSerializer(dataset.licence).data if dataset else None,
                "files": FileSerializer(selectors.open_files(resource), many=True).data,
            }
        )


class OpenResourceDownload(OpenAPIView, APIView):
    """A built file of an open-data resource (csv, xlsx or json), streamed."""

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, pk: int, fmt: str):
        return file_response(request, selectors.open_resource(pk), fmt)
