"""The data-element standard as JSON: GET /api/v1/standards/elements/?q=&page=."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, serializers

from .forms import ElementSearchForm
from .models import DataElement
from .selectors import element_search


class DataElementSerializer(serializers.ModelSerializer):
    class Meta:
        model = DataElement
        fields = ["identifier", "name", "english_name", "version", "status", "data_type", "format"]


@extend_schema(
    parameters=[
        OpenApiParameter(
            "q", str, description="Words of the identifier, name, English name, pinyin or synonyms"
        ),
        OpenApiParameter("status", str, enum=list(DataElement.Status.values)),
        OpenApiParameter("data_type", str, description="C, N, Y, D, T, L, M, G, B, I or F"),
        OpenApiParameter("classification", str),
        OpenApiParameter("include_superseded", bool, description="Also list superseded versions"),
    ]
)
class DataElementList(generics.ListAPIView):
    """Data elements matching a search: the latest version of each, by identifier."""

    serializer_class = DataElementSerializer
    permission_classes = [permissions.AllowAny]
    filter_backends: list = []

    def get_queryset(self):
        form = ElementSearchForm(self.request.query_params or None)
        return element_search(form.to_query())
