"""REST endpoints: the public organization directory and the caller's own account."""

from django_filters import rest_framework as filters
from rest_framework import permissions, serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors
from .models import Organization, User
from .roles import user_roles


class OrganizationSerializer(serializers.ModelSerializer):
    division_code = serializers.CharField(source="division.code", read_only=True)
    division_name = serializers.CharField(source="division.name", read_only=True)
    parent = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "short_name",
            "kind",
            "credit_code",
            "division_code",
            "division_name",
            "parent",
        ]


class OrganizationFilter(filters.FilterSet):
    q = filters.CharFilter(method="search", label="Search by name or credit code")
    division = filters.CharFilter(field_name="division__code", label="GB/T 2260 division code")

    class Meta:
        model = Organization
        fields = ["kind", "division"]

    def search(self, queryset, name, value):
        return queryset.filter(name__icontains=value) | queryset.filter(
            credit_code__icontains=value
        )


class OrganizationViewSet(viewsets.ReadOnlyModelViewSet):
    """The public directory of organizations."""

    serializer_class = OrganizationSerializer
    permission_classes = [permissions.AllowAny]
    filterset_class = OrganizationFilter

    def get_queryset(self):
        return selectors.organization_directory()


class MeSerializer(serializers.ModelSerializer):
    organization = OrganizationSerializer(read_only=True)
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "email", "organization", "roles"]

    def get_roles(self, obj) -> list[str]:
        return sorted(user_roles(obj))


class MeView(APIView):
    """The authenticated caller's account, organization and roles."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = MeSerializer

    def get(self, request):
        user = User.objects.select_related("organization__division").get(pk=request.user.pk)
        return Response(MeSerializer(user).data)
