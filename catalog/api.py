"""The public catalog search as JSON: GET /api/v1/catalog/resources/?q=&page=."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, serializers

from .forms import CatalogSearchForm
from .models import CatalogEntry
from .selectors import catalog_entries


class CatalogEntrySerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="resource_id")
    provider = serializers.CharField(source="provider_name")
    grade = serializers.CharField(source="grade.code")
    classification = serializers.CharField(source="classification.name")

    class Meta:
        model = CatalogEntry
        fields = [
            "id",
            "code",
            "name",
            "summary",
            "provider",
            "division_code",
            "classification",
            "share_type",
            "open_type",
            "grade",
            "update_cycle",
            "published_at",
        ]


@extend_schema(
    parameters=[
        OpenApiParameter(
            "q", str, description="Search text (Chinese words of two or more characters)"
        ),
        OpenApiParameter("provider", int),
        OpenApiParameter("division", str, description="GB/T 2260 district code"),
        OpenApiParameter("classification", int),
        OpenApiParameter("share_type", str, enum=["unconditional", "conditional", "none"]),
        OpenApiParameter("open_type", str, enum=["unconditional", "conditional", "none"]),
        OpenApiParameter("grade", int),
        OpenApiParameter("update_cycle", str),
    ]
)
class CatalogResourceList(generics.ListAPIView):
    """Published catalog resources matching a search, best match first: the open catalog
    for anonymous callers and outside users, the whole published catalog for people of
    public bodies."""

    serializer_class = CatalogEntrySerializer
    permission_classes = [permissions.AllowAny]
    filter_backends: list = []

    def get_queryset(self):
        form = CatalogSearchForm(self.request.query_params or None)
        return catalog_entries(form.to_query(), viewer=self.request.user).select_related(
            "grade", "classification"
        )
